#!/usr/bin/env bash
# Builds the operator image from the Dockerfile on this machine, where no image registry is reachable, and
# loads it into the test node's containerd (for the in-cluster install test):
#   1. a local base: a root filesystem of busybox, this machine's Node.js runtime (node, its shared
#      libraries and npm) and a passwd for the non-root user; a build base beside it with npm's cache of
#      this checkout's dependencies and npm set offline, so `npm ci` in the build stage needs no network;
#   2. `docker build --network=none --build-arg BASE=... --build-arg BUILD_BASE=...`, the Dockerfile as is;
#   3. `docker save | ctr -n k8s.io images import`, and busybox:stable (what the examples run) tagged from
#      the test image, as the node pulls nothing.
# Prints the image name. Usage: test/env/operator-image.sh [IMAGE] (default berth:dev).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
repo_dir=$(cd "$env_dir/../.." && pwd)
image=${1:-berth:dev}
containerd_sock=$run_dir/node/containerd/containerd.sock
[[ -S $containerd_sock ]] || die "no test node containerd at $containerd_sock: run test/env/up.sh first"
docker() { DOCKER_HOST=$docker_host "$docker_cli" "$@"; }
ctr_node() { ctr -a "$containerd_sock" -n k8s.io "$@"; }

node_bin=$(readlink -f "$(command -v node)")
node_version=$("$node_bin" --version)
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
base=berth-test/node-base:$node_version
build_base=berth-test/node-build:$node_version

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

if ! docker image inspect "$base" >/dev/null 2>&1; then
  log "building $base from busybox and $node_bin"
  mkdir -p "$stage/base"/{bin,etc,tmp,usr/bin,usr/lib/node_modules,app}
  chmod 1777 "$stage/base/tmp"
  cp /bin/busybox "$stage/base/bin/busybox"
  for applet in $(/bin/busybox --list); do [[ $applet == busybox ]] || ln -sf busybox "$stage/base/bin/$applet"; done
  cp "$node_bin" "$stage/base/usr/bin/node"
  # The shared libraries node links against, at the paths the dynamic loader looks them up.
  for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
    mkdir -p "$stage/base$(dirname "$lib")"
    cp -L "$lib" "$stage/base$lib"
  done
  cp -r "$npm_dir" "$stage/base/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$stage/base/usr/bin/npm"
  ln -sf /bin/busybox "$stage/base/usr/bin/env" # npm's #!/usr/bin/env node
  printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/false\n' >"$stage/base/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$stage/base/etc/group"
  tar -C "$stage/base" --numeric-owner --owner=0 --group=0 -cf - . |
    docker import -c 'ENV PATH=/usr/bin:/bin' -c 'LABEL dev.berth.test-image=node-base' - "$base" >/dev/null
fi

# The build base carries npm's cache of exactly this lockfile's packages (filled by `npm ci` on the host).
lock_hash=$(sha256sum "$repo_dir/package-lock.json" | cut -c1-12)
if ! docker image inspect "$build_base-$lock_hash" >/dev/null 2>&1; then
  log "building $build_base-$lock_hash with npm's cache of package-lock.json"
  mkdir -p "$stage/cache"
  npm_cache=$(npm config get cache)
  # npm ci in a copy of the lockfile, never in the checkout: other tests are using its node_modules.
  mkdir -p "$stage/fill"
  cp "$repo_dir/package.json" "$repo_dir/package-lock.json" "$stage/fill/"
  (cd "$stage/fill" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --cache "$npm_cache" >/dev/null)
  cp -r "$npm_cache/_cacache" "$stage/cache/_cacache"
  cat >"$stage/cache/Dockerfile" <<DOCKERFILE
FROM $base
COPY _cacache /root/.npm/_cacache
ENV npm_config_offline=true npm_config_update_notifier=false
DOCKERFILE
  docker build --network=none -q -t "$build_base-$lock_hash" "$stage/cache" >/dev/null
fi

log "building $image from $repo_dir/Dockerfile (BASE=$base)"
docker build --network=none -q --build-arg "BASE=$base" --build-arg "BUILD_BASE=$build_base-$lock_hash" -t "$image" "$repo_dir" >/dev/null
docker save "$image" | ctr_node images import - >/dev/null
ctr_node images tag --force "docker.io/$test_image" docker.io/library/busybox:stable >/dev/null
echo "$image"
