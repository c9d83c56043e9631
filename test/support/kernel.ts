import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';

/**
 * The swarm kernel features of this machine's kernel, looked at from the host with the test's own
 * checks (loaded or built in), to compare with what marina reports.
 */
export function hostKernelFeatures(): Record<'ip_vs' | 'br_netfilter' | 'overlay' | 'vxlan' | 'esp4', boolean> {
  return {
    ip_vs: existsSync('/proc/net/ip_vs') || existsSync('/sys/module/ip_vs'),
    br_netfilter: existsSync('/proc/sys/net/bridge') || existsSync('/sys/module/br_netfilter'),
    overlay: /\soverlay\n/.test(readFileSync('/proc/filesystems', 'utf8')) || existsSync('/sys/module/overlay'),
    vxlan: existsSync('/sys/module/vxlan'),
    esp4: espWorks(),
  };
}

/** Whether the kernel takes an ESP security association with AES-GCM, tried in a throwaway network namespace. */
function espWorks(): boolean {
  const key = `0x${'ab'.repeat(20)}`;
  const tried = spawnSync('unshare', [
    '-n', 'ip', 'xfrm', 'state', 'add', 'src', '198.51.100.1', 'dst', '198.51.100.2', 'proto', 'esp', 'spi', '0x7',
    'mode', 'transport', 'aead', 'rfc4106(gcm(aes))', key, '64',
  ]);
  return tried.status === 0;
}
