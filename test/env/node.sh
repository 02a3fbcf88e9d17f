# shellcheck shell=bash
# The test node (sourced by up.sh and down.sh, not run): a real kubelet joined to the test kube-apiserver,
# on a containerd of its own, with CNI bridge networking, kube-proxy for the `kubernetes` Service, and kwok
# for fake Nodes. The facts behind every setting are in ../shared/docs/kubelet-node.md (section numbers below).
# Everything it writes lives in <run dir>/node; what it changes on the host (two bridges, iptables chains,
# two sysctls, three fixed paths) is listed in node_stop, which undoes it.

node_dir=$run_dir/node
node_name=${BERTH_NODE_NAME:-berth-node}
# A /32 on a bridge with no ports (no dummy interfaces here, §4): the kubelet refuses a loopback node IP.
node_ip=${BERTH_NODE_IP:-10.250.0.1}
node_bridge=berth0
pod_bridge=berthbr0
pod_cidr=10.244.0.0/24
pod_gateway=10.244.0.1
kubelet_port=16250
kubelet_healthz_port=16248
kube_proxy_healthz_port=16256
kube_proxy_metrics_port=16249
containerd_sock=$node_dir/containerd/containerd.sock
pause_image=berth-test/pause:latest
# Paths the kubelet and CNI use whatever their flags say (§12); removed on stop only when we created them.
node_fixed_paths=(/var/lib/kubelet /var/lib/cni /var/log/containers)

node_enabled() { [[ ${BERTH_NODE:-1} == 1 ]]; }

ctr_node() { ctr -a "$containerd_sock" -n k8s.io "$@"; }

kubelet_ok() { [[ $(curl -fsS --max-time 2 "http://127.0.0.1:$kubelet_healthz_port/healthz" 2>/dev/null) == ok ]]; }
containerd_ok() { [[ -S $containerd_sock ]] && ctr -a "$containerd_sock" version >/dev/null 2>&1; }
kube_proxy_ok() { curl -fsS --max-time 2 "http://127.0.0.1:$kube_proxy_healthz_port/healthz" >/dev/null 2>&1; }
node_ready() {
  [[ $("$kube_bin/kubectl" --kubeconfig "$kubeconfig" get node "$node_name" \
    -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == True ]]
}

# The node address must exist before kube-apiserver starts: it advertises it as the `kubernetes` Service's endpoint.
ensure_node_address() {
  if ! ip link show "$node_bridge" >/dev/null 2>&1; then
    log "node: adding $node_ip on bridge $node_bridge"
    ip link add "$node_bridge" type bridge
  fi
  [[ $(ip -4 -o addr show dev "$node_bridge") == *" inet $node_ip/32 "* ]] || ip addr add "$node_ip/32" dev "$node_bridge"
  ip link set "$node_bridge" up
}

# The certificates the node needs, signed by the run's CA (§8): the kubelet's client and serving certs, the API
# server's client cert for the kubelet (logs, exec), and kube-proxy's client cert.
make_node_pki() {
  sign_cert kubelet-client "/O=system:nodes/CN=system:node:$node_name" "extendedKeyUsage=clientAuth"
  sign_cert kubelet-serving "/CN=$node_name" "extendedKeyUsage=serverAuth" "subjectAltName=IP:$node_ip,DNS:$node_name"
  sign_cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
  sign_cert kube-proxy "/CN=system:kube-proxy" "extendedKeyUsage=clientAuth"
}

# write_if_changed FILE < CONTENT: kube-proxy exits when its configuration file changes, so an up.sh that
# finds the node running rewrites nothing; a file is replaced whole (a reader never sees half of it).
write_if_changed() {
  local tmp
  tmp=$(dirname "$1")/.$(basename "$1").tmp
  (umask 077 && cat >"$tmp")
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

write_node_config() {
  mkdir -p "$node_dir"/{containerd,cni/net.d,cni/ipam,kubelet/root,kubelet/pod-logs,kubelet/volume-plugins}
  # §5: a containerd of its own; never on /run/containerd/containerd.sock, which dockerd would adopt.
  write_if_changed "$node_dir/containerd/config.toml" <<EOF
version = 2
root = "$node_dir/containerd/root"
state = "$node_dir/containerd/state"
oom_score = 0
[grpc]
  address = "$containerd_sock"
[ttrpc]
  address = ""
[debug]
  address = ""
  level = "info"
[metrics]
  address = ""
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$pause_image"
    restrict_oom_score_adj = true
    enable_selinux = false
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    netns_mounts_under_state_dir = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          Root = "$node_dir/containerd/runc"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$node_dir/cni/net.d"
      max_conf_num = 1
  [plugins."io.containerd.internal.v1.opt"]
    path = "$node_dir/containerd/opt"
EOF
  # §6: the firewall plugin is what lets Pod traffic through Docker's FORWARD policy DROP. Written under a
  # temporary name (not *.conf*) and moved: containerd reloads a half-written file otherwise.
  write_if_changed "$node_dir/cni/net.d/10-berth.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "berth",
  "plugins": [
    {
      "type": "bridge", "bridge": "$pod_bridge", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$pod_cidr", "gateway": "$pod_gateway" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$node_dir/cni/ipam"
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "firewall", "backend": "iptables" }
  ]
}
EOF

  write_kubeconfig "$node_dir/kubelet/kubeconfig" kubelet-client "system:node:$node_name"
  write_kubeconfig "$node_dir/kube-proxy.kubeconfig" kube-proxy system:kube-proxy
  # §8, in full. resolvConf "": no cluster DNS, and the host's resolver stays out of Pods.
  write_if_changed "$node_dir/kubelet/config.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $kubelet_healthz_port
tlsCertFile: $pki_dir/kubelet-serving.crt
tlsPrivateKeyFile: $pki_dir/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki_dir/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$containerd_sock
cgroupDriver: cgroupfs
cgroupsPerQOS: true
enforceNodeAllocatable: ["pods"]
failCgroupV1: false
failSwapOn: false
memorySwap: {swapBehavior: NoSwap}
oomScoreAdj: 0
resolvConf: ""
clusterDomain: cluster.local
podLogsDir: $node_dir/kubelet/pod-logs
volumePluginDir: $node_dir/kubelet/volume-plugins
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: "100Mi"
  nodefs.available: "1%"
  imagefs.available: "1%"
  nodefs.inodesFree: "1%"
registerNode: true
rotateCertificates: false
serverTLSBootstrap: false
EOF
  # §9: iptables mode; conntrack 0s leave the host's nf_conntrack sysctls alone.
  write_if_changed "$node_dir/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $node_dir/kube-proxy.kubeconfig}
hostnameOverride: $node_name
mode: iptables
clusterCIDR: 10.244.0.0/16
detectLocalMode: ClusterCIDR
bindAddress: 0.0.0.0
healthzBindAddress: 127.0.0.1:$kube_proxy_healthz_port
metricsBindAddress: 127.0.0.1:$kube_proxy_metrics_port
nodePortAddresses: ["primary"]
iptables: {localhostNodePorts: false}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
  # §10: kwok manages only the Nodes annotated as fake; its Pods go Running without containers.
  mkdir -p "$node_dir/kwok-home"
  sed "s#^  nodeIP: .*#  nodeIP: $node_ip#" "$env_dir/kwok.yaml" | write_if_changed "$node_dir/kwok.yaml"
}

# §7: the test image and a pause image made from it, imported into the node's containerd (no registry).
ensure_node_images() {
  if ! ctr_node images ls -q | grep -qx "docker.io/$pause_image"; then
    DOCKER_HOST=$docker_host "$docker_cli" image inspect "$pause_image" >/dev/null 2>&1 ||
      DOCKER_HOST=$docker_host "$docker_cli" save "$test_image" | tar -xO --wildcards '*/layer.tar' |
      DOCKER_HOST=$docker_host "$docker_cli" import -c 'ENTRYPOINT ["/bin/sleep","infinity"]' - "$pause_image" >/dev/null
    DOCKER_HOST=$docker_host "$docker_cli" save "$pause_image" | ctr_node images import - >/dev/null
  fi
  ctr_node images ls -q | grep -qx "docker.io/$test_image" ||
    DOCKER_HOST=$docker_host "$docker_cli" save "$test_image" | ctr_node images import - >/dev/null
}

ensure_node() {
  node_enabled || return 0
  command -v ctr >/dev/null && [[ -x /usr/lib/cni/bridge ]] || die "the test node needs containerd and containernetworking-plugins"
  write_node_config
  local p
  for p in "${node_fixed_paths[@]}"; do
    [[ -e $p || -e $node_dir/created${p//\//_} ]] || { mkdir -p "$p" && touch "$node_dir/created${p//\//_}"; }
  done
  if ! containerd_ok; then
    pid_alive containerd || {
      log "node: starting containerd (socket $containerd_sock)"
      start_daemon containerd "$node_dir/containerd.log" containerd --config "$node_dir/containerd/config.toml"
    }
    wait_until 30 containerd_ok || fail_with_log "the node's containerd did not come up" "$node_dir/containerd.log"
  fi
  ensure_node_images
  # The kubelet raises vm.overcommit_memory and kernel.panic (§12): record what they were, for node_stop.
  [[ -f $node_dir/sysctls.before ]] || sysctl vm.overcommit_memory kernel.panic >"$node_dir/sysctls.before"
  if ! kubelet_ok && ! pid_alive kubelet; then
    log "node: starting kubelet $node_name on $node_ip (log $node_dir/kubelet.log)"
    start_daemon kubelet "$node_dir/kubelet.log" "$kube_bin/kubelet" \
      --config="$node_dir/kubelet/config.yaml" --kubeconfig="$node_dir/kubelet/kubeconfig" \
      --root-dir="$node_dir/kubelet/root" --cert-dir="$node_dir/kubelet/pki" \
      --hostname-override="$node_name" --node-ip="$node_ip" --v=1 \
      --node-labels=topology.kubernetes.io/zone=zone-a # a zone, as cloud nodes have (the examples spread over zones)
  fi
  if ! kube_proxy_ok && ! pid_alive kube-proxy; then
    log "node: starting kube-proxy (log $node_dir/kube-proxy.log)"
    start_daemon kube-proxy "$node_dir/kube-proxy.log" "$kube_bin/kube-proxy" --config="$node_dir/kube-proxy.yaml" --v=1
  fi
  if ! pid_alive kwok; then
    log "node: starting kwok (log $node_dir/kwok.log)"
    start_daemon kwok "$node_dir/kwok.log" env HOME="$node_dir/kwok-home" "$kube_bin/kwok" \
      --kubeconfig="$kubeconfig" --config="$node_dir/kwok.yaml"
  fi
  wait_until 60 kube_proxy_ok || fail_with_log "kube-proxy did not become healthy" "$node_dir/kube-proxy.log"
  wait_until 90 node_ready || fail_with_log "Node $node_name did not become Ready" "$node_dir/kubelet.log"
}

# Stops the node and undoes what it changed on the host (§12), in this order: Pods first (the kubelet tears
# their sandboxes down through CNI), then the daemons by pid, then rules, mounts, cgroups, interfaces, paths.
node_stop() {
  [[ -d $node_dir ]] || return 0 # this run dir never started a node
  if pid_alive kubelet && apiserver_ok; then
    "$kube_bin/kubectl" --kubeconfig "$kubeconfig" delete pods --all-namespaces --field-selector "spec.nodeName=$node_name" \
      --grace-period=1 --wait=true --timeout=60s >/dev/null 2>&1 || true
  fi
  stop kubelet
  stop kube-proxy
  stop kwok
  if [[ -x $kube_bin/kube-proxy ]]; then "$kube_bin/kube-proxy" --cleanup >/dev/null 2>&1 || true; fi
  if [[ -S $containerd_sock ]] && pid_alive containerd; then
    local id
    for id in $(ctr_node tasks ls -q 2>/dev/null); do ctr_node tasks kill -s KILL "$id" >/dev/null 2>&1 || true; done
    for id in $(ctr_node containers ls -q 2>/dev/null); do ctr_node tasks delete -f "$id" >/dev/null 2>&1 || true; ctr_node containers delete "$id" >/dev/null 2>&1 || true; done
  fi
  stop containerd
  remove_node_iptables
  if [[ -d $node_dir ]]; then
    local m
    for m in $(awk '{print $2}' /proc/mounts | grep "^$node_dir" | sort -r); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  fi
  local c
  for c in /sys/fs/cgroup/*/kubepods; do
    if [[ -d $c ]]; then find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null || true; fi
  done
  ip link del "$pod_bridge" 2>/dev/null || true
  ip link del "$node_bridge" 2>/dev/null || true
  # The kubelet sets these two; restore the values it found (recorded before it first started).
  if [[ -f $node_dir/sysctls.before ]]; then sysctl -q -p "$node_dir/sysctls.before" >/dev/null 2>&1 || true; fi
  local p
  for p in "${node_fixed_paths[@]}"; do
    if [[ -e $node_dir/created${p//\//_} ]]; then rm -rf "$p"; fi
  done
  rmdir /run/containerd/s /run/containerd 2>/dev/null || true
  rm -rf "$node_dir"
}

# The kubelet's and CNI's iptables chains (kube-proxy --cleanup removes its own, §12); Docker's stay.
node_chain_pattern='^(CNI-[A-Za-z0-9-]+|KUBE-FIREWALL|KUBE-KUBELET-CANARY|KUBE-IPTABLES-HINT)$'
remove_node_iptables() {
  local cmd table chain rule
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for table in nat filter mangle; do
      # The jumps into those chains from the built-in ones first, then the chains (flushed, then deleted).
      while read -r rule; do
        [[ -n $rule ]] || continue
        # An iptables -S line keeps its comments quoted: eval splits it as iptables-save wrote it.
        eval "$cmd -t $table ${rule/#-A/-D}" 2>/dev/null || true
      done < <("$cmd" -t "$table" -S 2>/dev/null | grep -E '^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) .*-j (CNI-|KUBE-FIREWALL|KUBE-KUBELET-CANARY|KUBE-IPTABLES-HINT)' || true)
      local chains
      chains=$("$cmd" -t "$table" -S 2>/dev/null | awk '$1 == "-N" {print $2}' | grep -E "$node_chain_pattern" || true)
      for chain in $chains; do "$cmd" -t "$table" -F "$chain" 2>/dev/null || true; done
      for chain in $chains; do "$cmd" -t "$table" -X "$chain" 2>/dev/null || true; done
    done
  done
}
