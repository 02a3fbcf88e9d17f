#!/usr/bin/env bash
# Installs (where missing) and starts (where not running) the real parts the integration tests use:
#   dockerd, the local test image, etcd, kube-apiserver and kube-controller-manager on loopback, and the test
#   node (test/env/node.sh: kubelet, its containerd and CNI, kube-proxy, kwok) on an address of its own.
#   node: metrics-server (test/env/metrics-server.sh), serving metrics.k8s.io through the API server's aggregator;
#   Prometheus and prometheus-adapter (test/env/prometheus-adapter.sh), serving external.metrics.k8s.io the same way.
#   BERTH_NODE=0 starts a control plane without the node (a suite's private one, test/env/private-env.ts).
# Idempotent: a second run finds everything up and only checks it. Stop with test/env/down.sh.
# Writes <run dir>/env.json and <run dir>/kubeconfig for the tests (see test/env/env.ts).
#   up.sh                       everything
#   up.sh --only kube-apiserver start the API server of a run dir that is otherwise up, with the same flags
#                               (after `down.sh --only kube-apiserver`: a restart with etcd keeping its data)
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source-path=SCRIPTDIR source=node.sh
source "$(dirname "${BASH_SOURCE[0]}")/node.sh"
# shellcheck source-path=SCRIPTDIR source=metrics-server.sh
source "$(dirname "${BASH_SOURCE[0]}")/metrics-server.sh"
# shellcheck source-path=SCRIPTDIR source=prometheus-adapter.sh
source "$(dirname "${BASH_SOURCE[0]}")/prometheus-adapter.sh"

as_root() { if ((EUID == 0)); then "$@"; else sudo "$@"; fi; }

# --- Debian packages ---------------------------------------------------------------------------------
# prometheus: promtool (the PrometheusRule test) and the Prometheus behind prometheus-adapter. curl and openssl drive
# the checks and certs.
# containerd, runc and the CNI plugins run the test node (containerd and runc come with docker.io anyway).
ensure_packages() {
  local missing=() p
  for p in docker.io busybox-static openssl curl prometheus containerd runc containernetworking-plugins conntrack; do
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  # Packages like prometheus would start their own system services on install;
  # a policy-rc.d that says "no" keeps the machine's ports free (removed again if we created it).
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null && as_root chmod +x "$policy" && created_policy=1
  fi
  # NEEDRESTART_SUSPEND: Debian's needrestart hook has nothing to say on a CI machine.
  as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "${missing[@]}"
  ((created_policy)) && as_root rm -f "$policy"
  return 0
}

# start_daemon NAME LOGFILE COMMAND...: runs COMMAND in its own session, detached from this shell,
# and records its pid in <run dir>/NAME.pid. (setsid does not fork here, so $! is the daemon itself.)
start_daemon() {
  local name=$1 logfile=$2; shift 2
  setsid "$@" </dev/null >>"$logfile" 2>&1 &
  echo $! >"$run_dir/$name.pid"
}

fail_with_log() {
  echo "---- last lines of $2 ----" >&2; tail -n 30 "$2" >&2 || true
  die "$1"
}

# --- dockerd -----------------------------------------------------------------------------------------
ensure_docker() {
  if docker_ok; then
    pid_alive dockerd || log "dockerd: using the engine already listening on $docker_sock"
    return 0
  fi
  if pid_alive dockerd; then
    log "dockerd: started earlier (pid $(<"$run_dir/dockerd.pid")), waiting for it"
  else
    rm -f "$run_dir/dockerd.pid"
    ((EUID == 0)) || die "no Docker engine on $docker_sock, and starting dockerd needs root"
    log "dockerd: starting (log $run_dir/dockerd.log)"
    start_daemon dockerd "$run_dir/dockerd.log" dockerd -H "$docker_host" --pidfile "$run_dir/dockerd.daemon.pid"
  fi
  if ! wait_until 60 docker_ok; then
    # Sandboxes without netfilter make dockerd exit at once; fall back to an engine without iptables
    # (host networking still works; port publishing on 127.0.0.1 then depends on the userland proxy).
    if ! pid_alive dockerd && grep -qi iptables "$run_dir/dockerd.log"; then
      log "dockerd: exited over iptables; retrying with --iptables=false"
      start_daemon dockerd "$run_dir/dockerd.log" dockerd -H "$docker_host" --pidfile "$run_dir/dockerd.daemon.pid" --iptables=false
      wait_until 60 docker_ok || fail_with_log "dockerd did not come up" "$run_dir/dockerd.log"
    else
      fail_with_log "dockerd did not answer on $docker_sock within 60s" "$run_dir/dockerd.log"
    fi
  fi
}

# The test image: Debian's static busybox and its applet links, imported as a tarball (no registry is
# reachable, so nothing is ever pulled).
ensure_test_image() {
  if DOCKER_HOST=$docker_host "$docker_cli" image inspect "$test_image" >/dev/null 2>&1; then return 0; fi
  log "building $test_image from /bin/busybox"
  local stage
  stage=$(mktemp -d)
  mkdir -p "$stage"/{bin,etc,tmp,root,proc,sys,dev}
  chmod 1777 "$stage/tmp"
  cp /bin/busybox "$stage/bin/busybox"
  local applet
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -sf busybox "$stage/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$stage/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
  tar -C "$stage" --numeric-owner --owner=0 --group=0 -cf - . |
    DOCKER_HOST=$docker_host "$docker_cli" import \
      -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' -c 'LABEL dev.berth.test-image=busybox' - "$test_image" >/dev/null
  rm -rf "$stage"
}

# --- etcd --------------------------------------------------------------------------------------------
ensure_etcd() {
  if etcd_ok; then
    pid_alive etcd || die "something else answers on $etcd_url (not started from $run_dir); stop it or set BERTH_ETCD_PORT"
    return 0
  fi
  if ! pid_alive etcd; then
    rm -f "$run_dir/etcd.pid"
    log "etcd: starting on $etcd_url (data $run_dir/etcd)"
    start_daemon etcd "$run_dir/etcd.log" "$etcd_bin" \
      --name berth-test --data-dir "$run_dir/etcd" \
      --listen-client-urls "$etcd_url" --advertise-client-urls "$etcd_url" \
      --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
      --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
      --initial-cluster "berth-test=http://127.0.0.1:$etcd_peer_port" \
      --logger zap --log-level warn
  fi
  wait_until 60 etcd_ok || fail_with_log "etcd did not become healthy" "$run_dir/etcd.log"
}

# --- certificates and kubeconfig --------------------------------------------------------------------
# A CA, the API server's serving cert (127.0.0.1, localhost, the node address and the in-cluster names), an
# admin client cert in system:masters, the service-account signing key pair, and the node's certificates.
# Made once per run dir (again when a run dir of an older up.sh lacks some).
ensure_pki() {
  local f
  for f in ca.crt ca.key apiserver.crt apiserver.key admin.crt admin.key sa.key sa.pub kubelet-client.crt kubelet-serving.crt \
    apiserver-kubelet-client.crt kube-proxy.crt; do
    [[ -s $pki_dir/$f ]] || { make_pki; return 0; }
  done
  openssl x509 -in "$pki_dir/apiserver.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:$node_ip\b" || make_pki
}

# sign_cert NAME SUBJECT EXTENSIONS...: <pki>/NAME.key and NAME.crt, signed by the run's CA for 10 years.
sign_cert() {
  local name=$1 subject=$2
  shift 2
  openssl req -newkey rsa:2048 -nodes -keyout "$pki_dir/$name.key" -out "$pki_dir/$name.csr" -subj "$subject" 2>/dev/null
  openssl x509 -req -in "$pki_dir/$name.csr" -CA "$pki_dir/ca.crt" -CAkey "$pki_dir/ca.key" -CAcreateserial -CAserial "$pki_dir/ca.srl" \
    -out "$pki_dir/$name.crt" -days 3650 \
    -extfile <(printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=digitalSignature,keyEncipherment" "$@") 2>/dev/null
  rm -f "$pki_dir/$name.csr" "$pki_dir/ca.srl"
}

make_pki() {
  log "generating certificates in $pki_dir"
  rm -rf "$pki_dir" && mkdir -p "$pki_dir" && chmod 700 "$pki_dir"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$pki_dir/ca.key" -out "$pki_dir/ca.crt" -days 3650 -subj "/CN=berth-test-ca" 2>/dev/null
  sign_cert apiserver "/CN=kube-apiserver" "extendedKeyUsage=serverAuth" \
    "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,IP:$node_ip,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  sign_cert admin "/O=system:masters/CN=berth-test-admin" "extendedKeyUsage=clientAuth"
  openssl genrsa -out "$pki_dir/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki_dir/sa.key" -pubout -out "$pki_dir/sa.pub" 2>/dev/null
  make_node_pki
  # New certificates mean that a running API server (ours) serves the old ones: restart it.
  stop_ours metrics-server
  stop_ours prometheus-adapter
  stop_ours kube-controller-manager
  stop_ours kube-apiserver
}

# stop_ours NAME [GRACE]: see down.sh --only (GRACE seconds before SIGKILL; 30 by default).
stop_ours() { bash "$env_dir/down.sh" --only "$1" ${2:+--grace "$2"} >/dev/null; }

# write_kubeconfig [FILE CERT USER]: a kubeconfig for the client certificate <pki>/CERT.crt (the admin's by
# default; the test node's kubelet and kube-proxy get theirs from node.sh).
write_kubeconfig() {
  local file=${1:-$kubeconfig} cert=${2:-admin} user=${3:-berth-test-admin}
  local b64='base64 -w0'
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: berth-test
  cluster:
    server: $apiserver_url
    certificate-authority-data: $($b64 "$pki_dir/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $($b64 "$pki_dir/$cert.crt")
    client-key-data: $($b64 "$pki_dir/$cert.key")
contexts:
- name: berth-test
  context:
    cluster: berth-test
    user: $user
current-context: berth-test
EOF
  chmod 600 "$file.tmp" && mv "$file.tmp" "$file"
}

# --- kube-apiserver ----------------------------------------------------------------------------------
# RBAC (so that deploy/rbac.yaml means something; the admin is in system:masters). The ServiceAccount
# admission plugin stays on: kube-controller-manager creates each namespace's default ServiceAccount.
# With the test node (kubelet-node.md §8.1): it also serves the node address, which it publishes as the
# `kubernetes` Service's endpoint (Pods reach it through kube-proxy), authorizes the kubelet as a node, and
# reaches the kubelet (logs, exec) with a client certificate, by its InternalIP, and proxies metrics.k8s.io to
# metrics-server as the aggregator (metrics-server.sh: metrics_server_apiserver_args). Without the node: loopback
# only, and no endpoint reconciler (it would publish 127.0.0.1, which the API server itself refuses).
apiserver_args() {
  local args=(
    --etcd-servers="$etcd_url" --secure-port="$apiserver_port"
    --cert-dir="$pki_dir/generated"
    --tls-cert-file="$pki_dir/apiserver.crt" --tls-private-key-file="$pki_dir/apiserver.key"
    --client-ca-file="$pki_dir/ca.crt"
    --service-account-key-file="$pki_dir/sa.pub"
    --service-account-signing-key-file="$pki_dir/sa.key"
    --service-account-issuer=https://kubernetes.default.svc.cluster.local
    --service-cluster-ip-range=10.0.0.0/24
    --allow-privileged=true
    --profiling=false
    --v=1
  )
  if node_enabled; then
    args+=(
      --bind-address=0.0.0.0 --advertise-address="$node_ip" --endpoint-reconciler-type=lease
      --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction
      --kubelet-client-certificate="$pki_dir/apiserver-kubelet-client.crt" --kubelet-client-key="$pki_dir/apiserver-kubelet-client.key"
      --kubelet-certificate-authority="$pki_dir/ca.crt" --kubelet-preferred-address-types=InternalIP,Hostname
    )
    mapfile -t -O "${#args[@]}" args < <(metrics_server_apiserver_args)
  else
    args+=(--bind-address=127.0.0.1 --advertise-address=127.0.0.1 --endpoint-reconciler-type=none --authorization-mode=RBAC)
  fi
  printf '%s\n' "${args[@]}"
}

# restart_if_changed NAME ARGS-FILE: a daemon of ours started with other flags (an older up.sh, or a node
# switched on) is stopped, so that the caller starts it again with the flags of now.
restart_if_changed() {
  local name=$1 wanted=$2
  if pid_alive "$name" && ! cmp -s "$wanted" "$run_dir/$name.args"; then
    log "$name: its flags changed; restarting it"
    # kube-apiserver lingers 30 s after it stopped listening (down.sh): 5 s keeps a shared environment's gap short.
    stop_ours "$name" "$([[ $name == kube-apiserver ]] && echo 5)"
  fi
}

ensure_apiserver() {
  local -a args
  mapfile -t args < <(apiserver_args)
  printf '%s\n' "${args[@]}" >"$run_dir/kube-apiserver.args.new"
  restart_if_changed kube-apiserver "$run_dir/kube-apiserver.args.new"
  if apiserver_ok; then
    pid_alive kube-apiserver || die "something else answers on $apiserver_url (not started from $run_dir); stop it or set BERTH_APISERVER_PORT"
    rm -f "$run_dir/kube-apiserver.args.new"
    return 0
  fi
  if ! pid_alive kube-apiserver; then
    rm -f "$run_dir/kube-apiserver.pid"
    log "kube-apiserver: starting on $apiserver_url (log $run_dir/kube-apiserver.log)"
    mv "$run_dir/kube-apiserver.args.new" "$run_dir/kube-apiserver.args"
    start_daemon kube-apiserver "$run_dir/kube-apiserver.log" "$kube_bin/kube-apiserver" "${args[@]}"
  fi
  rm -f "$run_dir/kube-apiserver.args.new"
  # A cold start bootstraps RBAC roles and priority classes, which takes a while on 2 cores.
  wait_until 120 apiserver_ok || fail_with_log "kube-apiserver did not become ready" "$run_dir/kube-apiserver.log"
}

# --- kube-controller-manager ------------------------------------------------------------------------
# The garbage collector, namespace and service-account controllers, so that ownerReferences cascade and
# namespaces really go away, as on a real cluster. With the test node (kubelet-node.md §8.1) also: the root
# CA published in every namespace (Pods mount kube-root-ca.crt), node lifecycle (it lifts the node's not-ready
# taint, and marks a Node whose kubelet stops NotReady), endpoints for Services, and Deployments with their
# ReplicaSets (the in-cluster operator is a Deployment). Always the HorizontalPodAutoscaler controller, which
# scales a Berth Service through its scale subresource (every 5 s here; 15 s is its default).
kcm_args() {
  local controllers=garbagecollector,namespace,serviceaccount,horizontalpodautoscaling
  node_enabled && controllers+=,root-ca-cert-publisher,endpoint,endpointslice,nodelifecycle,deployment,replicaset
  printf '%s\n' --kubeconfig="$kubeconfig" \
    --horizontal-pod-autoscaler-sync-period=5s \
    --authentication-kubeconfig="$kubeconfig" --authorization-kubeconfig="$kubeconfig" \
    --authentication-skip-lookup=true \
    --controllers="$controllers" --root-ca-file="$pki_dir/ca.crt" \
    --leader-elect=false \
    --bind-address=127.0.0.1 --secure-port="$kcm_port" \
    --cert-dir="$pki_dir/generated-kcm" \
    --use-service-account-credentials=false \
    --v=1
}

ensure_kcm() {
  local -a args
  mapfile -t args < <(kcm_args)
  printf '%s\n' "${args[@]}" >"$run_dir/kube-controller-manager.args.new"
  restart_if_changed kube-controller-manager "$run_dir/kube-controller-manager.args.new"
  if kcm_ok; then
    pid_alive kube-controller-manager || die "something else answers on 127.0.0.1:$kcm_port; stop it or set BERTH_KCM_PORT"
    rm -f "$run_dir/kube-controller-manager.args.new"
    return 0
  fi
  if ! pid_alive kube-controller-manager; then
    rm -f "$run_dir/kube-controller-manager.pid"
    log "kube-controller-manager: starting (log $run_dir/kube-controller-manager.log)"
    mv "$run_dir/kube-controller-manager.args.new" "$run_dir/kube-controller-manager.args"
    start_daemon kube-controller-manager "$run_dir/kube-controller-manager.log" "$kube_bin/kube-controller-manager" "${args[@]}"
  fi
  rm -f "$run_dir/kube-controller-manager.args.new"
  wait_until 60 kcm_ok || fail_with_log "kube-controller-manager did not become healthy" "$run_dir/kube-controller-manager.log"
}

write_env_json() {
  cat >"$run_dir/env.json.tmp" <<EOF
{
  "kubeconfig": "$kubeconfig",
  "kubectl": "$kube_bin/kubectl",
  "apiserverUrl": "$apiserver_url",
  "kubeVersion": "$kube_version",
  "etcdUrl": "$etcd_url",
  "dockerHost": "$docker_host",
  "testImage": "$test_image",
  "runDir": "$run_dir",
  "clusterApiCrds": "$cache_dir/cluster-api-$(<"$env_dir/kube/cluster-api-version")/crds",
  "node": $(node_enabled && printf '{"name": "%s", "ip": "%s", "containerdSocket": "%s"}' "$node_name" "$node_ip" "$containerd_sock" || echo null),
  "prometheus": $(node_enabled && printf '{"url": "%s", "targetsDir": "%s"}' "$prometheus_url" "$prometheus_targets_dir" || echo null)
}
EOF
  mv "$run_dir/env.json.tmp" "$run_dir/env.json"
}

main() {
  local start=$SECONDS
  [[ -n $kube_version ]] || die "cannot read the Kubernetes version from $env_dir/kube/go.mod"
  mkdir -p "$run_dir"
  ensure_packages
  bash "$env_dir/build-kube.sh"
  [[ -x $kube_bin/kube-apiserver ]] || die "kube-apiserver was not built"
  [[ -x $etcd_bin ]] || die "etcd was not built"
  ensure_docker
  ensure_test_image
  ensure_etcd
  ensure_pki
  write_kubeconfig
  node_enabled && ensure_metrics_server_pki
  node_enabled && ensure_node_address
  ensure_apiserver
  ensure_kcm
  ensure_node
  ensure_metrics_server
  ensure_prometheus
  ensure_prometheus_adapter
  write_env_json
  echo "berth test env up in $((SECONDS - start))s: kube-apiserver $kube_version $apiserver_url, etcd $etcd_url," \
    "docker $docker_host, image $test_image, kubeconfig $kubeconfig, kubectl $kube_bin/kubectl" \
    "$(node_enabled && echo ", node $node_name on $node_ip, metrics-server on $node_ip:$metrics_server_port," \
      "Prometheus on $prometheus_url, prometheus-adapter on $node_ip:$prometheus_adapter_port")"
}

case ${1:-} in
  "") main ;;
  --only)
    [[ ${2:-} == kube-apiserver ]] || die "up.sh --only supports kube-apiserver, not '${2:-}'"
    etcd_ok || die "etcd is not up on $etcd_url: run up.sh without --only"
    [[ -s $pki_dir/admin.crt ]] || die "no certificates in $pki_dir: run up.sh without --only"
    node_enabled && ensure_metrics_server_pki
    ensure_apiserver
    ;;
  *) echo "usage: $0 [--only kube-apiserver]" >&2; exit 2 ;;
esac
