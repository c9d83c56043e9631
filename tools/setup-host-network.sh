#!/usr/bin/env bash
# Stands in for the network real hosts share (their LAN) on a single machine: a plain Linux bridge, not
# managed by LXD or Incus, that both daemons attach nodes to in a HostAggregate's `bridged` network
# mode. On real metal each host has such a bridge (br0) holding its NIC, and the LAN's router is the
# gateway; here the machine's own address on the bridge is the gateway, so the operator reaches nodes.
# It does not NAT: nodes on it reach each other and this machine, nothing beyond.
#
# Idempotent; the bridge does not survive a reboot (run the script again).
#
# Environment (all optional):
#   MARINA_HOSTNET_BRIDGE   the bridge's name                          (marinanet0)
#   MARINA_HOSTNET_ADDRESS  this machine's address on it, with prefix  (10.213.80.1/24)
#
# Prints on stdout, and only there:
#   MARINA_HOSTNET_BRIDGE=marinanet0
#   MARINA_HOSTNET_SUBNET=10.213.80.0/24
#   MARINA_HOSTNET_GATEWAY=10.213.80.1
set -euo pipefail

BRIDGE="${MARINA_HOSTNET_BRIDGE:-marinanet0}"
ADDRESS="${MARINA_HOSTNET_ADDRESS:-10.213.80.1/24}"

log() { echo "setup-host-network: $*" >&2; }

[ "$(id -u)" -eq 0 ] || { log "must run as root (it creates a bridge)"; exit 1; }

if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
  log "creating bridge $BRIDGE ($ADDRESS)"
  ip link add "$BRIDGE" type bridge
fi
ip -4 addr show dev "$BRIDGE" | grep -q "inet $ADDRESS " || ip addr add "$ADDRESS" dev "$BRIDGE"
ip link set "$BRIDGE" up

# As for the daemons' bridges: a host dockerd's FORWARD DROP would cut nodes on the bridge off.
if command -v iptables >/dev/null && iptables -n -L DOCKER-USER >/dev/null 2>&1; then
  iptables -C DOCKER-USER -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null ||
    iptables -I DOCKER-USER -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
fi

gateway="${ADDRESS%/*}"
prefix="${ADDRESS#*/}"
subnet="$(python3 -c "import ipaddress,sys; print(ipaddress.ip_interface(sys.argv[1]).network)" "$ADDRESS" 2>/dev/null ||
  echo "${gateway%.*}.0/$prefix")"
cat <<EOF
MARINA_HOSTNET_BRIDGE=$BRIDGE
MARINA_HOSTNET_SUBNET=$subnet
MARINA_HOSTNET_GATEWAY=$gateway
EOF
