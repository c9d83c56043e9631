#!/usr/bin/env bash
# The whole test suite from a fresh clone, as root: npm dependencies and the build when needed, this
# machine's test host (Debian packages, the Kubernetes test binaries, LXD, the node image; all
# idempotent, caches under ${MARINA_CACHE:-~/.cache/marina}), then the unit, integration and e2e tiers.
# `.ci/run` calls exactly this.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"

started=$(date +%s)
step() { printf '\n==> %s (+%ss)\n' "$*" "$(( $(date +%s) - started ))"; }

step "npm dependencies and build"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund
fi
npm run build

step "test host: Debian packages, Kubernetes test binaries, LXD host, node image"
bash tools/setup-test-host.sh

step "npm test"
npm test

step "done in $(( $(date +%s) - started ))s"
