# shellcheck shell=bash
# Prometheus and prometheus-adapter on the test node (sourced by up.sh and down.sh, not run): the external metrics
# API, external.metrics.k8s.io, backed by a real Prometheus, so that auto scaling on a metric from outside the
# cluster (requests per target) is tested end to end. Host processes, like metrics-server (metrics-server.sh):
#   - Prometheus is Debian's (installed by up.sh), on loopback (127.0.0.1:$prometheus_port), with its data in the
#     run dir. It scrapes every second whatever targets a test lists in a JSON file of its own under
#     <run dir>/prometheus-targets (file_sd, re-read every second), and nothing else;
#   - prometheus-adapter, built by build-kube.sh at the version in prometheus-adapter/go.mod, serves one external
#     metric (prometheus_adapter_config), relisting Prometheus's series every second. It talks to the API server as
#     the user `prometheus-adapter` (a client cert) with the RBAC of the adapter's own release
#     (prometheus-adapter.yaml), delegated authn/authz;
#   - the API server reaches it through the APIService v1beta1.external.metrics.k8s.io and a Service in kube-system
#     without selector whose Endpoints/EndpointSlice name the node address, as the aggregator (the front-proxy
#     client cert and flags metrics-server.sh gives the API server).
# Only with the node: a control plane without it (a suite's private one, BERTH_NODE=0) would take the same fixed
# ports. Both stop by pid with the rest (down.sh); Prometheus's data and the API objects stay for the next up.sh.

prometheus_port=${BERTH_PROMETHEUS_PORT:-19090}
prometheus_url=http://127.0.0.1:$prometheus_port
prometheus_bin=/usr/bin/prometheus
prometheus_dir=$run_dir/prometheus
# A test adds a scrape target by writing <name>.json here ([{"targets": ["127.0.0.1:PORT"], "labels": {...}}]).
prometheus_targets_dir=$run_dir/prometheus-targets
prometheus_adapter_port=${BERTH_PROMETHEUS_ADAPTER_PORT:-16445}
prometheus_adapter_bin=$cache_dir/prometheus-adapter-$(sed -n 's#^require sigs.k8s.io/prometheus-adapter \(v[0-9][0-9.]*\)$#\1#p' \
  "$env_dir/prometheus-adapter/go.mod")/prometheus-adapter

prometheus_ok() { curl -fsS --max-time 2 "$prometheus_url/-/ready" >/dev/null 2>&1; }
prometheus_adapter_ok() {
  [[ $(curl -fsS --max-time 2 --cacert "$pki_dir/ca.crt" "https://$node_ip:$prometheus_adapter_port/readyz" 2>/dev/null) == ok ]]
}
external_metrics_api_available() {
  [[ $("$kube_bin/kubectl" --kubeconfig "$kubeconfig" get apiservice v1beta1.external.metrics.k8s.io \
    -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' 2>/dev/null) == True ]]
}

# replace_if_changed NEW FILE: moves NEW over FILE and succeeds when they differ; otherwise drops NEW and fails.
replace_if_changed() {
  if cmp -s "$1" "$2"; then
    rm -f "$1"
    return 1
  fi
  mv "$1" "$2"
}

prometheus_config() {
  # scrape_timeout: its default (10 s) may not exceed the interval.
  cat <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: berth-test
    file_sd_configs:
      - files: ['$prometheus_targets_dir/*.json']
        refresh_interval: 1s
EOF
}

prometheus_args() {
  # A day of data: a long-lived environment's disk stays small.
  printf '%s\n' --config.file="$prometheus_dir/prometheus.yml" --storage.tsdb.path="$prometheus_dir/data" \
    --storage.tsdb.retention.time=1d --web.listen-address="127.0.0.1:$prometheus_port" --log.level=warn
}

ensure_prometheus() {
  node_enabled || return 0
  [[ -x $prometheus_bin ]] || die "Prometheus is not installed ($prometheus_bin; up.sh installs Debian's prometheus)"
  mkdir -p "$prometheus_dir" "$prometheus_targets_dir"
  prometheus_config >"$prometheus_dir/prometheus.yml.new"
  # A new configuration is read on SIGHUP, without a restart.
  if replace_if_changed "$prometheus_dir/prometheus.yml.new" "$prometheus_dir/prometheus.yml" && pid_alive prometheus; then
    log "prometheus: its configuration changed; reloading it"
    kill -HUP "$(<"$run_dir/prometheus.pid")"
  fi
  local -a args
  mapfile -t args < <(prometheus_args)
  printf '%s\n' "${args[@]}" >"$run_dir/prometheus.args.new"
  restart_if_changed prometheus "$run_dir/prometheus.args.new"
  if prometheus_ok && ! pid_alive prometheus; then
    die "something else answers on $prometheus_url (not started from $run_dir); stop it or set BERTH_PROMETHEUS_PORT"
  fi
  if ! pid_alive prometheus; then
    rm -f "$run_dir/prometheus.pid"
    log "prometheus: starting on $prometheus_url (log $run_dir/prometheus.log)"
    mv "$run_dir/prometheus.args.new" "$run_dir/prometheus.args"
    start_daemon prometheus "$run_dir/prometheus.log" "$prometheus_bin" "${args[@]}"
  fi
  rm -f "$run_dir/prometheus.args.new"
  wait_until 60 prometheus_ok || fail_with_log "Prometheus did not become ready" "$run_dir/prometheus.log"
}

# Its certificates, signed by the run's CA when missing (as ensure_metrics_server_pki does): the serving cert (the
# name the aggregator dials, and the node address) and its client cert.
ensure_prometheus_adapter_pki() {
  [[ -s $pki_dir/prometheus-adapter-serving.crt ]] ||
    sign_cert prometheus-adapter-serving "/CN=prometheus-adapter" "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:$node_ip,DNS:prometheus-adapter.kube-system.svc,DNS:prometheus-adapter.kube-system.svc.cluster.local"
  [[ -s $pki_dir/prometheus-adapter-client.crt ]] ||
    sign_cert prometheus-adapter-client "/CN=prometheus-adapter" "extendedKeyUsage=clientAuth"
}

# One external metric: berth_test_requests_total (a counter a test serves, with a label `service`) as
# berth_test_requests_per_minute, the requests per minute over the last 10 s summed over the series the label
# selector picks. Not namespaced: a query from any namespace sees every series (the series carry no namespace).
prometheus_adapter_config() {
  cat <<'EOF'
rules: []
externalRules:
  - seriesQuery: 'berth_test_requests_total{service!=""}'
    name: { matches: '^berth_test_requests_total$', as: berth_test_requests_per_minute }
    metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[10s])) * 60'
    resources: { namespaced: false }
EOF
}

prometheus_adapter_args() {
  # --metrics-max-age: the series of a target a test removed stay listed a minute (its query then finds no data)
  # rather than flickering in and out between 1 s relists.
  printf '%s\n' --config="$run_dir/prometheus-adapter-config.yaml" --prometheus-url="$prometheus_url/" \
    --metrics-relist-interval=1s --metrics-max-age=1m \
    --lister-kubeconfig="$run_dir/prometheus-adapter.kubeconfig" \
    --authentication-kubeconfig="$run_dir/prometheus-adapter.kubeconfig" --authorization-kubeconfig="$run_dir/prometheus-adapter.kubeconfig" \
    --bind-address="$node_ip" --secure-port="$prometheus_adapter_port" \
    --tls-cert-file="$pki_dir/prometheus-adapter-serving.crt" --tls-private-key-file="$pki_dir/prometheus-adapter-serving.key" \
    --v=1
}

ensure_prometheus_adapter() {
  node_enabled || return 0
  [[ -x $prometheus_adapter_bin ]] || die "prometheus-adapter was not built ($prometheus_adapter_bin)"
  ensure_prometheus_adapter_pki
  write_kubeconfig "$run_dir/prometheus-adapter.kubeconfig" prometheus-adapter-client prometheus-adapter
  sed -e "s#__CA_BUNDLE__#$(base64 -w0 "$pki_dir/ca.crt")#" -e "s#__NODE_IP__#$node_ip#" -e "s#__PORT__#$prometheus_adapter_port#" \
    "$env_dir/prometheus-adapter.yaml" | "$kube_bin/kubectl" --kubeconfig "$kubeconfig" apply -f - >/dev/null 2> >(grep -v 'Warning: v1 Endpoints is deprecated' >&2)
  # It reads its configuration once, at start.
  prometheus_adapter_config >"$run_dir/prometheus-adapter-config.yaml.new"
  if replace_if_changed "$run_dir/prometheus-adapter-config.yaml.new" "$run_dir/prometheus-adapter-config.yaml" && pid_alive prometheus-adapter; then
    log "prometheus-adapter: its configuration changed; restarting it"
    stop_ours prometheus-adapter
  fi
  local -a args
  mapfile -t args < <(prometheus_adapter_args)
  printf '%s\n' "${args[@]}" >"$run_dir/prometheus-adapter.args.new"
  restart_if_changed prometheus-adapter "$run_dir/prometheus-adapter.args.new"
  if ! pid_alive prometheus-adapter; then
    rm -f "$run_dir/prometheus-adapter.pid"
    log "prometheus-adapter: starting on $node_ip:$prometheus_adapter_port (log $run_dir/prometheus-adapter.log)"
    mv "$run_dir/prometheus-adapter.args.new" "$run_dir/prometheus-adapter.args"
    start_daemon prometheus-adapter "$run_dir/prometheus-adapter.log" "$prometheus_adapter_bin" "${args[@]}"
  fi
  rm -f "$run_dir/prometheus-adapter.args.new"
  wait_until 60 prometheus_adapter_ok || fail_with_log "prometheus-adapter did not become ready" "$run_dir/prometheus-adapter.log"
  wait_until 60 external_metrics_api_available ||
    fail_with_log "the APIService v1beta1.external.metrics.k8s.io did not become Available" "$run_dir/prometheus-adapter.log"
}
