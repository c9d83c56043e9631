import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';

const generateKeyPairAsync = promisify(generateKeyPair);

/** RSA 2048: what Go, Node and the Docker CLI all accept, and what docker-machine issued. */
export const RSA_MODULUS_BITS = 2048;

/** A fresh key pair as PEM strings: the private key in PKCS#8 (`BEGIN PRIVATE KEY`), the public key as SPKI. */
export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/**
 * Generates an RSA key pair on libuv's thread pool. The synchronous variant blocks the event loop
 * for 50-200 ms per key, which would stall every other reconcile while a bay's certificates are
 * issued.
 */
export async function generateRsaKeyPair(): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: RSA_MODULUS_BITS,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}
