/** The kernel features swarm bays rely on. */
export const KERNEL_FEATURES = ['ip_vs', 'br_netfilter', 'overlay', 'vxlan'] as const;

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
    'true',
  ].join('; '),
];
