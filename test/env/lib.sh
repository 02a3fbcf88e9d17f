# shellcheck shell=bash disable=SC2034  # settings used by the scripts that source this file
# Shared settings and helpers of up.sh and down.sh (sourced, not run).
# Everything lives outside git: binaries in the cache dir, state (pid files, logs, certs, etcd data) in the run dir.

env_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

kube_version=$(sed -n 's#^require k8s.io/kubernetes \(v[0-9][0-9.]*\)$#\1#p' "$env_dir/kube/go.mod")
cache_dir=${BERTH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/berth}
kube_bin=$cache_dir/kube-$kube_version/bin
# etcd, built by build-kube.sh at the version in etcd/go.mod (Debian's 3.4 lacks watch progress requests).
etcd_bin=$cache_dir/etcd-$(sed -n 's#^require go.etcd.io/etcd/server/v3 \(v[0-9][0-9.]*\)$#\1#p' "$env_dir/etcd/go.mod")/etcd
run_dir=${BERTH_RUN_DIR:-$cache_dir/run}
pki_dir=$run_dir/pki

# Non-default ports, so that the test environment never clashes with a real etcd or cluster on the machine.
etcd_client_port=${BERTH_ETCD_PORT:-23790}
etcd_peer_port=${BERTH_ETCD_PEER_PORT:-23800}
apiserver_port=${BERTH_APISERVER_PORT:-16443}
kcm_port=${BERTH_KCM_PORT:-16257}

etcd_url=http://127.0.0.1:$etcd_client_port
apiserver_url=https://127.0.0.1:$apiserver_port
docker_sock=/var/run/docker.sock
docker_host=unix://$docker_sock
test_image=berth-test/busybox:latest
kubeconfig=$run_dir/kubeconfig

# Debian's docker CLI matches Debian's dockerd; fall back to whatever `docker` is on PATH.
docker_cli=/usr/bin/docker
[[ -x $docker_cli ]] || docker_cli=docker

log() { echo "berth-env: $*"; }
die() { echo "berth-env: ERROR: $*" >&2; exit 1; }

# pid_alive NAME: the process recorded in NAME.pid is running and is still NAME
# (comm is cut to 15 characters; comparing it guards against a recycled pid after a reboot).
pid_alive() {
  local name=$1 pid comm
  [[ -f $run_dir/$name.pid ]] || return 1
  pid=$(<"$run_dir/$name.pid")
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/comm ]] || return 1
  comm=$(<"/proc/$pid/comm")
  [[ $comm == "${name:0:15}" ]]
}

# wait_until SECONDS COMMAND...: polls COMMAND every half second; fails after SECONDS.
wait_until() {
  local timeout=$1; shift
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

docker_ok() { [[ $(curl -fsS --max-time 2 --unix-socket "$docker_sock" http://localhost/_ping 2>/dev/null) == OK ]]; }
etcd_ok() { curl -fsS --max-time 2 "$etcd_url/health" 2>/dev/null | grep -q '"health":"true"'; }
apiserver_ok() {
  [[ -f $pki_dir/admin.crt ]] &&
    [[ $(curl -fsS --max-time 3 --cacert "$pki_dir/ca.crt" --cert "$pki_dir/admin.crt" --key "$pki_dir/admin.key" \
      "$apiserver_url/readyz" 2>/dev/null) == ok ]]
}
kcm_ok() { [[ $(curl -ksS --max-time 2 "https://127.0.0.1:$kcm_port/healthz" 2>/dev/null) == ok ]]; }
