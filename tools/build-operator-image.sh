#!/usr/bin/env bash
# Builds the operator image on a machine without a container registry, and loads it into a Docker
# engine: the node binary of this machine and the libraries it links (a distroless layout), the
# production npm dependencies, dist/ and crds/, as the Dockerfile lays them out. Tagged as
# deploy/operator.yaml names it.
#
#   tools/build-operator-image.sh [--output FILE.tar] [--docker-host unix:///path/docker.sock]
#
# With --output, writes the root filesystem tarball for `docker import` and loads nothing. Run
# `npm run build` first. Prints the image tag on stdout.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$(node -p "require('$repo/package.json').version")"
tag="marina:${version}"
output=""
docker_host="${DOCKER_HOST:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --output) output="$2"; shift 2 ;;
    --docker-host) docker_host="$2"; shift 2 ;;
    *) echo "build-operator-image: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -f "$repo/dist/cli/main.js" ] || { echo "build-operator-image: run npm run build first" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
app="$root/opt/marina"
mkdir -p "$app" "$root/usr/bin" "$root/etc" "$root/tmp"
chmod 1777 "$root/tmp"

# Node.js and every library it loads, at the paths the dynamic linker looks for them.
node_bin="$(readlink -f "$(command -v node)")"
cp "$node_bin" "$root/usr/bin/node"
for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
printf "127.0.0.1 localhost\n::1 localhost\n" >"$root/etc/hosts"

cp "$repo/package.json" "$repo/package-lock.json" "$app/"
(cd "$app" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
cp -r "$repo/dist" "$repo/crds" "$app/"

tar -C "$root" --numeric-owner --owner=0 --group=0 -cf "$stage/rootfs.tar" .
if [ -n "$output" ]; then
  mv "$stage/rootfs.tar" "$output"
  echo "$output"
  exit 0
fi
docker ${docker_host:+-H "$docker_host"} import \
  --change 'WORKDIR /opt/marina' \
  --change 'USER 65532:65532' \
  --change 'ENTRYPOINT ["/usr/bin/node", "/opt/marina/dist/cli/main.js"]' \
  --change 'CMD ["run"]' \
  "$stage/rootfs.tar" "$tag" >&2
echo "$tag"
