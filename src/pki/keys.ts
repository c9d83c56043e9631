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
 * Ready. A long-running process (`marina run`) keeps a few ready, made one at a time once nobody has
 * taken one for a quiet spell: a bay on its way to Ready keeps the cores busy, and making its
 * replacements then would slow it down by as much as the pool saved it. Each key is handed out once
 * and kept only in memory until then. Short commands never warm it: they generate what they need and
 * exit.
 */
class RsaKeyPool {
  private readonly ready: KeyPairPem[] = [];
  private target = 0;
  private quietMs = DEFAULT_REFILL_QUIET_MS;
  private refilling = false;
  private quiet: NodeJS.Timeout | undefined;

  warm(size: number, quietMs = DEFAULT_REFILL_QUIET_MS): void {
    this.target = size;
    this.quietMs = quietMs;
    this.refill();
  }

  async take(): Promise<KeyPairPem> {
    const key = this.ready.shift();
    this.refillWhenQuiet();
    return key ?? freshRsaKeyPair();
  }

  /** How many keys wait to be handed out. */
  get size(): number {
    return this.ready.length;
  }

  private refillWhenQuiet(): void {
    clearTimeout(this.quiet);
    this.quiet = undefined;
    if (this.target === 0) return;
    this.quiet = setTimeout(() => {
      this.quiet = undefined;
      this.refill();
    }, this.quietMs);
    this.quiet.unref();
  }

  private refill(): void {
    if (this.refilling || this.quiet !== undefined || this.ready.length >= this.target) return;
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

/** How long after the last key was taken the pool starts making keys again. */
const DEFAULT_REFILL_QUIET_MS = 5_000;

const pool = new RsaKeyPool();

/** An RSA key pair never handed out before: from the warm pool when it has one, else made now. */
export function generateRsaKeyPair(): Promise<KeyPairPem> {
  return pool.take();
}

/**
 * Keeps `size` keys made ahead (`marina run`), made again once no key was taken for `quietMs`; 0
 * stops making more.
 */
export function warmRsaKeys(size: number, quietMs?: number): void {
  pool.warm(size, quietMs);
}

/** Keys waiting in the pool (for metrics and tests). */
export const warmRsaKeyCount = (): number => pool.size;
