import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_FILES,
  CERT_DIR_PLACEHOLDER,
  InvalidBundleError,
  createCertificateAuthority,
  credentialsBundle,
  dockerHostUrl,
  splitPemCertificates,
  withCertDir,
  type CertificateAuthority,
} from '../../../src/pki/index.js';
import { createBayPki, type BayPki } from '../../support/swarm/bay-pki.js';

describe("a user's credentials bundle", () => {
  let bay: BayPki;
  let nextCa: CertificateAuthority;
  let bundle: Record<string, string>;

  beforeAll(async () => {
    [bay, nextCa] = await Promise.all([createBayPki({ name: 'web' }), createCertificateAuthority({ commonName: 'next' })]);
    bundle = credentialsBundle({
      caPems: [bay.ca.certPem],
      certPem: bay.client.certPem,
      keyPem: bay.client.keyPem,
      endpoint: { address: '10.213.71.10' },
    });
  });

  it('holds the files the Docker CLI reads and one environment script per shell', () => {
    expect(Object.keys(bundle).sort()).toEqual(['ca.pem', 'cert.pem', 'docker.cmd', 'docker.env', 'docker.fish', 'docker.ps1', 'key.pem']);
    expect(bundle['ca.pem']).toBe(bay.ca.certPem);
    expect(bundle['cert.pem']).toBe(bay.client.certPem);
    expect(bundle['key.pem']).toBe(bay.client.keyPem);
  });

  it('trusts every CA given, for the overlap of a CA rotation', () => {
    const overlap = credentialsBundle({ ...inputs(), caPems: [bay.ca.certPem, nextCa.certPem] });
    expect(splitPemCertificates(overlap['ca.pem']!)).toEqual([bay.ca.certPem, nextCa.certPem]);
  });

  it('points DOCKER_HOST at the TLS port 2376 and turns verification on, in every shell', () => {
    expect(bundle['docker.env']).toBe(
      [
        '# Docker CLI settings for a marina bay. Load with: . ./docker.env',
        "export DOCKER_HOST='tcp://10.213.71.10:2376'",
        'export DOCKER_TLS_VERIFY=1',
        `export DOCKER_CERT_PATH='${CERT_DIR_PLACEHOLDER}'`,
        '',
      ].join('\n'),
    );
    expect(bundle['docker.fish']).toContain("set -gx DOCKER_HOST 'tcp://10.213.71.10:2376'\nset -gx DOCKER_TLS_VERIFY 1\n");
    expect(bundle['docker.ps1']).toContain("$Env:DOCKER_HOST='tcp://10.213.71.10:2376'\n$Env:DOCKER_TLS_VERIFY='1'\n");
    expect(bundle['docker.cmd']).toContain('@set "DOCKER_HOST=tcp://10.213.71.10:2376"\r\n@set "DOCKER_TLS_VERIFY=1"\r\n');
  });

  it('leaves the certificate directory as a placeholder until the CLI knows where it writes the files', () => {
    for (const file of ['docker.env', 'docker.fish', 'docker.ps1', 'docker.cmd']) expect(bundle[file]).toContain(CERT_DIR_PLACEHOLDER);
    const filled = withCertDir(bundle, '/home/ann/.marina/web');
    expect(filled['docker.env']).toContain("export DOCKER_CERT_PATH='/home/ann/.marina/web'\n");
    expect(filled['docker.fish']).toContain("set -gx DOCKER_CERT_PATH '/home/ann/.marina/web'\n");
    expect(filled['key.pem']).toBe(bundle['key.pem']);
    expect(JSON.stringify(filled)).not.toContain(CERT_DIR_PLACEHOLDER);
  });

  it('writes the directory straight away when it is known', () => {
    const direct = credentialsBundle({ ...inputs(), certDir: 'C:\\Users\\ann\\web' });
    expect(direct['docker.ps1']).toContain("$Env:DOCKER_CERT_PATH='C:\\Users\\ann\\web'\n");
    expect(direct['docker.cmd']).toContain('@set "DOCKER_CERT_PATH=C:\\Users\\ann\\web"\r\n');
  });

  it('quotes directories with quotes, dollars and percents for each shell', () => {
    const filled = withCertDir(bundle, "/tmp/it's $HOME 100%");
    expect(filled['docker.env']).toContain(`export DOCKER_CERT_PATH='/tmp/it'\\''s $HOME 100%'\n`);
    expect(filled['docker.fish']).toContain(`set -gx DOCKER_CERT_PATH '/tmp/it\\'s $HOME 100%'\n`);
    expect(filled['docker.ps1']).toContain(`$Env:DOCKER_CERT_PATH='/tmp/it''s $HOME 100%'\n`);
    expect(filled['docker.cmd']).toContain(`@set "DOCKER_CERT_PATH=/tmp/it's $HOME 100%%"\r\n`);
  });

  it('refuses a directory that cannot be written into a script', () => {
    expect(() => withCertDir(bundle, '/tmp/a\nb')).toThrow(InvalidBundleError);
    expect(() => withCertDir(bundle, 'C:\\a"b')).toThrow(InvalidBundleError);
  });

  it('brackets IPv6 endpoints and keeps other ports', () => {
    expect(dockerHostUrl({ address: 'fd42::10' })).toBe('tcp://[fd42::10]:2376');
    expect(dockerHostUrl({ address: '10.0.0.1', port: 12376 })).toBe('tcp://10.0.0.1:12376');
  });

  it('names its files as docker-machine did', () => {
    expect(Object.values(BUNDLE_FILES).sort()).toEqual(Object.keys(bundle).sort());
  });

  function inputs() {
    return { caPems: [bay.ca.certPem], certPem: bay.client.certPem, keyPem: bay.client.keyPem, endpoint: { address: '10.213.71.10' } };
  }

  describe('docker.env in a real POSIX shell', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "marina it's $HOME "));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it.each(['sh', 'bash'])('sets the three variables when sourced by %s', (shell) => {
      const script = join(dir, 'docker.env');
      writeFileSync(script, withCertDir(bundle, dir)['docker.env']!);
      const output = execFileSync(shell, ['-c', '. "$1" && printf "%s|%s|%s" "$DOCKER_HOST" "$DOCKER_TLS_VERIFY" "$DOCKER_CERT_PATH"', 'sh', script], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
        // stdin from /dev/null: bash reads ~/.bashrc when stdin is a socket (its rsh heuristic).
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      expect(output).toBe(`tcp://10.213.71.10:2376|1|${dir}`);
    });
  });
});
