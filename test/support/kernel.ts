import { existsSync, readFileSync } from 'node:fs';

/**
 * The swarm kernel features of this machine's kernel, looked at from the host with the test's own
 * checks (loaded or built in), to compare with what marina reports.
 */
export function hostKernelFeatures(): Record<'ip_vs' | 'br_netfilter' | 'overlay' | 'vxlan', boolean> {
  return {
    ip_vs: existsSync('/proc/net/ip_vs') || existsSync('/sys/module/ip_vs'),
    br_netfilter: existsSync('/proc/sys/net/bridge') || existsSync('/sys/module/br_netfilter'),
    overlay: /\soverlay\n/.test(readFileSync('/proc/filesystems', 'utf8')) || existsSync('/sys/module/overlay'),
    vxlan: existsSync('/sys/module/vxlan'),
  };
}
