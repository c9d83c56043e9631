import { randomBytes } from 'node:crypto';

/**
 * A random 128-bit serial number as the hex node-forge expects. forge writes the hex as a signed
 * ASN.1 INTEGER, so a first byte ≥ 0x80 would make the serial negative, and Go (dockerd) rejects
 * negative serials since 1.23. Clearing the top bit keeps it positive; setting the lowest bit of that
 * byte keeps it non-zero there, so the DER encoding is always exactly 16 bytes.
 */
export function randomPositiveSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}
