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
async function freshRsaKeyPair(): Promise<KeyPairPem> {
  const { privateKey, publicKey } = await generateKeyPairAsync('rsa', {
    modulusLength: RSA_MODULUS_BITS,
    publicExponent: 0x10001,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * RSA keys made ahead of need. A new bay needs one key for its CA, one for marina's client, one per
 * node and one for the tenant's bundle, each 50-200 ms of a core on a small machine, all on the way to
 * Ready. A long-running process (`marina run`) keeps a few ready, made one at a time while it is idle;
 * each key is handed out once and kept only in memory until then. Short commands never warm it: they
 * generate what they need and exit.
 */
class RsaKeyPool {
  private readonly ready: KeyPairPem[] = [];
  private target = 0;
  private refilling = false;

  warm(size: number): void {
    this.target = size;
    this.refill();
  }

  async take(): Promise<KeyPairPem> {
    const key = this.ready.shift();
    this.refill();
    return key ?? freshRsaKeyPair();
  }

  /** How many keys wait to be handed out. */
  get size(): number {
    return this.ready.length;
  }

  private refill(): void {
    if (this.refilling || this.ready.length >= this.target) return;
    this.refilling = true;
    freshRsaKeyPair().then(
      (key) => {
        this.refilling = false;
        if (this.ready.length < this.target) this.ready.push(key);
        this.refill();
      },
      () => {
        // The next take generates its own key and reports any failure where it is needed.
        this.refilling = false;
      },
    );
  }
}

const pool = new RsaKeyPool();

/** An RSA key pair never handed out before: from the warm pool when it has one, else made now. */
export function generateRsaKeyPair(): Promise<KeyPairPem> {
  return pool.take();
}

/** Keeps `size` keys made ahead (`marina run`); 0 stops making more. */
export function warmRsaKeys(size: number): void {
  pool.warm(size);
}

/** Keys waiting in the pool (for metrics and tests). */
export const warmRsaKeyCount = (): number => pool.size;
