/** Swarm's cluster-management port: managers listen on it and nodes join through it. */
export const SWARM_PORT = 2377;

/** `10.0.0.5` → `10.0.0.5:2377`; an address that has a port keeps it. IPv6 is bracketed. */
export function withSwarmPort(address: string): string {
  if (/^\[.*\]:\d+$/.test(address) || /^[^:]+:\d+$/.test(address)) return address;
  return address.includes(':') ? `[${address}]:${SWARM_PORT}` : `${address}:${SWARM_PORT}`;
}

/** The host part of `host:port` (`[v6]:port` too); the input when it has no port. */
export function hostOf(address: string): string {
  const bracketed = /^\[(.*)\]:\d+$/.exec(address);
  if (bracketed) return bracketed[1]!;
  const plain = /^([^:]+):\d+$/.exec(address);
  return plain ? plain[1]! : address;
}
