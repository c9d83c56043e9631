import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceProber } from '../../support/bays/prober.js';
import { freePort } from '../../support/processes.js';

// Three backends on one port, as three nodes publishing a service port in host mode: Linux routes all of 127/8 to
// the loopback interface, so each address can hold its own listener on the same port.
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3'] as const;
type Behaviour = 'ok' | 'error-503' | 'hang';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Real HTTP servers, one per loopback address, that can be stopped and started again on the same port. */
class Backends {
  private readonly servers = new Map<string, Server>();

  private constructor(readonly port: number) {}

  static async start(behaviours: Partial<Record<string, Behaviour>> = {}): Promise<Backends> {
    // A port free on 127.0.0.1 may still be taken on another address; try again with another one then.
    for (let attempt = 0; attempt < 20; attempt++) {
      const backends = new Backends(await freePort());
      try {
        for (const address of ADDRESSES) await backends.up(address, behaviours[address] ?? 'ok');
        return backends;
      } catch {
        await backends.closeAll();
      }
    }
    throw new Error('no port was free on all three loopback addresses');
  }

  async up(address: string, behaviour: Behaviour = 'ok'): Promise<void> {
    const server = createServer((req, res) => {
      if (behaviour === 'hang') return; // accepts the connection, never answers
      res.writeHead(behaviour === 'ok' ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(`served by ${address}\n`);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, address, () => resolve());
    });
    this.servers.set(address, server);
  }

  /** Refuses new connections from now on, and cuts the ones open, as a dockerd going down does. */
  async down(address: string): Promise<void> {
    const server = this.servers.get(address);
    if (!server) return;
    this.servers.delete(address);
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.servers.keys()].map((address) => this.down(address)));
  }
}

let backends: Backends | undefined;
let prober: ServiceProber | undefined;

afterEach(async () => {
  await prober?.stop();
  await backends?.closeAll();
  prober = backends = undefined;
});

const probe = (b: Backends, opts: { ratePerSecond?: number; attemptTimeoutMs?: number } = {}): ServiceProber =>
  (prober = new ServiceProber({ backends: ADDRESSES, port: b.port, ...opts }));

describe('ServiceProber against real HTTP servers on three loopback addresses', () => {
  it('with every backend up, no probe fails and the answers are spread over all three backends', async () => {
    const b = (backends = await Backends.start());
    const p = probe(b);
    p.start();
    await sleep(1_000);
    const report = await p.stop();

    expect(report.sent).toBeGreaterThanOrEqual(18);
    expect(report).toMatchObject({ failed: 0, ok: report.sent, failures: [] });
    for (const address of ADDRESSES) expect(report.byBackend[address]).toBeGreaterThanOrEqual(report.sent / 3 - 1);
  });

  it('with one backend down, no probe fails: the next backend takes its share and the down one gets none', async () => {
    const b = (backends = await Backends.start());
    await b.down('127.0.0.2');
    const p = probe(b);
    p.start();
    await sleep(1_000);
    const report = await p.stop();

    expect(report.sent).toBeGreaterThanOrEqual(18);
    expect(report).toMatchObject({ failed: 0, ok: report.sent });
    expect(report.byBackend['127.0.0.2']).toBe(0);
    expect(report.byBackend['127.0.0.1']).toBeGreaterThan(0);
    expect(report.byBackend['127.0.0.3']).toBeGreaterThan(0);
  });

  it('a backend answering 503, or not within the attempt timeout, is skipped, so no probe fails', async () => {
    const b = (backends = await Backends.start({ '127.0.0.2': 'error-503', '127.0.0.3': 'hang' }));
    const p = probe(b, { attemptTimeoutMs: 200 });
    p.start();
    await sleep(1_000);
    const report = await p.stop();

    expect(report).toMatchObject({ failed: 0, ok: report.sent, byBackend: { '127.0.0.2': 0, '127.0.0.3': 0 } });
    expect(report.byBackend['127.0.0.1']).toBe(report.sent);
  });

  it('with every backend down for a while, the probes then fail, each naming the error of every backend', async () => {
    const b = (backends = await Backends.start());
    const p = probe(b, { ratePerSecond: 100 });
    p.start();
    await sleep(300);
    await b.closeAll();
    await sleep(500);
    for (const address of ADDRESSES) await b.up(address);
    await sleep(300);
    const report = await p.stop();

    expect(report.failed).toBeGreaterThanOrEqual(30);
    expect(report.ok).toBeGreaterThanOrEqual(40);
    expect(report.ok + report.failed).toBe(report.sent);
    // Only the first failures are kept, to keep a report readable.
    expect(report.failures).toHaveLength(20);
    for (const failure of report.failures) {
      expect(failure.at).toBeInstanceOf(Date);
      expect(failure.errors).toHaveLength(3);
      expect(failure.errors.map((e) => e.split(':')[0]).sort()).toEqual([...ADDRESSES]);
      // A probe in flight at the moment the servers went down sees its connection cut rather than refused.
      for (const error of failure.errors) expect(error).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
    }
  });

  it('since(mark) counts only the probes started after the mark', async () => {
    const b = (backends = await Backends.start());
    await b.closeAll();
    const p = probe(b);
    p.start();
    await sleep(500);
    for (const address of ADDRESSES) await b.up(address);
    // Probes started before the mark may still be in flight; they belong to the earlier phase all the same.
    const mark = p.mark();
    await sleep(500);
    const afterMark = p.since(mark);
    const whole = await p.stop();

    expect(whole.failed).toBeGreaterThanOrEqual(8);
    expect(afterMark.sent).toBeGreaterThanOrEqual(8);
    expect(afterMark.sent).toBeLessThanOrEqual(13);
    expect(afterMark).toMatchObject({ failed: 0, failures: [] });
    expect(afterMark.ok).toBeGreaterThanOrEqual(afterMark.sent - 1);
    expect(whole.sent).toBeGreaterThan(afterMark.sent);
  });

  it('achieves at least 90% of the requested rate over two seconds, and says so', async () => {
    const b = (backends = await Backends.start());
    const p = probe(b, { ratePerSecond: 50 });
    p.start();
    await sleep(2_000);
    const report = await p.stop();

    expect(report.sent).toBeGreaterThanOrEqual(90);
    expect(report.perSecond).toBeGreaterThanOrEqual(45);
    expect(report.perSecond).toBeLessThanOrEqual(55);
    expect(report.failed).toBe(0);
  });
});
