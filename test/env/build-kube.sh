#!/usr/bin/env bash
# Builds the Kubernetes components the tests run, at the release pinned in test/env/kube/go.mod, into a
# cache outside git: the control plane (kube-apiserver, kube-controller-manager, kubectl), the test node
# (kubelet, kube-proxy) and kube-scheduler (the benchmark's reference); then kwok (fake Nodes for scale tests)
# at the version in test/env/kube/kwok-version, etcd at the version in test/env/etcd/go.mod, metrics-server at the
# version in test/env/kube/metrics-server-version, prometheus-adapter at the version in
# test/env/prometheus-adapter/go.mod, and the Cluster API CRDs. Builds only what is missing from the cache.
# The first build on a machine takes a while (2 cores: see README); later runs are instant.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
module_dir=$here/kube

# The release is read from go.mod so that there is one place to change it.
kube_version=$(sed -n 's#^require k8s.io/kubernetes \(v[0-9][0-9.]*\)$#\1#p' "$module_dir/go.mod")
[[ -n $kube_version ]] || { echo "build-kube: cannot read the k8s.io/kubernetes version from $module_dir/go.mod" >&2; exit 1; }
major=${kube_version#v}; major=${major%%.*}
minor=${kube_version#v*.}; minor=${minor%%.*}

cache_dir=${BERTH_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/berth}
bin_dir=$cache_dir/kube-$kube_version/bin

kwok_version=$(<"$module_dir/kwok-version")

# The Cluster API CRDs (MachineDeployment, Machine) that managed groups of Nodes scale through, from the
# sigs.k8s.io/cluster-api module at the version in test/env/kube/cluster-api-version (the Go module proxy
# serves it; no other download). Only the CRD YAML is kept, in <cache>/cluster-api-<version>/crds.
ensure_cluster_api_crds() {
  local version dir module
  version=$(<"$module_dir/cluster-api-version")
  dir=$cache_dir/cluster-api-$version/crds
  [[ -f $dir/cluster.x-k8s.io_machines.yaml && -f $dir/cluster.x-k8s.io_machinedeployments.yaml ]] && return 0
  command -v go >/dev/null 2>&1 || { echo "build-kube: Go toolchain not found (needed to fetch the Cluster API CRDs)" >&2; exit 1; }
  module=$(cd "$cache_dir" && GOFLAGS= go mod download -json "sigs.k8s.io/cluster-api@$version" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
  [[ -d $module/config/crd/bases ]] || { echo "build-kube: sigs.k8s.io/cluster-api@$version has no config/crd/bases" >&2; exit 1; }
  mkdir -p "$dir.tmp.$$"
  cp "$module"/config/crd/bases/cluster.x-k8s.io_{machines,machinedeployments}.yaml "$dir.tmp.$$/"
  chmod u+w "$dir.tmp.$$"/*.yaml
  rm -rf "$dir" && mv "$dir.tmp.$$" "$dir"
  echo "build-kube: Cluster API $version CRDs in $dir"
}
# etcd from its own module (test/env/etcd: its go.mod names the server module, whose own replace lines rule
# out `go install pkg@version`), into <cache>/etcd-<version>/etcd.
ensure_etcd_binary() {
  local version dir
  version=$(sed -n 's#^require go.etcd.io/etcd/server/v3 \(v[0-9][0-9.]*\)$#\1#p' "$here/etcd/go.mod")
  [[ -n $version ]] || { echo "build-kube: cannot read the etcd version from $here/etcd/go.mod" >&2; exit 1; }
  dir=$cache_dir/etcd-$version
  [[ -x $dir/etcd ]] && return 0
  command -v go >/dev/null 2>&1 || { echo "build-kube: Go toolchain not found (needed to build etcd)" >&2; exit 1; }
  echo "build-kube: building etcd $version into $dir"
  mkdir -p "$dir"
  (cd "$here/etcd" && GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -o "$dir/etcd.tmp.$$" go.etcd.io/etcd/server/v3)
  mv "$dir/etcd.tmp.$$" "$dir/etcd"
}
# metrics-server (the resource metrics API, metrics.k8s.io, that Pod tasks' usage is read from), from the Go
# module proxy: its module has no replace lines, so `go install pkg@version` builds it as released, into
# <cache>/metrics-server-<version>/metrics-server. v0.8.x is built on the k8s.io 0.33 libraries (one minor
# behind the 1.34 control plane, within the client skew); v0.9 needs 0.36 and a newer Go.
ensure_metrics_server_binary() {
  local version dir
  version=$(<"$module_dir/metrics-server-version")
  dir=$cache_dir/metrics-server-$version
  [[ -x $dir/metrics-server ]] && return 0
  command -v go >/dev/null 2>&1 || { echo "build-kube: Go toolchain not found (needed to build metrics-server)" >&2; exit 1; }
  echo "build-kube: building metrics-server $version into $dir"
  local started=$SECONDS
  mkdir -p "$dir/bin.tmp.$$"
  (cd "$dir" && GOFLAGS="-buildvcs=false" GOBIN="$dir/bin.tmp.$$" go install -trimpath "sigs.k8s.io/metrics-server/cmd/metrics-server@$version")
  mv "$dir/bin.tmp.$$/metrics-server" "$dir/metrics-server" && rmdir "$dir/bin.tmp.$$"
  echo "build-kube: metrics-server $version built in $((SECONDS - started))s"
}
# prometheus-adapter (the external metrics API, external.metrics.k8s.io, served from the test environment's
# Prometheus) from its own module (test/env/prometheus-adapter: `go install pkg@version` looks the module's
# deprecation up in a version list the reachable module proxy refuses), into
# <cache>/prometheus-adapter-<version>/prometheus-adapter (named so, as up.sh knows a daemon by its command name).
ensure_prometheus_adapter_binary() {
  local version dir
  version=$(sed -n 's#^require sigs.k8s.io/prometheus-adapter \(v[0-9][0-9.]*\)$#\1#p' "$here/prometheus-adapter/go.mod")
  [[ -n $version ]] || { echo "build-kube: cannot read the prometheus-adapter version from $here/prometheus-adapter/go.mod" >&2; exit 1; }
  dir=$cache_dir/prometheus-adapter-$version
  [[ -x $dir/prometheus-adapter ]] && return 0
  command -v go >/dev/null 2>&1 || { echo "build-kube: Go toolchain not found (needed to build prometheus-adapter)" >&2; exit 1; }
  echo "build-kube: building prometheus-adapter $version into $dir"
  local started=$SECONDS
  mkdir -p "$dir"
  (cd "$here/prometheus-adapter" && GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -o "$dir/prometheus-adapter.tmp.$$" \
    sigs.k8s.io/prometheus-adapter/cmd/adapter)
  mv "$dir/prometheus-adapter.tmp.$$" "$dir/prometheus-adapter"
  echo "build-kube: prometheus-adapter $version built in $((SECONDS - started))s"
}
binaries=()
for b in kube-apiserver kube-controller-manager kubectl kubelet kube-proxy kube-scheduler; do
  [[ -x $bin_dir/$b ]] || binaries+=("$b")
done
build_kwok=0
[[ -x $bin_dir/kwok && $(<"$bin_dir/kwok.version") == "$kwok_version" ]] 2>/dev/null || build_kwok=1
# CI's environment may not have Go's bin directory on PATH.
if ! command -v go >/dev/null 2>&1; then
  for d in /usr/local/go/bin /usr/lib/go/bin; do [[ -x $d/go ]] && PATH=$d:$PATH && break; done
fi
mkdir -p "$cache_dir"
ensure_cluster_api_crds
ensure_etcd_binary
ensure_metrics_server_binary
ensure_prometheus_adapter_binary
if (( ${#binaries[@]} == 0 && build_kwok == 0 )); then
  echo "build-kube: Kubernetes $kube_version and kwok $kwok_version already in $bin_dir"
  exit 0
fi

command -v go >/dev/null 2>&1 || { echo "build-kube: Go toolchain not found (needed to build kube-apiserver)" >&2; exit 1; }

# Without these stamps both binaries report v0.0.0-master, and kubectl then prints
# version-skew warnings into every test's output. client-go keeps its own copy of the variables.
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

start=$(date +%s)
tmp_dir=$cache_dir/kube-$kube_version/bin.tmp.$$
trap 'rm -rf "$tmp_dir"' EXIT
mkdir -p "$tmp_dir" "$bin_dir"
if (( ${#binaries[@]} > 0 )); then
  echo "build-kube: building ${binaries[*]} $kube_version into $bin_dir (go $(go env GOVERSION)); this takes several minutes on a cold machine"
  # -mod=mod: go.mod only names k8s.io/kubernetes (and pins its staging modules); go resolves the rest
  # deterministically from go.sum. One `go build` for all commands shares the compile work.
  (cd "$module_dir" && GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -ldflags "$ldflags" -o "$tmp_dir/" \
    "${binaries[@]/#/k8s.io/kubernetes/cmd/}")
  # Move into place only when all built, so a half-finished build never looks complete.
  for b in "${binaries[@]}"; do mv "$tmp_dir/$b" "$bin_dir/"; done
fi
if (( build_kwok )); then
  echo "build-kube: building kwok $kwok_version into $bin_dir"
  # kwok has its own module graph (no replace lines), so `go install pkg@version` builds it as released.
  (cd "$tmp_dir" && GOFLAGS="-buildvcs=false" GOBIN="$tmp_dir" go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$kwok_version")
  mv "$tmp_dir/kwok" "$bin_dir/kwok"
  echo "$kwok_version" >"$bin_dir/kwok.version"
fi
echo "build-kube: built in $(( $(date +%s) - start ))s: $("$bin_dir/kubectl" version --client 2>/dev/null | head -1)"
