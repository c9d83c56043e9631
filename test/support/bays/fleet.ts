import { OPERATOR_NAMESPACE, mustKubectl, type Kubectl } from '../kubectl.js';
import {
  hostNetwork,
  incusTestHost,
  leftByCrashedRuns,
  lxcFor,
  makeClientIdentity,
  sweepInstances,
  testNodeImage,
  type HostNetwork,
  type LxcCli,
  type LxdTestHost,
} from '../lxd/index.js';
import type { FleetHosts } from './environment.js';

/** A client certificate a fleet file made a host trust, and where its credentials live. */
export interface TrustedClient {
  readonly cli: LxcCli;
  readonly clientName: string;
  readonly fingerprint: string;
  readonly secret: string;
}

/** Host names in the fleet aggregate. */
export const FLEET_HOSTS = { lxd: 'lxd', incus: 'incus' } as const;

/**
 * Two real hosts as a platform admin would add them: each daemon issues a trust token for marina
 * (`lxc config trust add --name`, `incus config trust add`), which goes into the host's credentials
 * Secret beside marina's client certificate; marina redeems it over HTTPS, pinned to the fingerprint
 * the token carries. Nodes attach to the network both hosts are on (bridged mode).
 */
export async function prepareFleet(
  kubectl: Kubectl,
  namespace: string,
  lxdHost: LxdTestHost,
  lxd: LxcCli,
  prefix: string,
): Promise<{ hosts: FleetHosts; trusted: TrustedClient[]; aggregateYaml: (name: string) => string }> {
  const incusHost = await incusTestHost();
  await testNodeImage(incusHost);
  const incus = lxcFor(incusHost);
  await sweepInstances(incus, leftByCrashedRuns(prefix));
  const network = await hostNetwork();
  const identity = await makeClientIdentity(`marina-${namespace}`);
  const clientName = `marina-${namespace}`;
  const trusted: TrustedClient[] = [];
  const entries: string[] = [];
  for (const [name, host, cli] of [
    [FLEET_HOSTS.lxd, lxdHost, lxd],
    [FLEET_HOSTS.incus, incusHost, incus],
  ] as const) {
    const secret = `${namespace}-${name}`;
    const token = await cli.trustToken(clientName);
    trusted.push({ cli, clientName, fingerprint: identity.fingerprint, secret });
    await mustKubectl(kubectl, ['apply', '-f', '-'], {
      input: credentialsSecretYaml(secret, identity.certificate, identity.key, token),
    });
    entries.push(
      `    - {name: ${name}, endpoint: "${host.httpsEndpoint}", ` +
        `credentialsSecretRef: {name: ${secret}, namespace: ${OPERATOR_NAMESPACE}}}`,
    );
  }
  const kernelModules =
    lxdHost.kernelModules === undefined ? '' : `  kernelModules: [${lxdHost.kernelModules.join(', ')}]\n`;
  const aggregateYaml = (name: string) => `apiVersion: marina.dev/v1alpha1
kind: HostAggregate
metadata: {name: ${name}}
spec:
  metadata: {flavor: container, suite: e2e}
  hosts:
${entries.join('\n')}
  network: ${bridgedNetworkYaml(network)}
  storagePool: ${lxdHost.storagePool}
  overcommit: {cpu: 16, memory: 1}
${kernelModules}`;
  const byName = new Map([
    [FLEET_HOSTS.lxd, lxd],
    [FLEET_HOSTS.incus, incus],
  ]);
  const hosts = { incusHost, incus, byName, clientFingerprint: identity.fingerprint };
  return { hosts, trusted, aggregateYaml };
}

/** The upper half of the shared /24 is the nodes'; the machine itself is the gateway. */
function bridgedNetworkYaml(network: HostNetwork): string {
  const [a, b, c] = network.subnet.split('.');
  return (
    `{mode: bridged, bridge: ${network.bridge}, subnet: ${network.subnet}, gateway: ${network.gateway}, ` +
    `nodeAddresses: ${a}.${b}.${c}.128/25}`
  );
}

function credentialsSecretYaml(name: string, certificate: string, key: string, token: string): string {
  const b64 = (text: string) => Buffer.from(text).toString('base64');
  return `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${OPERATOR_NAMESPACE}}
type: Opaque
data:
  tls.crt: ${b64(certificate)}
  tls.key: ${b64(key)}
  trustToken: ${b64(token)}
`;
}

/** The hosts forget the file's client certificate (and any token left unredeemed); its Secrets go. */
export async function forgetFleetTrust(kubectl: Kubectl, trusted: readonly TrustedClient[]): Promise<void> {
  for (const client of trusted) {
    await client.cli.run(['config', 'trust', 'remove', client.fingerprint]);
    await client.cli.run(['config', 'trust', 'revoke-token', client.clientName]);
    await kubectl(['delete', 'secret', '-n', OPERATOR_NAMESPACE, client.secret, '--ignore-not-found']);
  }
}
