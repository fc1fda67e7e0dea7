#!/usr/bin/env sh
# Debian's Chromium for the end-to-end browser tests (tests/e2e, driven by Playwright): installed
# with apt when missing, as root or through password-less sudo. Never fails the build: without a
# browser the e2e tests skip and say why.
set -u
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "ensure_chromium: chromium is not installed and neither root nor password-less sudo is available;" \
         "the browser tests (tests/e2e) will be skipped. Install it with: sudo apt-get install chromium" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: no apt-get here; install Chromium at /usr/bin/chromium to run tests/e2e" >&2
    exit 0
fi
echo "ensure_chromium: installing Debian's chromium for the browser tests"
if ! { $SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }; then
    echo "ensure_chromium: apt-get could not install chromium; the browser tests (tests/e2e) will be skipped" >&2
fi
exit 0
