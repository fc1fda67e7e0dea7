#!/bin/sh
# Longer fuzzing of the hub than tests/reliability/test_fuzz.py: schemathesis's CLI against the
# hub's OpenAPI schema, every operation, valid and invalid data (--mode all), all phases
# (examples, coverage, fuzzing, stateful), first with a token holding every role, then without one.
# The one check: no 5xx answer (not_a_server_error). The hub runs with
# authentication on, on a free loopback port, from this checkout.
#
#   sh bench/fuzz.sh              # 200 examples per operation (~3 min on 2 shared cores)
#   EXAMPLES=1000 sh bench/fuzz.sh
#
# Exit status: 0 when neither run found a server error. Reports: test-output/fuzz/.
set -eu
cd "$(dirname "$0")/.."
PY=.venv/bin/python
ST=$(pwd)/.venv/bin/schemathesis
EXAMPLES=${EXAMPLES:-200}
OUT=test-output/fuzz
mkdir -p "$OUT"
# schemathesis keeps a .schemathesis/ cache in its working directory: run it inside $OUT.
st() { (cd "$OUT" && "$ST" "$@"); }
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
TOKEN=$($PY fastapi_server.py --make-token)
URL="http://127.0.0.1:$PORT"

FORMSYNC_HUB_CAMERA_TOKENS=$TOKEN FORMSYNC_HUB_VIEWER_TOKENS=$TOKEN FORMSYNC_HUB_WORKER_TOKENS=$TOKEN \
FORMSYNC_HUB_DB_PATH="$OUT/hub.db" \
    $PY fastapi_server.py --host 127.0.0.1 --port "$PORT" --log-level warning >"$OUT/hub.log" 2>&1 &
HUB=$!
trap 'kill $HUB 2>/dev/null; wait $HUB 2>/dev/null || true' EXIT INT TERM
i=0
until $PY -c "import urllib.request; urllib.request.urlopen('$URL/healthz', timeout=1)" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 100 ]; then echo "hub did not start; see $OUT/hub.log" >&2; exit 1; fi
    sleep 0.2
done

status=0
echo "== with a token (every role), $EXAMPLES examples per operation"
st run "$URL/openapi.json" --checks not_a_server_error --max-examples "$EXAMPLES" --mode all \
    --header "Authorization: Bearer $TOKEN" --request-timeout 10 --seed 1 --generation-database examples \
    --report junit --report-junit-path with-token.xml || status=1
echo "== without a token (every answer must be 401, never a 5xx)"
st run "$URL/openapi.json" --checks not_a_server_error --max-examples "$EXAMPLES" --mode all \
    --request-timeout 10 --seed 2 --generation-database examples \
    --report junit --report-junit-path without-token.xml || status=1
if grep -q "Traceback" "$OUT/hub.log"; then
    echo "the hub logged a traceback: $OUT/hub.log" >&2
    status=1
fi
exit $status
