"""The faces of dxshare: command line, HTTP service, persistence, access and the web page."""
