"""The HTTP API: typed dependencies (``deps``), middleware, representations (``views``) and
one router per resource under ``routes``."""
