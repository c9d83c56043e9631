#!/usr/bin/env bash
# Prepares this machine as a marina host: an LXD daemon with a NAT bridge, a storage pool, an HTTPS
# listener and (optionally) lxcfs. Used by the e2e tests and for a single-machine install.
#
# Idempotent: every step checks what is already there and only adds what is missing, so running it
# again is a no-op that takes about a second. It never restarts a running daemon and never changes
# an existing network or storage pool (it prints a warning when they differ from what it would create).
#
# Works without systemd: daemons that are not running are started in the background with their logs
# in files, and keep running after the script exits.
#
# Environment (all optional):
#   MARINA_LXD_BRIDGE         managed bridge for the nodes                  (lxdbr0)
#   MARINA_LXD_SUBNET         bridge address and prefix; NAT is on          (10.213.71.1/24)
#   MARINA_LXD_POOL           storage pool for the nodes' root disks        (default)
#   MARINA_LXD_POOL_DRIVER    btrfs (loop file; enforces disk sizes) or dir (btrfs)
#   MARINA_LXD_POOL_SIZE      size of the btrfs loop file                   (40GiB)
#   MARINA_LXD_HTTPS_ADDRESS  address of the HTTPS API listener             (127.0.0.1:8443)
#   MARINA_LXCFS              1: run lxcfs so nodes see their own CPU and memory in /proc; 0: do not (1)
#   MARINA_CACHE              cache directory, for the daemon logs          (~/.cache/marina)
#   LXD_DIR                   LXD's state directory                         (/var/lib/lxd)
#
# Prints on stdout, and only there, shell assignments a caller can eval or parse:
#   MARINA_LXD_SOCKET=unix:///var/lib/lxd/unix.socket
#   MARINA_LXD_HTTPS=https://127.0.0.1:8443
#   MARINA_LXD_FINGERPRINT=<sha256 hex of the host's server certificate>
#   MARINA_LXD_BRIDGE=...  MARINA_LXD_POOL=...  MARINA_LXCFS=0|1
#   MARINA_LXD_MODULE_LOADING=0|1   0: the kernel cannot load modules (all built in), so nodes must be
#                                   created without linux.kernel_modules (LXD would run modprobe and fail)
# Progress goes to stderr.
set -euo pipefail

BRIDGE="${MARINA_LXD_BRIDGE:-lxdbr0}"
SUBNET="${MARINA_LXD_SUBNET:-10.213.71.1/24}"
POOL="${MARINA_LXD_POOL:-default}"
POOL_DRIVER="${MARINA_LXD_POOL_DRIVER:-btrfs}"
POOL_SIZE="${MARINA_LXD_POOL_SIZE:-40GiB}"
HTTPS_ADDRESS="${MARINA_LXD_HTTPS_ADDRESS:-127.0.0.1:8443}"
WANT_LXCFS="${MARINA_LXCFS:-1}"
CACHE_ROOT="${MARINA_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/marina}"
LOG_DIR="$CACHE_ROOT/logs"
export LXD_DIR="${LXD_DIR:-/var/lib/lxd}"
SOCKET="$LXD_DIR/unix.socket"
LXCFS_DIR=/var/lib/lxcfs
# Everything a node host needs: the daemon and its client, LXC, lxcfs, the tools the node image build
# uses (debootstrap, squashfs), btrfs for the storage pool, and openssl to print the certificate pin.
# nftables: with `nft` present when it starts, the daemon writes a bay's walls as one nftables table
# instead of running iptables and ebtables a score of times per node (and the walls e2e test empties
# that table to play a reboot).
PACKAGES=(lxd lxd-client lxc lxcfs debootstrap btrfs-progs squashfs-tools openssl nftables)

log() { echo "setup-lxd-host: $*" >&2; }
# shellcheck source=tools/btrfs-quotas.sh
. "$(dirname "$0")/btrfs-quotas.sh"
die() { log "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts daemons)"

install_missing_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

lxcfs_mounted() { grep -qs " $LXCFS_DIR fuse.lxcfs " /proc/mounts; }

# lxcfs must be up before a node starts: LXC's mount hook (from the lxcfs package) bind-mounts its
# /proc files into each container at start, so nodes started earlier keep the host's view.
start_lxcfs() {
  [ "$WANT_LXCFS" = 1 ] || return 0
  lxcfs_mounted && return 0
  mkdir -p "$LXCFS_DIR" "$LOG_DIR"
  log "starting lxcfs (log: $LOG_DIR/lxcfs.log)"
  setsid lxcfs "$LXCFS_DIR" >>"$LOG_DIR/lxcfs.log" 2>&1 </dev/null &
  local i
  for i in $(seq 1 50); do lxcfs_mounted && return 0; sleep 0.1; done
  die "lxcfs did not mount $LXCFS_DIR; see $LOG_DIR/lxcfs.log"
}

daemon_answers() { lxc query /1.0 >/dev/null 2>&1; }

start_lxd() {
  daemon_answers && return 0
  mkdir -p "$LOG_DIR"
  log "starting lxd (log: $LOG_DIR/lxd.log)"
  # --group root: only root may use the unix socket (there is no lxd group on a minimal host).
  setsid lxd --group root --logfile "$LOG_DIR/lxd.log" >>"$LOG_DIR/lxd.stdout.log" 2>&1 </dev/null &
  lxd waitready --timeout 120 || die "lxd did not become ready; see $LOG_DIR/lxd.log"
}

exists() { lxc "$1" show "$2" >/dev/null 2>&1; }

# `lxd init --auto` cannot pick a subnet on these machines, so the preseed names one explicitly.
# Only entities that do not exist yet go into it: re-applying an existing pool or network could try
# to change settings LXD refuses to change (a pool's driver, a bridge in use).
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
  printf '%s' "$doc" | lxd init --preseed
}

warn_on_drift() {
  local actual
  actual="$(lxc network get "$BRIDGE" ipv4.address)"
  [ "$actual" = "$SUBNET" ] || log "warning: $BRIDGE has ipv4.address=$actual (wanted $SUBNET); left as is"
  actual="$(lxc storage show "$POOL" | sed -n 's/^driver: //p')"
  [ "$actual" = "$POOL_DRIVER" ] || log "warning: pool $POOL uses $actual (wanted $POOL_DRIVER); left as is"
}

# marina gives every node its own root disk and NIC, but `lxc launch` users expect a usable default
# profile, so it gets the same two devices when it has none.
default_profile_devices() {
  local devices
  devices="$(lxc profile device list default)"
  grep -qx root <<<"$devices" || lxc profile device add default root disk path=/ pool="$POOL" >/dev/null
  grep -qx eth0 <<<"$devices" || lxc profile device add default eth0 nic name=eth0 network="$BRIDGE" >/dev/null
}

https_listener() {
  [ "$(lxc config get core.https_address)" = "$HTTPS_ADDRESS" ] && return 0
  log "opening the HTTPS API on $HTTPS_ADDRESS"
  lxc config set core.https_address "$HTTPS_ADDRESS"
}

# A host dockerd turns the FORWARD policy to DROP while br_netfilter passes bridged frames through
# iptables: node-to-node traffic on the bridge would be dropped. DOCKER-USER is the chain dockerd
# leaves to the admin; the rules are added once. mb-+ are the bays' own bridges (isolated mode): the
# walls between bays are LXD's network ACLs, which refuse across bridges whatever iptables accepts.
allow_bridge_forwarding() {
  command -v iptables >/dev/null || return 0
  iptables -n -L DOCKER-USER >/dev/null 2>&1 || return 0
  local bridge
  for bridge in "$BRIDGE" 'mb-+'; do
    iptables -C DOCKER-USER -i "$bridge" -o "$bridge" -j ACCEPT 2>/dev/null && continue
    log "accepting $bridge-to-$bridge forwarding in DOCKER-USER"
    iptables -I DOCKER-USER -i "$bridge" -o "$bridge" -j ACCEPT
  done
}

server_fingerprint() {
  openssl x509 -in "$LXD_DIR/server.crt" -outform DER | sha256sum | cut -d' ' -f1
}

install_missing_packages
start_lxcfs
start_lxd
preseed
warn_on_drift
default_profile_devices
[ "$(lxc storage show "$POOL" | sed -n 's/^driver: //p')" = btrfs ] && keep_disk_quotas "$LXD_DIR/storage-pools/$POOL"
https_listener
allow_bridge_forwarding

lxcfs_state=0
lxcfs_mounted && lxcfs_state=1
# /proc/modules exists only on kernels built with loadable module support.
module_loading=0
[ -e /proc/modules ] && module_loading=1
cat <<EOF
MARINA_LXD_SOCKET=unix://$SOCKET
MARINA_LXD_HTTPS=https://$HTTPS_ADDRESS
MARINA_LXD_FINGERPRINT=$(server_fingerprint)
MARINA_LXD_BRIDGE=$BRIDGE
MARINA_LXD_POOL=$POOL
MARINA_LXCFS=$lxcfs_state
MARINA_LXD_MODULE_LOADING=$module_loading
EOF
