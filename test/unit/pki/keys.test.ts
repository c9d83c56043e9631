import { createPrivateKey, createPublicKey } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { generateRsaKeyPair, RSA_MODULUS_BITS, warmRsaKeyCount, warmRsaKeys } from '../../../src/pki/keys.js';

const until = async (holds: () => boolean): Promise<void> => {
  const deadline = Date.now() + 20_000;
  while (!holds()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('RSA keys made ahead', () => {
  afterEach(() => warmRsaKeys(0));

  it('a cold pool makes each key on demand, and keeps none', async () => {
    const key = await generateRsaKeyPair();
    expect(createPrivateKey(key.privateKeyPem).asymmetricKeyDetails?.modulusLength).toBe(RSA_MODULUS_BITS);
    expect(warmRsaKeyCount()).toBe(0);
  });

  it('a warm pool fills up to its size, hands each key out once, and refills', async () => {
    warmRsaKeys(3, 50);
    await until(() => warmRsaKeyCount() === 3);
    const keys = await Promise.all([generateRsaKeyPair(), generateRsaKeyPair(), generateRsaKeyPair(), generateRsaKeyPair()]);
    expect(new Set(keys.map((k) => k.privateKeyPem)).size).toBe(4);
    for (const k of keys) {
      const derived = createPublicKey(k.privateKeyPem).export({ type: 'spki', format: 'pem' });
      expect(derived).toBe(k.publicKeyPem);
    }
    await until(() => warmRsaKeyCount() === 3);
  });

  it('makes no key while keys are being taken, and refills once nobody took one for a quiet spell', async () => {
    warmRsaKeys(2, 1_000);
    await until(() => warmRsaKeyCount() >= 2);
    while (warmRsaKeyCount() > 0) await generateRsaKeyPair();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(warmRsaKeyCount()).toBe(0);
    await generateRsaKeyPair(); // a fresh key; the quiet spell starts again
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(warmRsaKeyCount()).toBe(0);
    await until(() => warmRsaKeyCount() === 2);
  }, 30_000);

  it('a pool stopped while it waited for a quiet spell, and warmed again, fills up', async () => {
    warmRsaKeys(1, 60_000);
    await generateRsaKeyPair(); // the quiet spell starts
    warmRsaKeys(0);
    await generateRsaKeyPair(); // taken from a stopped pool: nothing is to be made again
    warmRsaKeys(2, 50);
    await until(() => warmRsaKeyCount() >= 2);
  }, 30_000);
});
