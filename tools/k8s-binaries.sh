#!/usr/bin/env bash
# Provides kube-apiserver, kube-controller-manager (for ResourceQuota usage), etcd and kubectl of one
# pinned Kubernetes release for the tests.
#
# KUBEBUILDER_ASSETS (controller-runtime's envtest convention) wins when it holds all of them.
# Otherwise they are built once with Go from the Kubernetes Go modules into a cache outside the
# repository, keyed by version, and later runs only print the directory.
#
# Prints the directory that holds the binaries on its last line of stdout.
set -euo pipefail

K8S_VERSION="${MARINA_K8S_VERSION:-1.36.3}"
ETCD_VERSION="${MARINA_ETCD_VERSION:-3.6.8}"
CACHE_ROOT="${MARINA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/marina}"
OUT="$CACHE_ROOT/k8s/v${K8S_VERSION}-etcd${ETCD_VERSION}"
KUBE_COMMANDS=(kube-apiserver kube-controller-manager kubectl)
BINARIES=(etcd "${KUBE_COMMANDS[@]}")

has_all() { local d="$1" b; for b in "${BINARIES[@]}"; do [ -x "$d/$b" ] || return 1; done; }
log() { echo "k8s-binaries: $*" >&2; }

if [ -n "${KUBEBUILDER_ASSETS:-}" ] && has_all "$KUBEBUILDER_ASSETS"; then
  echo "$KUBEBUILDER_ASSETS"; exit 0
fi
if has_all "$OUT"; then echo "$OUT"; exit 0; fi

command -v go >/dev/null || { log "Go is needed to build the Kubernetes test binaries"; exit 1; }
mkdir -p "$OUT"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local

build_kubernetes() {
  local minor="${K8S_VERSION#*.}"; minor="${minor%%.*}"
  local staging="0.${K8S_VERSION#*.}"
  mkdir -p "$work/k8s" && cd "$work/k8s"
  go mod init marina.dev/k8s-test-binaries >/dev/null 2>&1
  # k8s.io/kubernetes points its staging modules at ./staging with replace directives, which a
  # dependency cannot use: pin each of them to its published twin of the same release instead.
  local modfile; modfile="$(go mod download -json "k8s.io/kubernetes@v${K8S_VERSION}" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$modfile" | awk '{print $1}' | while read -r m; do
    go mod edit -replace "$m=$m@v${staging}"
  done
  go mod edit -require "k8s.io/kubernetes@v${K8S_VERSION}"
  local ldflags="-s -w"
  local pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=v${K8S_VERSION} -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor} -X $pkg.gitTreeState=clean"
  done
  local missing=() command
  for command in "${KUBE_COMMANDS[@]}"; do [ -x "$OUT/$command" ] || missing+=("$command"); done
  log "building ${missing[*]} v${K8S_VERSION} (takes several minutes once)"
  for command in "${missing[@]}"; do go get "k8s.io/kubernetes/cmd/${command}@v${K8S_VERSION}" >&2; done
  for command in "${missing[@]}"; do
    go build -trimpath -ldflags "$ldflags" -o "$OUT/${command}.tmp" "k8s.io/kubernetes/cmd/${command}"
    mv "$OUT/${command}.tmp" "$OUT/${command}"
  done
}

build_etcd() {
  mkdir -p "$work/etcd" && cd "$work/etcd"
  go mod init marina.dev/etcd-test-binary >/dev/null 2>&1
  log "building etcd v${ETCD_VERSION}"
  go get "go.etcd.io/etcd/server/v3@v${ETCD_VERSION}" >&2
  go build -trimpath -ldflags "-s -w" -o "$OUT/etcd.tmp" go.etcd.io/etcd/server/v3
  mv "$OUT/etcd.tmp" "$OUT/etcd"
}

[ -x "$OUT/etcd" ] || build_etcd
for command in "${KUBE_COMMANDS[@]}"; do
  [ -x "$OUT/$command" ] || { build_kubernetes; break; }
done
has_all "$OUT" || { log "build finished without all of: ${BINARIES[*]}"; exit 1; }
echo "$OUT"
