import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  clusterPrivateKeys,
  describeFindings,
  eventTexts,
  findKeyMaterial,
  pemBody,
  SecretKeyWatch,
} from '../../support/key-material.js';
import { kubectlFor, mustKubectl } from '../../support/kubectl.js';
import { createTestCa, privateKeyPem } from '../../support/test-pki.js';

const kubeconfig = inject('kubeconfigPath');
const kubectl = kubectlFor(kubeconfig, inject('kubeBinDir'));
const NS = `key-scan-${randomBytes(3).toString('hex')}`;

const leaf = createTestCa('key-scan-ca').issue({ commonName: 'leaky' });
const base64 = (text: string): string => Buffer.from(text).toString('base64');

function secretYaml(name: string, keyPem: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    type: 'kubernetes.io/tls',
    metadata: { name, namespace: NS },
    data: { 'tls.crt': base64(leaf.certPem), 'tls.key': base64(keyPem) },
  });
}

/** An events.k8s.io/v1 Event, as marina records them, about the Secret. */
function eventYaml(name: string, note: string): string {
  return JSON.stringify({
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: { name, namespace: NS },
    eventTime: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z'),
    reportingController: 'test.marina.dev/key-scan',
    reportingInstance: 'test-1',
    action: 'Reconcile',
    reason: 'Leaky',
    type: 'Warning',
    note,
    regarding: { apiVersion: 'v1', kind: 'Secret', namespace: NS, name: 'leaky-tls' },
  });
}

const apply = (json: string): Promise<string> => mustKubectl(kubectl, ['apply', '-f', '-'], { input: json });

describe('the key scan over a real apiserver', () => {
  beforeAll(async () => {
    await mustKubectl(kubectl, ['create', 'namespace', NS]);
  });

  afterAll(async () => {
    await kubectl(['delete', 'namespace', NS, '--wait=false']);
  });

  it("names an Event holding a fragment of a Secret's private key, and one holding a PEM block", async () => {
    await apply(secretYaml('leaky-tls', leaf.keyPem));
    const fragment = pemBody(leaf.keyPem).slice(500, 560);
    await apply(eventYaml('fragment', `cannot parse key near ${fragment}`));
    // An event note holds at most 1 kB: an EC key fits whole.
    const ecKey = privateKeyPem('ec', 'sec1');
    await apply(eventYaml('pem-block', `loaded ${ecKey}`));
    await apply(eventYaml('certificate', `serving ${leaf.certPem.slice(0, 900)}`));

    const findings = findKeyMaterial(await eventTexts(kubectl), await clusterPrivateKeys(kubectl));
    const here = findings.filter((f) => f.location.startsWith(`${NS}/`));

    expect(here).toEqual([
      {
        source: 'Event',
        location: `${NS}/fragment (reason Leaky, regarding Secret ${NS}/leaky-tls)`,
        kind: 'fragment of a known private key',
        keyOwner: `Secret ${NS}/leaky-tls, key tls.key`,
      },
      {
        source: 'Event',
        location: `${NS}/pem-block (reason Leaky, regarding Secret ${NS}/leaky-tls)`,
        kind: 'PEM private key block (EC PRIVATE KEY)',
      },
    ]);
    expect(describeFindings(here)).not.toContain(fragment.slice(0, 20));
  });

  it('remembers the key of a Secret deleted while it watched', async () => {
    const watch = new SecretKeyWatch(join(inject('kubeBinDir'), 'kubectl'), kubeconfig);
    watch.start();
    try {
      const shortLived = privateKeyPem('rsa');
      const owner = `Secret ${NS}/short-lived, key tls.key`;
      await apply(secretYaml('short-lived', shortLived));
      await expect.poll(() => watch.seen().map((k) => k.owner), { timeout: 10_000 }).toContain(owner);
      await mustKubectl(kubectl, ['delete', 'secret', 'short-lived', '-n', NS]);
      expect((await clusterPrivateKeys(kubectl)).map((k) => k.owner)).not.toContain(owner);

      const fragment = pemBody(shortLived).slice(100, 150);
      expect(findKeyMaterial([{ source: 'operator log', location: 'line 1', text: fragment }], watch.seen())).toEqual([
        { source: 'operator log', location: 'line 1', kind: 'fragment of a known private key', keyOwner: owner },
      ]);
    } finally {
      await watch.stop();
    }
  });
});
