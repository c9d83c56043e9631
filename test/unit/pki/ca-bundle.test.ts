import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidCertificateError, caBundle, createCertificateAuthority, inspectCertificate, splitPemCertificates, type CertificateAuthority } from '../../../src/pki/index.js';
import { createBayPki } from '../../support/swarm/bay-pki.js';

describe('CA trust bundles', () => {
  let oldCa: CertificateAuthority;
  let newCa: CertificateAuthority;

  beforeAll(async () => {
    [oldCa, newCa] = await Promise.all([
      createCertificateAuthority({ commonName: 'old CA' }),
      createCertificateAuthority({ commonName: 'new CA' }),
    ]);
  });

  const commonNames = (bundle: string) => splitPemCertificates(bundle).map((pem) => inspectCertificate(pem).subjectCommonName);

  it('concatenates the CAs in the order given', () => {
    const bundle = caBundle([oldCa.certPem, newCa.certPem]);
    expect(bundle).toBe(oldCa.certPem + newCa.certPem);
    expect(commonNames(bundle)).toEqual(['old CA', 'new CA']);
  });

  it('holds each CA once, however often and in whatever line endings it is given', () => {
    const crlf = newCa.certPem.replace(/\n/g, '\r\n');
    const bundle = caBundle([oldCa.certPem, newCa.certPem, oldCa.certPem, crlf]);
    expect(commonNames(bundle)).toEqual(['old CA', 'new CA']);
  });

  it('accepts bundles as input, so the current bundle can be extended with a new CA', () => {
    const current = caBundle([oldCa.certPem]);
    expect(commonNames(caBundle([current, newCa.certPem]))).toEqual(['old CA', 'new CA']);
  });

  it('drops the old CA when it is no longer listed', () => {
    expect(caBundle([newCa.certPem])).toBe(newCa.certPem);
  });

  it('refuses a leaf certificate', async () => {
    const { server } = await createBayPki({ name: 'leaf' });
    expect(() => caBundle([oldCa.certPem, server.certPem])).toThrow(/not a CA/);
  });

  it('refuses to be empty', () => {
    expect(() => caBundle([])).toThrow(InvalidCertificateError);
    expect(() => caBundle(['no certificate here'])).toThrow(InvalidCertificateError);
  });
});
