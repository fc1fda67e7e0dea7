#!/usr/bin/env sh
# Debian packages the tests use, installed with apt when missing, as root or through password-less
# sudo: `sh scripts/ensure_apt.sh COMMAND=PACKAGE...` installs PACKAGE when COMMAND is not on PATH
# (chromium for tests/e2e, redis-server for the Redis-backed hub's tests). Never fails the build:
# the tests that need a missing one skip and say why.
set -u
missing=""
for pair in "$@"; do
    command -v "${pair%%=*}" >/dev/null 2>&1 || missing="$missing ${pair#*=}"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "ensure_apt:$missing not installed and neither root nor password-less sudo is available;" \
         "the tests that need them will be skipped. Install with: sudo apt-get install$missing" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_apt: no apt-get here; install$missing to run the tests that need them" >&2
    exit 0
fi
echo "ensure_apt: installing Debian's$missing for the tests"
# shellcheck disable=SC2086 # one word per package
if ! { $SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; }; then
    echo "ensure_apt: apt-get could not install$missing; the tests that need them will be skipped" >&2
fi
exit 0
