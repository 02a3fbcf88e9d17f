# shellcheck shell=bash
# metrics-server on the test node (sourced by up.sh, not run): the resource metrics API, metrics.k8s.io, that
# Berth reads a Pod task's CPU and memory from (and the HPA and `kubectl top` read). A host process, like the
# rest of the node, built by build-kube.sh at the version in kube/metrics-server-version:
#   - it scrapes the kubelet's /metrics/resource on the node address, trusting the kubelet's serving cert by
#     the run's CA (no --kubelet-insecure-tls), every 10 s (--metric-resolution: its minimum; a scrape then gets 5 s,
#     as the resolution must exceed --kubelet-request-timeout);
#   - it talks to the API server as the user `metrics-server` (a client cert), with the standard
#     metrics-server RBAC (metrics-server.yaml): nodes/metrics, pods and nodes, delegated authn/authz;
#   - the API server reaches it through the APIService v1beta1.metrics.k8s.io and a Service in kube-system
#     without selector whose Endpoints/EndpointSlice name the node address (Endpoints refuse loopback; the node
#     address is ours), as the aggregator, with a front-proxy client cert (apiserver_args: --requestheader-*,
#     --proxy-client-*) and --enable-aggregator-routing (to the endpoint, not through a ClusterIP).
# It stops by pid with the rest (down.sh); it changes nothing on the host. Its API objects live in etcd with the
# others and are applied again, unchanged, by every up.sh.

metrics_server_port=${BERTH_METRICS_SERVER_PORT:-16444}
metrics_server_bin=$cache_dir/metrics-server-$(<"$env_dir/kube/metrics-server-version")/metrics-server

metrics_server_ok() { [[ $(curl -fsS --max-time 2 --cacert "$pki_dir/ca.crt" "https://$node_ip:$metrics_server_port/readyz" 2>/dev/null) == ok ]]; }
metrics_api_available() {
  [[ $("$kube_bin/kubectl" --kubeconfig "$kubeconfig" get apiservice v1beta1.metrics.k8s.io \
    -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null) == True ]]
}

# Its certificates, signed by the run's CA when missing (never through make_pki, which would remake the API
# server's and restart it): the API server's front-proxy client (the requestheader CA is the run's CA, and only
# this CN may assert a user), metrics-server's serving cert (the name the aggregator dials, and the node
# address) and its client cert.
ensure_metrics_server_pki() {
  [[ -s $pki_dir/front-proxy-client.crt ]] || sign_cert front-proxy-client "/CN=front-proxy-client" "extendedKeyUsage=clientAuth"
  [[ -s $pki_dir/metrics-server-serving.crt ]] ||
    sign_cert metrics-server-serving "/CN=metrics-server" "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:$node_ip,DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.cluster.local"
  [[ -s $pki_dir/metrics-server-client.crt ]] || sign_cert metrics-server-client "/CN=metrics-server" "extendedKeyUsage=clientAuth"
}

# The API server flags the aggregator needs (added to apiserver_args with the node).
metrics_server_apiserver_args() {
  printf '%s\n' \
    --requestheader-client-ca-file="$pki_dir/ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$pki_dir/front-proxy-client.crt" --proxy-client-key-file="$pki_dir/front-proxy-client.key" \
    --enable-aggregator-routing=true
}

metrics_server_args() {
  printf '%s\n' --kubeconfig="$run_dir/metrics-server.kubeconfig" \
    --authentication-kubeconfig="$run_dir/metrics-server.kubeconfig" --authorization-kubeconfig="$run_dir/metrics-server.kubeconfig" \
    --bind-address="$node_ip" --secure-port="$metrics_server_port" \
    --tls-cert-file="$pki_dir/metrics-server-serving.crt" --tls-private-key-file="$pki_dir/metrics-server-serving.key" \
    --kubelet-certificate-authority="$pki_dir/ca.crt" --kubelet-preferred-address-types=InternalIP --kubelet-use-node-status-port \
    --metric-resolution=10s --kubelet-request-timeout=5s \
    --v=1
}

ensure_metrics_server() {
  node_enabled || return 0
  [[ -x $metrics_server_bin ]] || die "metrics-server was not built ($metrics_server_bin)"
  write_kubeconfig "$run_dir/metrics-server.kubeconfig" metrics-server-client metrics-server
  sed -e "s#__CA_BUNDLE__#$(base64 -w0 "$pki_dir/ca.crt")#" -e "s#__NODE_IP__#$node_ip#" -e "s#__PORT__#$metrics_server_port#" \
    "$env_dir/metrics-server.yaml" | "$kube_bin/kubectl" --kubeconfig "$kubeconfig" apply -f - >/dev/null 2> >(grep -v 'Warning: v1 Endpoints is deprecated' >&2)
  local -a args
  mapfile -t args < <(metrics_server_args)
  printf '%s\n' "${args[@]}" >"$run_dir/metrics-server.args.new"
  restart_if_changed metrics-server "$run_dir/metrics-server.args.new"
  if ! pid_alive metrics-server; then
    rm -f "$run_dir/metrics-server.pid"
    log "metrics-server: starting on $node_ip:$metrics_server_port (log $run_dir/metrics-server.log)"
    mv "$run_dir/metrics-server.args.new" "$run_dir/metrics-server.args"
    start_daemon metrics-server "$run_dir/metrics-server.log" "$metrics_server_bin" "${args[@]}"
  fi
  rm -f "$run_dir/metrics-server.args.new"
  wait_until 60 metrics_server_ok || fail_with_log "metrics-server did not become ready" "$run_dir/metrics-server.log"
  wait_until 60 metrics_api_available || fail_with_log "the APIService v1beta1.metrics.k8s.io did not become Available" "$run_dir/metrics-server.log"
}
