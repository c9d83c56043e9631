#!/usr/bin/env bash
# Prepares this machine for marina's tests, idempotently: the Kubernetes test binaries (kube-apiserver,
# etcd, kubectl). Caches live under ${MARINA_CACHE:-~/.cache/marina}.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

need_packages=()
for pkg in git ca-certificates; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_packages+=("$pkg")
done
if [ "${#need_packages[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}"
fi

command -v go >/dev/null || { echo "setup-test-host: Go is needed to build the Kubernetes test binaries (or set KUBEBUILDER_ASSETS)" >&2; exit 1; }
bash "$here/k8s-binaries.sh" >/dev/null
