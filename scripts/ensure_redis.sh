#!/usr/bin/env sh
# Debian's redis-server for the tests of the hub's Redis-backed state (each test starts its own
# server on a free port): installed with apt when missing, as root or through password-less sudo.
# Never fails the build: without it those tests skip and say why.
set -u
if command -v redis-server >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "ensure_redis: redis-server is not installed and neither root nor password-less sudo is available;" \
         "the Redis tests will be skipped. Install it with: sudo apt-get install redis-server" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_redis: no apt-get here; install redis-server to run the Redis tests" >&2
    exit 0
fi
echo "ensure_redis: installing Debian's redis-server for the Redis tests"
if ! { $SUDO apt-get update && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server; }; then
    echo "ensure_redis: apt-get could not install chromium; the Redis tests will be skipped" >&2
fi
exit 0
