#!/usr/bin/env bash
# Stops what test/env/up.sh started, and only that: each process by the pid recorded in the run dir,
# after checking that the pid still belongs to the process we started. A Docker engine up.sh found
# already running is left alone. The test node goes first, and what it changed on the host is undone
# (test/env/node.sh: node_stop).
#   down.sh            stop everything (etcd data, certs and the test image are kept for the next up.sh)
#   down.sh --clean    stop everything, then delete the run dir (etcd data, certs, logs)
#   down.sh --only N   stop one component (used by up.sh)
#   down.sh --only N --grace S   the same, killing it when it has not exited S seconds after SIGTERM: kube-apiserver
#                      v1.34 stops listening and closes its watches at once, then lingers for 30 s or more
#                      ("Error getting keys"), so a restart (up.sh --only kube-apiserver) need not wait for that;
#                      --grace 0 is a crash: SIGKILL at once, no SIGTERM
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=node.sh
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"

stop() {
  local name=$1 grace=${2:-30} pid
  if ! pid_alive "$name"; then
    rm -f "$run_dir/$name.pid"
    return 0
  fi
  pid=$(<"$run_dir/$name.pid")
  if ((grace == 0)); then
    log "killing $name (pid $pid)"
  else
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    # dockerd stops its containers first, which can take a while.
    local deadline=$((SECONDS + grace))
    while [[ -d /proc/$pid ]] && ((SECONDS < deadline)); do sleep 0.3; done
    [[ -d /proc/$pid ]] && log "$name did not stop within ${grace}s; killing it"
  fi
  if [[ -d /proc/$pid ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    # Gone, and its ports free, before a restart binds them again.
    local deadline=$((SECONDS + 10))
    while [[ -d /proc/$pid ]] && ((SECONDS < deadline)); do sleep 0.1; done
  fi
  rm -f "$run_dir/$name.pid"
}

case ${1:-} in
  --only)
    if [[ ${3:-} == --grace ]]; then
      [[ ${4:-} =~ ^[0-9]+$ ]] || die "--grace takes whole seconds, not '${4:-}'"
      stop "$2" "$4"
    else
      stop "$2"
    fi
    ;;
  "" | --clean)
    # Reverse order of start: clients before the servers they use.
    stop prometheus-adapter
    stop prometheus
    stop metrics-server
    node_stop
    for name in kube-controller-manager kube-apiserver etcd dockerd; do stop "$name"; done
    rm -f "$run_dir/env.json"
    if [[ ${1:-} == --clean && -d $run_dir ]]; then
      log "removing $run_dir"
      rm -rf "$run_dir"
    fi
    log "down"
    ;;
  *) echo "usage: $0 [--clean | --only NAME [--grace SECONDS]]" >&2; exit 2 ;;
esac
