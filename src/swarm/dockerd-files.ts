/**
 * The files that make a node's dockerd listen on 2376 with mutual TLS (the docker step of a bay's reconcile). Pure:
 * the bay controller pushes them through its HostProvider, before a node's first boot or before a
 * dockerd restart during rotation.
 */

export const DOCKERD_PATHS = {
  caBundle: '/etc/docker/ca.pem',
  cert: '/etc/docker/server.pem',
  key: '/etc/docker/server-key.pem',
  daemonJson: '/etc/docker/daemon.json',
  systemdDropIn: '/etc/systemd/system/docker.service.d/marina.conf',
  dockerEnvMarker: '/.dockerenv',
} as const;

/** Structurally a hosts-layer NodeFile: `provider.pushFiles(node, files)` takes it as is. */
export interface DockerdFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
  readonly createParents: true;
}

export interface DockerdTlsMaterial {
  /** Trusted client CAs; [old, new] during a CA rotation (dockerd accepts client certs of each). */
  readonly caPems: readonly string[];
  /** The node's server certificate and its key. */
  readonly certPem: string;
  readonly keyPem: string;
  readonly port?: number;
}

/**
 * In push order: certificate files before the configuration that names them, so a dockerd started
 * between two pushes never finds its configuration pointing at missing files.
 */
export function dockerdFiles(material: DockerdTlsMaterial): DockerdFile[] {
  return [
    file(DOCKERD_PATHS.caBundle, joinPems(material.caPems), 0o644),
    file(DOCKERD_PATHS.cert, material.certPem, 0o644),
    file(DOCKERD_PATHS.key, material.keyPem, 0o600),
    file(DOCKERD_PATHS.daemonJson, `${JSON.stringify(daemonJson(material.port ?? 2376), null, 2)}\n`, 0o644),
    file(DOCKERD_PATHS.systemdDropIn, SYSTEMD_DROP_IN, 0o644),
    // Docker skips some checks that fail in nested containers when this file exists (LXD FAQ).
    file(DOCKERD_PATHS.dockerEnvMarker, '', 0o644),
  ];
}

/**
 * `tlsverify` requires and verifies client certificates against `tlscacert` only. `hosts` keeps the
 * local socket for in-node tools and adds the TLS port. Swarm mode refuses `live-restore`, so it is
 * never set.
 */
export function daemonJson(port: number): Record<string, unknown> {
  return {
    tlsverify: true,
    tlscacert: DOCKERD_PATHS.caBundle,
    tlscert: DOCKERD_PATHS.cert,
    tlskey: DOCKERD_PATHS.key,
    hosts: ['unix:///var/run/docker.sock', `tcp://0.0.0.0:${port}`],
    // The node image sets overlay2 too: on a btrfs pool dockerd would otherwise pick its btrfs driver,
    // whose subvolumes escape the node's disk quota.
    'storage-driver': 'overlay2',
  };
}

/**
 * The packaged unit starts `dockerd -H fd://`, and dockerd refuses to start when `hosts` is set both
 * as a flag and in daemon.json. The empty ExecStart clears the packaged one; the new one keeps the
 * packaged containerd socket and drops `$DOCKER_OPTS`, so that daemon.json alone configures dockerd.
 */
export const SYSTEMD_DROP_IN = [
  '# Written by marina: dockerd is configured by /etc/docker/daemon.json alone.',
  '[Service]',
  'ExecStart=',
  'ExecStart=/usr/sbin/dockerd --containerd=/run/containerd/containerd.sock',
  '',
].join('\n');

function file(path: string, content: string, mode: number): DockerdFile {
  return { path, content, mode, createParents: true };
}

function joinPems(pems: readonly string[]): string {
  return pems.map((pem) => (pem.endsWith('\n') ? pem : `${pem}\n`)).join('');
}
