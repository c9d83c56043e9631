#!/usr/bin/env bash
# Prepares this machine as a second marina host: an Incus 6.0 daemon beside LXD, with its own NAT bridge,
# storage pool and HTTPS listener. Incus comes from Debian's bookworm-backports suite. Used by the fleet
# e2e tests (two real hosts on one machine) and for trying marina with Incus.
#
# Idempotent like tools/setup-lxd-host.sh: it adds only what is missing, never restarts a running daemon
# and never changes an existing network or storage pool. Works without systemd (the daemon is started in
# the background with its log in a file).
#
# Environment (all optional):
#   MARINA_INCUS_BRIDGE         managed bridge for the nodes                  (incusbr0)
#   MARINA_INCUS_SUBNET         bridge address and prefix; NAT is on          (10.213.72.1/24)
#   MARINA_INCUS_POOL           storage pool for the nodes' root disks        (default)
#   MARINA_INCUS_POOL_DRIVER    btrfs (loop file; enforces disk sizes) or dir (btrfs)
#   MARINA_INCUS_POOL_SIZE      size of the btrfs loop file                   (30GiB)
#   MARINA_INCUS_HTTPS_ADDRESS  address of the HTTPS API listener             (127.0.0.1:8444)
#   MARINA_CACHE                cache directory, for the daemon logs          (~/.cache/marina)
#   INCUS_DIR                   Incus's state directory                       (/var/lib/incus)
#
# Prints on stdout, and only there, shell assignments a caller can eval or parse:
#   MARINA_INCUS_SOCKET=unix:///var/lib/incus/unix.socket
#   MARINA_INCUS_HTTPS=https://127.0.0.1:8444
#   MARINA_INCUS_FINGERPRINT=<sha256 hex of the host's server certificate>
#   MARINA_INCUS_BRIDGE=...  MARINA_INCUS_POOL=...
# Progress goes to stderr.
set -euo pipefail

BRIDGE="${MARINA_INCUS_BRIDGE:-incusbr0}"
SUBNET="${MARINA_INCUS_SUBNET:-10.213.72.1/24}"
POOL="${MARINA_INCUS_POOL:-default}"
POOL_DRIVER="${MARINA_INCUS_POOL_DRIVER:-btrfs}"
POOL_SIZE="${MARINA_INCUS_POOL_SIZE:-30GiB}"
HTTPS_ADDRESS="${MARINA_INCUS_HTTPS_ADDRESS:-127.0.0.1:8444}"
CACHE_ROOT="${MARINA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/marina}"
LOG_DIR="$CACHE_ROOT/logs"
export INCUS_DIR="${INCUS_DIR:-/var/lib/incus}"
SOCKET="$INCUS_DIR/unix.socket"
INCUSD=/usr/libexec/incus/incusd
BACKPORTS=/etc/apt/sources.list.d/marina-bookworm-backports.sources

log() { echo "setup-incus-host: $*" >&2; }
# shellcheck source=tools/btrfs-quotas.sh
. "$(dirname "$0")/btrfs-quotas.sh"
die() { log "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts daemons)"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# Incus 6.0 LTS is in bookworm-backports; trixie and later have it in their main suite.
backports_suite() {
  grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release || return 0
  grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ && return 0
  local mirror
  mirror="$(grep -rhs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n1)"
  [ -n "$mirror" ] || mirror="$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)"
  [ -n "$mirror" ] || die "no Debian mirror found in the apt sources to add bookworm-backports from"
  log "adding the bookworm-backports suite ($mirror)"
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' \
    "$mirror" /usr/share/keyrings/debian-archive-keyring.gpg >"$BACKPORTS"
}

install_incus() {
  installed incus && installed incus-client && return 0
  backports_suite
  log "installing incus"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  local target=()
  grep -qs '^VERSION_CODENAME=bookworm' /etc/os-release && target=(-t bookworm-backports)
  # policy-rc.d: the package's scripts must not start a daemon of their own (this script starts it).
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${target[@]}" \
    incus incus-client btrfs-progs openssl >&2 || { [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

daemon_answers() { incus query /1.0 >/dev/null 2>&1; }

start_incus() {
  daemon_answers && return 0
  mkdir -p "$LOG_DIR"
  log "starting incusd (log: $LOG_DIR/incusd.log)"
  # lxcfs (started by setup-lxd-host.sh) serves both daemons: LXC's hook mounts /var/lib/lxcfs.
  setsid "$INCUSD" --group root --logfile "$LOG_DIR/incusd.log" >>"$LOG_DIR/incusd.stdout.log" 2>&1 </dev/null &
  incus admin waitready --timeout 120 || die "incusd did not become ready; see $LOG_DIR/incusd.log"
}

exists() { incus "$1" show "$2" >/dev/null 2>&1; }

preseed() {
  local doc=""
  if ! exists network "$BRIDGE"; then
    doc+="networks:
- name: $BRIDGE
  type: bridge
  config:
    ipv4.address: $SUBNET
    ipv4.nat: \"true\"
    ipv6.address: none
"
  fi
  if ! exists storage "$POOL"; then
    doc+="storage_pools:
- name: $POOL
  driver: $POOL_DRIVER
"
    [ "$POOL_DRIVER" = btrfs ] && doc+="  config:
    size: $POOL_SIZE
"
  fi
  [ -z "$doc" ] && return 0
  log "creating $(printf '%s' "$doc" | grep -c '^- name') missing network/pool(s)"
  printf '%s' "$doc" | incus admin init --preseed
}

https_listener() {
  [ "$(incus config get core.https_address)" = "$HTTPS_ADDRESS" ] && return 0
  log "opening the HTTPS API on $HTTPS_ADDRESS"
  incus config set core.https_address "$HTTPS_ADDRESS"
}

# As for LXD's bridge: a host dockerd's FORWARD DROP would cut the nodes on this bridge off.
allow_bridge_forwarding() {
  command -v iptables >/dev/null || return 0
  iptables -n -L DOCKER-USER >/dev/null 2>&1 || return 0
  iptables -C DOCKER-USER -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null && return 0
  log "accepting $BRIDGE-to-$BRIDGE forwarding in DOCKER-USER"
  iptables -I DOCKER-USER -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
}

server_fingerprint() {
  openssl x509 -in "$INCUS_DIR/server.crt" -outform DER | sha256sum | cut -d' ' -f1
}

install_incus
start_incus
preseed
[ "$(incus storage show "$POOL" | sed -n 's/^driver: //p')" = btrfs ] && keep_disk_quotas "$INCUS_DIR/storage-pools/$POOL"
https_listener
allow_bridge_forwarding

cat <<EOF
MARINA_INCUS_SOCKET=unix://$SOCKET
MARINA_INCUS_HTTPS=https://$HTTPS_ADDRESS
MARINA_INCUS_FINGERPRINT=$(server_fingerprint)
MARINA_INCUS_BRIDGE=$BRIDGE
MARINA_INCUS_POOL=$POOL
EOF
