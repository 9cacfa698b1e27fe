#!/usr/bin/env bash
# The API's contract (README): schemathesis against the schema the web server serves, on a
# fresh SQLite database with a dedicated tenant whose throttles and caps are off, the Runflow
# sandbox and a worker, so runs really move. Everything it starts stops when it ends.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
FUZZ_MAX_EXAMPLES=${FUZZ_MAX_EXAMPLES:-20}
# A fixed seed by default, so CI answers the same each time; FUZZ_SEED=random explores.
FUZZ_SEED=${FUZZ_SEED:-1}
FUZZ_DIR=$(mktemp -d "${TMPDIR:-/tmp}/seedance-fuzz.XXXXXX")
REPORT_DIR=${FUZZ_REPORT_DIR:-artifacts/api-fuzz}

free_port() {
  $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
WEB_PORT=$(free_port)
SANDBOX_PORT=$(free_port)
BASE_URL=http://127.0.0.1:$WEB_PORT

# Nothing of the shell's environment reaches this stack: its own database, broker and URLs.
unset DATABASE_URL REDIS_URL MEDIA_ROOT STRIPE_API_KEY STRIPE_API_BASE
export VAR_DIR=$FUZZ_DIR  # the SQLite database and the outputs' storage
export Q_CLUSTER_NAME=seedance-fuzz-$WEB_PORT
export PUBLIC_BASE_URL=$BASE_URL
export RUNFLOW_BASE_URL=http://127.0.0.1:$SANDBOX_PORT/v1
export WEB_BIND=127.0.0.1:$WEB_PORT WEB_ACCESS_LOG=$FUZZ_DIR/access.log
# The fuzzing tenant's throttles are off: schemathesis sends hundreds of requests a minute,
# and some with no or a bad key (ignored_auth), which would soon answer 429 instead of 401.
export SEEDANCE_API_CREATE_RATE=off SEEDANCE_API_READ_RATE=off SEEDANCE_API_AUTH_FAILURE_RATE=off
# No outbound port: the webhook URLs schemathesis registers are all refused (400) whatever
# the network, so nothing is resolved or sent to a host it made up (the sandbox's loopback
# address, the one plain-http exception, is still fetched from).
export SEEDANCE_OUTBOUND_PORTS=

. scripts/processes.sh
cleanup() {
  local rc=$?
  stop
  if ((rc != 0)); then
    for log in "$FUZZ_DIR"/*.log; do echo "--- $log (last lines)"; tail -n 40 "$log"; done >&2
  fi
  rm -rf "$FUZZ_DIR"
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

wait_for() {  # url, name
  for _ in $(seq 120); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.25
  done
  echo "$2 did not start" >&2
  exit 1
}

$PY manage.py migrate --noinput >"$FUZZ_DIR/migrate.log"
$PY manage.py createcachetable
KEY=$($PY manage.py api_fuzz_tenant fuzz | tail -n 1)

$PY manage.py runflow_sandbox --host 127.0.0.1 --port "$SANDBOX_PORT" \
  --queued-seconds 0.2 --running-seconds 0.5 --cache-dir "$FUZZ_DIR/sandbox" \
  >"$FUZZ_DIR/sandbox.log" 2>&1 &
pids+=($!)
$PY manage.py qcluster >"$FUZZ_DIR/worker.log" 2>&1 &
pids+=($!)
.venv/bin/gunicorn -c config/gunicorn.py config.wsgi >"$FUZZ_DIR/web.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$SANDBOX_PORT/v1/health" "The Runflow sandbox"
wait_for "$BASE_URL/api/schema/" "The web server"

mkdir -p "$REPORT_DIR"
# Every default check is on; schemathesis.toml names what counts as expected.
.venv/bin/schemathesis --config-file schemathesis.toml run "$BASE_URL/api/schema/" \
  --header "Authorization: Bearer $KEY" \
  --max-examples "$FUZZ_MAX_EXAMPLES" $([ "$FUZZ_SEED" = random ] || echo --seed "$FUZZ_SEED") \
  --workers 2 --no-color \
  --report junit --report-dir "$REPORT_DIR"
