#!/usr/bin/env bash
# The production runner: gunicorn on config.wsgi, the django-q2 worker and the dispatcher,
# every knob from the environment (config/gunicorn.py lists the web server's). It does not
# migrate: run `manage.py migrate`, `createcachetable` and `collectstatic` as the release
# step, once, before starting any replica; serve refuses to start while migrations are unapplied.
# SIGTERM or Ctrl-C stops every process within 10 s (scripts/processes.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PY:-.venv/bin/python}
. scripts/processes.sh
metrics_dir "${VAR_DIR:-$PWD/var}/prometheus"

$PY manage.py check >/dev/null || {
  echo "serve: the settings or the system checks refuse to start (above)" >&2
  exit 1
}
$PY manage.py migrate --check >/dev/null || {
  echo "serve: unapplied migrations; run manage.py migrate first" >&2
  exit 1
}

$PY -m gunicorn --config python:config.gunicorn config.wsgi &
pids+=($!)
$PY manage.py qcluster &
pids+=($!)
$PY manage.py dispatcher &
pids+=($!)

wait -n "${pids[@]}" || true
echo "serve: a process exited; stopping the others" >&2
exit 1
