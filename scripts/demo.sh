#!/usr/bin/env bash
# The zero-set-up demo: SQLite, django-q2's ORM broker, the Runflow sandbox and the
# loopback Stripe fake, all local.
# Ctrl-C (or SIGTERM) stops everything it started, within 10 s.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
WEB_PORT=${DEMO_PORT:-8000}
SANDBOX_PORT=${SANDBOX_PORT:-8765}
STRIPE_FAKE_PORT=${STRIPE_FAKE_PORT:-12111}
export DEBUG=${DEBUG:-1}
export PUBLIC_BASE_URL=${PUBLIC_BASE_URL:-http://127.0.0.1:$WEB_PORT}
export RUNFLOW_BASE_URL=${RUNFLOW_BASE_URL:-http://127.0.0.1:$SANDBOX_PORT/v1}
export STRIPE_API_KEY=${STRIPE_API_KEY:-sk_test_demo}
export STRIPE_API_BASE=${STRIPE_API_BASE:-http://127.0.0.1:$STRIPE_FAKE_PORT}
export STRIPE_WEBHOOK_SECRETS=${STRIPE_WEBHOOK_SECRETS:-whsec_stripe_demo}
export STRIPE_EVENT_SECRETS=${STRIPE_EVENT_SECRETS:-whsec_stripe_events_demo}
# Tenant webhooks may go to any local port over http (a receiver you run beside the demo);
# the system check refuses this wildcard with DEBUG off.
export SEEDANCE_OUTBOUND_LOOPBACK_HTTP=${SEEDANCE_OUTBOUND_LOOPBACK_HTTP:-127.0.0.1:*,localhost:*}
# A run's start shows within a second (production sweeps every 5 s).
export SEEDANCE_STATUS_SWEEP_SECONDS=${SEEDANCE_STATUS_SWEEP_SECONDS:-1}
export BILLING_PAYMENT_METHOD_ALLOWANCE=${BILLING_PAYMENT_METHOD_ALLOWANCE:-5}
export VAR_DIR=${VAR_DIR:-$PWD/var}
LOG_DIR=$VAR_DIR/log
# One demo per VAR_DIR, checked before anything else: a second start would migrate under
# the running one, truncate its logs and fight for its ports. A pid whose process is gone
# (or is no demo) is stale and replaced; the noclobber write makes two starts race safely.
DEMO_PID_FILE=$VAR_DIR/demo.pid
mkdir -p "$VAR_DIR"
demo_lock() {
  (set -o noclobber; echo $$ >"$DEMO_PID_FILE") 2>/dev/null
}
if ! demo_lock; then
  running=$(cat "$DEMO_PID_FILE" 2>/dev/null || true)
  if [ -n "$running" ] && ps -o args= -p "$running" 2>/dev/null | grep -q 'demo\.sh'; then
    echo "A demo is already running here (pid $running; logs in $LOG_DIR/)." >&2
    echo "Leave it be, or stop it (Ctrl-C in its terminal, or: kill $running) first." >&2
    exit 1
  fi
  rm -f "$DEMO_PID_FILE"
  demo_lock || { echo "Another demo is starting in $VAR_DIR; try again." >&2; exit 1; }
fi
mkdir -p "$LOG_DIR"
# The demo's own key, made on first start and kept: restarts keep everyone signed in.
SECRET_KEY_FILE=$VAR_DIR/secret_key
if [ -z "${SECRET_KEY:-}" ]; then
  if [ ! -s "$SECRET_KEY_FILE" ]; then
    (umask 077 && $PY -c 'import secrets; print(secrets.token_urlsafe(50))' >"$SECRET_KEY_FILE")
  fi
  SECRET_KEY=$(cat "$SECRET_KEY_FILE")
fi
export SECRET_KEY
# Likewise the Fernet key that encrypts tenant webhook secrets: a new one would lose them.
WEBHOOK_KEY_FILE=$VAR_DIR/webhook_secret_key
if [ -z "${WEBHOOK_SECRET_KEYS:-}" ]; then
  if [ ! -s "$WEBHOOK_KEY_FILE" ]; then
    (umask 077 && $PY -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())' >"$WEBHOOK_KEY_FILE")
  fi
  WEBHOOK_SECRET_KEYS=$(cat "$WEBHOOK_KEY_FILE")
fi
export WEBHOOK_SECRET_KEYS

. scripts/processes.sh  # stop(): every child down within 10 s of a signal
cleanup_files+=("$DEMO_PID_FILE")
metrics_dir "$VAR_DIR/prometheus"

wait_for() {  # url, name
  for _ in $(seq 120); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.25
  done
  echo "$2 did not start; see $LOG_DIR/" >&2
  exit 1
}

$PY manage.py migrate --noinput >"$LOG_DIR/migrate.log"
$PY manage.py createcachetable  # the shared cache's table (rate limits), when no Redis
$PY manage.py collectstatic --noinput >/dev/null
KEY=$($PY manage.py demo_setup --tenant demo --username demo --password demo-password-123 | tail -n 1)
TOTP_FILE=$VAR_DIR/demo-staff-totp.txt
TOTP_SECRET=$(sed -n 1p "$TOTP_FILE")
TOTP_URI=$(sed -n 2p "$TOTP_FILE")

$PY manage.py stripe_fake --host 127.0.0.1 --port "$STRIPE_FAKE_PORT" >"$LOG_DIR/stripe.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$STRIPE_FAKE_PORT/_fake/faults" "The Stripe fake"
$PY manage.py stripe_provision >"$LOG_DIR/provision.log"
$PY scripts/demo_stripe_destination.py
$PY manage.py billing_test_card demo >>"$LOG_DIR/provision.log"

$PY manage.py runflow_sandbox --host 127.0.0.1 --port "$SANDBOX_PORT" \
  --queued-seconds 1 --running-seconds 3 >"$LOG_DIR/sandbox.log" 2>&1 &
pids+=($!)
$PY manage.py qcluster >"$LOG_DIR/worker.log" 2>&1 &
pids+=($!)
$PY manage.py dispatcher >"$LOG_DIR/dispatcher.log" 2>&1 &
pids+=($!)
$PY manage.py runserver "127.0.0.1:$WEB_PORT" --noreload >"$LOG_DIR/web.log" 2>&1 &
pids+=($!)

wait_for "http://127.0.0.1:$SANDBOX_PORT/v1/health" "The Runflow sandbox"
wait_for "http://127.0.0.1:$WEB_PORT/api/schema/" "The web server"

# The demo's prompts can steer the sandbox: [sandbox:nsfw] holds a video for review,
# [sandbox:fail] fails it.

cat <<TXT

  Seedance for tenants is up (SQLite, ORM broker, Runflow sandbox, Stripe fake).

  Portal:     http://127.0.0.1:$WEB_PORT/        user: demo (or demo@example.com)    password: demo-password-123
  Admin:      http://127.0.0.1:$WEB_PORT/admin/  user: staff (or staff@example.com)  password: demo-password-123
  Staff TOTP: $TOTP_SECRET   (kept in $TOTP_FILE; add it to an authenticator app)
              $TOTP_URI
  API docs:   http://127.0.0.1:$WEB_PORT/api/docs/
  API key:    $KEY
  Logs:       $LOG_DIR/{web,worker,dispatcher,sandbox,stripe}.log

  Create a run:

    curl -sS -X POST http://127.0.0.1:$WEB_PORT/api/v1/runs \\
      -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" \\
      -d '{"prompt": "A barista pours latte art, close-up", "duration": "5", "aspect_ratio": "16:9", "resolution": "480p"}'

  Follow it:  curl -sS -H "Authorization: Bearer $KEY" http://127.0.0.1:$WEB_PORT/api/v1/runs/<id>
  Usage:      curl -sS -H "Authorization: Bearer $KEY" http://127.0.0.1:$WEB_PORT/api/v1/usage
  As Runflow: base URL http://127.0.0.1:$WEB_PORT for Runflow's SDK, same key (README, "Switch from Runflow"):
              curl -sS -X POST http://127.0.0.1:$WEB_PORT/v1/models/bytedance/seedance/2.0/fast/text-to-video/runs \\
                -H "Authorization: Bearer $KEY" -H "Content-Type: application/json" -d '{"input": {"prompt": "A kite"}}'
  Stripe:     curl -sS http://127.0.0.1:$STRIPE_FAKE_PORT/_fake/meter_events   (what was sent)
  Reconcile:  .venv/bin/python manage.py billing_reconcile   (the ledger against Stripe's numbers)

  Ctrl-C stops everything.
TXT
wait -n "${pids[@]}"
echo "A demo process exited; see $LOG_DIR/" >&2
