#!/usr/bin/env bash
# Prepares this machine for marina's tests, idempotently, with caches under ${MARINA_CACHE:-~/.cache/marina}:
#   1. the Kubernetes test binaries (kube-apiserver, kube-controller-manager, etcd, kubectl), built once with Go;
#   2. the LXD host: Debian packages, daemon, bridge, storage pool, HTTPS listener (tools/setup-lxd-host.sh);
#      the Incus host beside it (tools/setup-incus-host.sh) and the network both share
#      (tools/setup-host-network.sh), for the fleet tests;
#   3. the node images (bookworm, and trixie for the rolling upgrade), built once with debootstrap and
#      imported under their aliases on both hosts (`marina image build`, so run `npm ci && npm run build`
#      first);
#   4. the docker CLI and busybox-static for the e2e workloads, lua5.1 for the Argo CD health checks,
#      dockerd (never started as a service here) for the test that runs the operator image, tcpdump to
#      look at what crosses a bay's bridge.
# The test suites run steps 1 and 2 themselves when needed; running this first keeps their timings honest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"

# The e2e tests drive bays with the real docker CLI, and build their workload image from busybox; the
# Argo CD health checks are run by a real Lua 5.1 interpreter (the dialect Argo CD's gopher-lua speaks).
missing=()
{ command -v docker >/dev/null && command -v dockerd >/dev/null; } || missing+=(docker.io)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v lua5.1 >/dev/null || missing+=(lua5.1)
command -v tcpdump >/dev/null || missing+=(tcpdump)
if [ "${#missing[@]}" -gt 0 ]; then
  # A dockerd started as a service would set iptables' FORWARD policy to DROP and cut off the LXD
  # nodes: policy-rc.d tells the packages' scripts to start nothing (the tests start their own).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

command -v go >/dev/null || { echo "setup-test-host: Go is needed to build the Kubernetes test binaries (or set KUBEBUILDER_ASSETS)" >&2; exit 1; }
echo "setup-test-host: Kubernetes test binaries in $(bash "$here/k8s-binaries.sh")" >&2

lxd_env="$(bash "$here/setup-lxd-host.sh")"
socket="$(sed -n 's/^MARINA_LXD_SOCKET=//p' <<<"$lxd_env")"
echo "setup-test-host: LXD host ready at ${socket}" >&2

incus_env="$(bash "$here/setup-incus-host.sh")"
incus_socket="$(sed -n 's/^MARINA_INCUS_SOCKET=//p' <<<"$incus_env")"
echo "setup-test-host: Incus host ready at ${incus_socket}" >&2
bash "$here/setup-host-network.sh" >/dev/null

if [ -f "$repo/dist/cli/main.js" ]; then
  node "$repo/dist/cli/main.js" image build --endpoint "$socket"
  node "$repo/dist/cli/main.js" image build --endpoint "$incus_socket"
  # The fleet tests' rolling upgrade moves nodes from bookworm to trixie (Docker 20.10 → 26).
  node "$repo/dist/cli/main.js" image build --suite trixie --endpoint "$socket"
  node "$repo/dist/cli/main.js" image build --suite trixie --endpoint "$incus_socket"
else
  echo "setup-test-host: dist/ not built; the e2e tests will build the node image themselves" >&2
fi
