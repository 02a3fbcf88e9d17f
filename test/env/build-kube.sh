#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kubectl at the Kubernetes release pinned in
# test/env/kube/go.mod, into a cache outside git. Skips the build when all three are already there.
# kube-controller-manager runs only its garbage-collector, namespace and service-account controllers,
# so that ownerReferences cascade and namespaces really go away, as on a real cluster.
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

binaries=(kube-apiserver kube-controller-manager kubectl)
missing=0
for b in "${binaries[@]}"; do [[ -x $bin_dir/$b ]] || missing=1; done
if (( missing == 0 )); then
  echo "build-kube: ${binaries[*]} $kube_version already in $bin_dir"
  exit 0
fi

# CI's environment may not have Go's bin directory on PATH.
if ! command -v go >/dev/null 2>&1; then
  for d in /usr/local/go/bin /usr/lib/go/bin; do [[ -x $d/go ]] && PATH=$d:$PATH && break; done
fi
command -v go >/dev/null 2>&1 || { echo "build-kube: Go toolchain not found (needed to build kube-apiserver)" >&2; exit 1; }

# Without these stamps both binaries report v0.0.0-master, and kubectl then prints
# version-skew warnings into every test's output. client-go keeps its own copy of the variables.
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

echo "build-kube: building ${binaries[*]} $kube_version into $bin_dir (go $(go env GOVERSION)); this takes several minutes on a cold machine"
start=$(date +%s)
tmp_dir=$cache_dir/kube-$kube_version/bin.tmp.$$
trap 'rm -rf "$tmp_dir"' EXIT
mkdir -p "$tmp_dir"
# -mod=mod: go.mod only names k8s.io/kubernetes (and pins its staging modules); go resolves the rest
# deterministically from go.sum. One `go build` for all commands shares the compile work.
(cd "$module_dir" && GOFLAGS="-mod=mod -buildvcs=false" go build -trimpath -ldflags "$ldflags" -o "$tmp_dir/" \
  "${binaries[@]/#/k8s.io/kubernetes/cmd/}")

# Move into place only when all built, so a half-finished build never looks complete.
mkdir -p "$bin_dir"
for b in "${binaries[@]}"; do mv "$tmp_dir/$b" "$bin_dir/"; done
echo "build-kube: built in $(( $(date +%s) - start ))s: $("$bin_dir/kubectl" version --client 2>/dev/null | head -1)"
