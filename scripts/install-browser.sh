#!/usr/bin/env bash
# Installs Debian's Chromium (and chromedriver) for the chat widget's browser test
# (tests/e2e/test_widget.py) when /usr/bin/chromium is missing. Playwright drives this
# Chromium; its own browser downloads (`playwright install`) are not used.
#
# Needs apt-get and root (or sudo). Under CI=true a failure is an error, because the
# browser test must run there; elsewhere it warns and the browser test is skipped.
set -euo pipefail

CHROMIUM=/usr/bin/chromium
PACKAGES=(chromium chromium-driver fonts-liberation fonts-dejavu-core)

if [ -x "$CHROMIUM" ]; then
  echo "==> $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM") is installed"
  exit 0
fi

fail() {
  echo "install-browser: $*" >&2
  if [ "${CI:-}" = "true" ]; then
    exit 1
  fi
  echo "install-browser: the widget's browser test will be skipped (it fails under CI=true)." >&2
  exit 0
}

command -v apt-get >/dev/null 2>&1 || fail "no apt-get here; install Chromium at $CHROMIUM by hand"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    fail "not root and no password-less sudo; run: sudo apt-get install ${PACKAGES[*]}"
  fi
fi

echo "==> Installing ${PACKAGES[*]} with apt-get"
"${sudo[@]}" apt-get update -q || fail "apt-get update failed"
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${PACKAGES[@]}" \
  || fail "apt-get install failed"
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is still missing after apt-get"
echo "==> $("$CHROMIUM" --version) installed"
