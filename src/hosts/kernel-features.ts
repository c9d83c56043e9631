import type { HostProvider } from './provider.js';

/** The kernel features swarm bays rely on. */
export const KERNEL_FEATURES = ['ip_vs', 'br_netfilter', 'overlay', 'vxlan', 'esp4'] as const;

export type KernelFeature = (typeof KERNEL_FEATURES)[number];

/**
 * Run inside a node, which sees the host's kernel: a module counts when the kernel has it loaded or
 * built in (a built-in module without parameters has no /sys/module entry, hence the second look).
 */
export const KERNEL_FEATURE_PROBE: readonly string[] = [
  'sh',
  '-c',
  [
    '{ [ -e /proc/net/ip_vs ] || [ -d /sys/module/ip_vs ]; } && echo ip_vs',
    '{ [ -d /proc/sys/net/bridge ] || [ -d /sys/module/br_netfilter ]; } && echo br_netfilter',
    '{ grep -qw overlay /proc/filesystems || [ -d /sys/module/overlay ]; } && echo overlay',
    '[ -d /sys/module/vxlan ] && echo vxlan',
    // What an encrypted overlay needs: an ESP transport-mode SA with AES-GCM, tried in a network
    // namespace of its own so that nothing is left behind.
    `unshare -n ip xfrm state add src 192.0.2.1 dst 192.0.2.2 proto esp spi 0x101 mode transport aead ` +
      `'rfc4106(gcm(aes))' 0x00112233445566778899aabbccddeeff00112233 64 2>/dev/null && echo esp4`,
    'true',
  ].join('; '),
];

const PROBE_TIMEOUT_MS = 10_000;

/**
 * The kernel features a running node sees (KERNEL_FEATURE_PROBE run in it through its host);
 * undefined when the node could not be asked.
 */
export async function probeKernelFeatures(
  provider: HostProvider,
  node: string,
): Promise<KernelFeature[] | undefined> {
  try {
    const probed = await provider.exec(node, KERNEL_FEATURE_PROBE, { timeoutMs: PROBE_TIMEOUT_MS });
    return probed.exitCode === 0 ? parseKernelFeatures(probed.stdout) : undefined;
  } catch {
    return undefined;
  }
}

/** The features KERNEL_FEATURE_PROBE's output names, one a line. */
function parseKernelFeatures(stdout: string): KernelFeature[] {
  const lines = new Set(stdout.split('\n').map((line) => line.trim()));
  return KERNEL_FEATURES.filter((feature) => lines.has(feature));
}
