import { readFile, type SimInstance } from './instance.js';

/**
 * The dockerd of a node as systemd runs it: it reads /etc/docker/daemon.json when it starts, and
 * only then. A node boots with the image's daemon.json (the unix socket only); marina pushes one that
 * adds TLS on 2376 and a systemd drop-in, reloads systemd and restarts dockerd. A node started after
 * the files were pushed reads them at its first boot.
 */

const DAEMON_JSON = '/etc/docker/daemon.json';
const SERVER_CERT = '/etc/docker/server.pem';
const DROP_IN_DIRECTORY = '/etc/systemd/system/docker.service.d/';

/** What systemctl prints when docker.service fails to start. */
export const UNIT_FAILED =
  'Job for docker.service failed because the control process exited with error code.\n' +
  'See "systemctl status docker.service" and "journalctl -xeu docker.service" for details.\n';

interface DaemonConfig {
  readonly tlsPorts: number[];
  readonly plainPorts: number[];
}

type ConfigOutcome =
  { readonly ok: true; readonly config: DaemonConfig } | { readonly ok: false; readonly failure: string };

/** Starts (or restarts) dockerd from the files in the node now; a bad configuration leaves it down. */
export function startDockerd(instance: SimInstance, now: number): boolean {
  const outcome = readDaemonConfig(instance);
  const dockerd = instance.dockerd;
  dockerd.startedAt = now;
  dockerd.killed = false;
  dockerd.failure = outcome.ok ? undefined : outcome.failure;
  dockerd.tlsPorts = outcome.ok ? outcome.config.tlsPorts : [];
  dockerd.plainPorts = outcome.ok ? outcome.config.plainPorts : [];
  dockerd.servedCertificate = outcome.ok ? readFile(instance, SERVER_CERT)?.content : undefined;
  return outcome.ok;
}

/** systemd reads unit files at boot and at `systemctl daemon-reload`, not when they change. */
export function reloadUnits(instance: SimInstance): void {
  instance.dockerd.unitClearsHostFlag = dropInClearsHostFlag(instance);
}

/** Up means: the node runs, dockerd was not killed, its configuration was accepted and it has booted. */
export function dockerdUp(instance: SimInstance, now: number, bootMs: number): boolean {
  const dockerd = instance.dockerd;
  return (
    instance.status === 'Running' &&
    !dockerd.killed &&
    dockerd.failure === undefined &&
    now >= dockerd.startedAt + bootMs
  );
}

/** What answers on `port` of the node: TLS, plain HTTP, or nothing. */
export function listenerOn(
  instance: SimInstance,
  port: number,
  now: number,
  bootMs: number,
): 'tls' | 'plain' | undefined {
  if (!dockerdUp(instance, now, bootMs)) return undefined;
  if (instance.dockerd.tlsPorts.includes(port)) return 'tls';
  return instance.dockerd.plainPorts.includes(port) ? 'plain' : undefined;
}

function readDaemonConfig(instance: SimInstance): ConfigOutcome {
  const file = readFile(instance, DAEMON_JSON);
  if (file === undefined) return { ok: true, config: { tlsPorts: [], plainPorts: [] } };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(file.content) as Record<string, unknown>;
  } catch (error) {
    return configFailure(`${(error as Error).message}`);
  }
  const hosts = Array.isArray(json.hosts) ? json.hosts.filter((h): h is string => typeof h === 'string') : [];
  if (hosts.length > 0 && !instance.dockerd.unitClearsHostFlag) {
    return configFailure(
      `the following directives are specified both as a flag and in the configuration file: hosts: ` +
        `(from flag: [fd://], from file: [${hosts.join(' ')}])`,
    );
  }
  if (json['live-restore'] === true && instance.swarm !== undefined) {
    return {
      ok: false,
      failure: 'Error starting daemon: --live-restore daemon configuration is incompatible with swarm mode',
    };
  }
  return tlsConfig(instance, json, hosts);
}

function tlsConfig(instance: SimInstance, json: Record<string, unknown>, hosts: readonly string[]): ConfigOutcome {
  const tls = json.tlsverify === true || json.tls === true;
  const missing = tls ? missingTlsFile(instance, json) : undefined;
  if (missing !== undefined) return { ok: false, failure: missing };
  const ports = hosts.flatMap((host) => {
    const match = /^tcp:\/\/[^:]*:(\d+)$/.exec(host);
    return match ? [Number(match[1])] : [];
  });
  return { ok: true, config: { tlsPorts: tls ? ports : [], plainPorts: tls ? [] : ports } };
}

function missingTlsFile(instance: SimInstance, json: Record<string, unknown>): string | undefined {
  const path = (key: string): string | undefined => (typeof json[key] === 'string' ? (json[key] as string) : undefined);
  const ca = path('tlscacert');
  if (json.tlsverify === true && ca !== undefined && readFile(instance, ca) === undefined) {
    return `Could not read CA certificate "${ca}": open ${ca}: no such file or directory`;
  }
  for (const file of [path('tlscert'), path('tlskey')]) {
    if (file !== undefined && readFile(instance, file) === undefined) {
      return `could not load X509 key pair: open ${file}: no such file or directory`;
    }
  }
  return undefined;
}

function configFailure(detail: string): ConfigOutcome {
  return { ok: false, failure: `unable to configure the Docker daemon with file ${DAEMON_JSON}: ${detail}` };
}

/** A drop-in that empties ExecStart and sets one without `-H`/`--host` (what marina writes). */
function dropInClearsHostFlag(instance: SimInstance): boolean {
  for (const [path, file] of instance.files) {
    if (!path.startsWith(DROP_IN_DIRECTORY) || !path.endsWith('.conf')) continue;
    const execStarts = file.content.split('\n').filter((line) => line.startsWith('ExecStart='));
    const last = execStarts.at(-1);
    if (
      execStarts.length >= 2 &&
      execStarts[0] === 'ExecStart=' &&
      last !== undefined &&
      !/\s(-H|--host)\b/.test(last)
    ) {
      return true;
    }
  }
  return false;
}
