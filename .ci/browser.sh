#!/usr/bin/env bash
# CI: install Debian's headless Chromium, its WebDriver and a CJK font for the dashboard's
# browser tests (tests/web/), when missing. Prints nothing on stdout; progress goes to stderr.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if ! fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  need+=(fonts-noto-cjk)
fi
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q >&2
  $sudo apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi
