#!/usr/bin/env bash
# The Python client (clients/python) against a live stack of its own, as scripts/api-fuzz.sh
# builds one: a fresh SQLite database, the Runflow sandbox, a worker, the dispatcher and
# gunicorn on free ports, a tenant with no caps and its key, throttles off. Its tests get
# the stack through SEEDANCE_CLIENT_* variables; everything started here stops at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
CLIENT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/seedance-client.XXXXXX")

free_port() {
  $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
WEB_PORT=$(free_port)
SANDBOX_PORT=$(free_port)
WEBHOOK_PORT=$(free_port)  # the tests' own webhook receiver
BASE_URL=http://127.0.0.1:$WEB_PORT

# Nothing of the shell's environment reaches this stack: its own database, broker and URLs.
unset DATABASE_URL REDIS_URL MEDIA_ROOT STRIPE_API_KEY STRIPE_API_BASE
export VAR_DIR=$CLIENT_DIR
export Q_CLUSTER_NAME=seedance-client-$WEB_PORT
export PUBLIC_BASE_URL=$BASE_URL
export RUNFLOW_BASE_URL=http://127.0.0.1:$SANDBOX_PORT/v1
export WEB_BIND=127.0.0.1:$WEB_PORT WEB_ACCESS_LOG=$CLIENT_DIR/access.log
# The tests make more requests a minute than the default rates allow one key.
export SEEDANCE_API_CREATE_RATE=off SEEDANCE_API_READ_RATE=off SEEDANCE_API_AUTH_FAILURE_RATE=off
# Plain http on loopback for two endpoints only: the sandbox's outputs and the receiver.
export SEEDANCE_OUTBOUND_LOOPBACK_HTTP=127.0.0.1:$SANDBOX_PORT,127.0.0.1:$WEBHOOK_PORT
export SEEDANCE_STATUS_SWEEP_SECONDS=1

. scripts/processes.sh
cleanup() {
  local rc=$?
  stop
  if ((rc != 0)); then
    for log in "$CLIENT_DIR"/*.log; do echo "--- $log (last lines)"; tail -n 40 "$log"; done >&2
  fi
  rm -rf "$CLIENT_DIR"
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

$PY manage.py migrate --noinput >"$CLIENT_DIR/migrate.log"
$PY manage.py createcachetable
KEY=$($PY manage.py api_fuzz_tenant client-tests | tail -n 1)

$PY manage.py runflow_sandbox --host 127.0.0.1 --port "$SANDBOX_PORT" \
  --queued-seconds 0.2 --running-seconds 0.5 --cache-dir "$CLIENT_DIR/sandbox" \
  >"$CLIENT_DIR/sandbox.log" 2>&1 &
pids+=($!)
$PY manage.py qcluster >"$CLIENT_DIR/worker.log" 2>&1 &
pids+=($!)
$PY manage.py dispatcher >"$CLIENT_DIR/dispatcher.log" 2>&1 &
pids+=($!)
.venv/bin/gunicorn -c config/gunicorn.py config.wsgi >"$CLIENT_DIR/web.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$SANDBOX_PORT/v1/health" "The Runflow sandbox"
wait_for "$BASE_URL/api/schema/" "The web server"

export SEEDANCE_CLIENT_BASE_URL=$BASE_URL SEEDANCE_CLIENT_API_KEY=$KEY
export SEEDANCE_CLIENT_WEBHOOK_PORT=$WEBHOOK_PORT
# Its own pytest configuration (clients/python/pyproject.toml), not the Django suite's.
(cd clients/python && ../../.venv/bin/pytest -q "$@")
