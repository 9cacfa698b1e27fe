# Sourced by demo.sh and serve.sh: every child runs in its own process group (`set -m`), so
# one signal reaches a child's own children too (gunicorn's and qcluster's workers).
# Stopping sends SIGTERM to each child, waits up to STOP_GRACE_SECONDS for every group to
# empty, then SIGKILLs what is left: django-q2 would wait up to Q_TIMEOUT for a busy task,
# and tasks are idempotent, so they run again after a restart.
set -m
STOP_GRACE_SECONDS=${STOP_GRACE_SECONDS:-8}
pids=()
cleanup_files=()  # removed once every child is down (demo.sh's pid file)

group_alive() {  # pid: true while any process of the group it leads is left
  kill -0 -- "-$1" 2>/dev/null
}

stop() {
  trap - INT TERM EXIT
  local pid deadline=$((SECONDS + STOP_GRACE_SECONDS))
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  while ((SECONDS < deadline)); do
    local left=0
    for pid in "${pids[@]}"; do group_alive "$pid" && left=1; done
    ((left)) || break
    sleep 0.2
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ((${#cleanup_files[@]})) && rm -f "${cleanup_files[@]}"
  return 0
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# prometheus-client's multiprocess mode: every gunicorn and qcluster worker writes its
# counters and histograms to files in PROMETHEUS_MULTIPROC_DIR and /metrics sums them. The
# directory is one per replica and emptied at each start (stale files would add old runs).
metrics_dir() {  # default directory
  export PROMETHEUS_MULTIPROC_DIR=${PROMETHEUS_MULTIPROC_DIR:-$1}
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  rm -f "$PROMETHEUS_MULTIPROC_DIR"/*.db
}
