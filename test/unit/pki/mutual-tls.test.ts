import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caBundle, issueClientCertificate, issueServerCertificate } from '../../../src/pki/index.js';
import { ONE_DAY_MS, createBayPki, type BayPki } from '../../support/swarm/bay-pki.js';
import { httpsGet, startMutualTlsServer, type MutualTlsServer } from '../../support/swarm/tls-peers.js';

// Real TLS handshakes on loopback, the way dockerd with `tlsverify` and marina's client meet.
describe('mutual TLS with a bay CA', () => {
  let bay: BayPki;
  let stranger: BayPki;
  let server: MutualTlsServer;

  beforeAll(async () => {
    [bay, stranger] = await Promise.all([createBayPki({ name: 'bay' }), createBayPki({ name: 'stranger' })]);
    server = await startMutualTlsServer({ trust: bay.ca.certPem, identity: bay.server });
  });

  afterAll(async () => {
    await server.close();
  });

  it('lets a client certificate of the same CA in, and the server sees its identity', async () => {
    const outcome = await httpsGet({ port: server.port, trust: bay.ca.certPem, identity: bay.client });
    expect(outcome).toEqual({ ok: true, body: 'marina-operator' });
  });

  // With TLS 1.3 the client finishes its half of the handshake before the server has checked the
  // client certificate, so a refused certificate shows up on the client as a reset connection.
  it('refuses a client certificate of another CA', async () => {
    const outcome = await httpsGet({ port: server.port, trust: bay.ca.certPem, identity: stranger.client });
    expect(outcome).toEqual({ ok: false, error: 'ECONNRESET' });
  });

  it('refuses a client without a certificate', async () => {
    const outcome = await httpsGet({ port: server.port, trust: bay.ca.certPem });
    expect(outcome).toEqual({ ok: false, error: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
  });

  it('refuses an expired client certificate', async () => {
    const expired = await issueClientCertificate(bay.ca, {
      identity: 'late',
      validityMs: ONE_DAY_MS,
      now: new Date(Date.now() - 2 * ONE_DAY_MS),
    });
    const outcome = await httpsGet({ port: server.port, trust: bay.ca.certPem, identity: expired });
    expect(outcome).toEqual({ ok: false, error: 'ECONNRESET' });
  });

  it('is refused by a client that trusts another CA', async () => {
    const outcome = await httpsGet({ port: server.port, trust: stranger.ca.certPem, identity: bay.client });
    expect(outcome).toEqual({ ok: false, error: 'SELF_SIGNED_CERT_IN_CHAIN' });
  });

  it('is refused when the server certificate does not name the address the client dialed', async () => {
    const elsewhere = await issueServerCertificate(bay.ca, {
      commonName: '127.0.0.1', // a CN never counts: only SANs do
      ipAddresses: ['10.9.9.9'],
      includeLoopback: false,
      validityMs: ONE_DAY_MS,
    });
    const misnamed = await startMutualTlsServer({ trust: bay.ca.certPem, identity: elsewhere });
    try {
      const outcome = await httpsGet({ port: misnamed.port, trust: bay.ca.certPem, identity: bay.client });
      expect(outcome).toEqual({ ok: false, error: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    } finally {
      await misnamed.close();
    }
  });
});

describe('CA rotation overlap', () => {
  let oldBay: BayPki;
  let newBay: BayPki;
  let overlapServer: MutualTlsServer;
  let newServer: MutualTlsServer;

  beforeAll(async () => {
    [oldBay, newBay] = await Promise.all([createBayPki({ name: 'old' }), createBayPki({ name: 'new' })]);
    const both = caBundle([oldBay.ca.certPem, newBay.ca.certPem]);
    overlapServer = await startMutualTlsServer({ trust: both, identity: oldBay.server });
    newServer = await startMutualTlsServer({ trust: both, identity: newBay.server });
  });

  afterAll(async () => {
    await Promise.all([overlapServer.close(), newServer.close()]);
  });

  it('a server trusting [old CA, new CA] accepts clients of both', async () => {
    const trust = oldBay.ca.certPem;
    await expect(httpsGet({ port: overlapServer.port, trust, identity: oldBay.client })).resolves.toMatchObject({ ok: true });
    await expect(httpsGet({ port: overlapServer.port, trust, identity: newBay.client })).resolves.toMatchObject({ ok: true });
  });

  it('a client trusting only the old CA refuses a server certificate of the new CA', async () => {
    const outcome = await httpsGet({ port: newServer.port, trust: oldBay.ca.certPem, identity: oldBay.client });
    expect(outcome.ok).toBe(false);
  });

  it('a client trusting the bundle accepts server certificates of either CA', async () => {
    const trust = caBundle([oldBay.ca.certPem, newBay.ca.certPem]);
    await expect(httpsGet({ port: newServer.port, trust, identity: oldBay.client })).resolves.toMatchObject({ ok: true });
    await expect(httpsGet({ port: overlapServer.port, trust, identity: newBay.client })).resolves.toMatchObject({ ok: true });
  });
});
