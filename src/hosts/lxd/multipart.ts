import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

import type { RequestBody } from './transport.js';

export interface FilePart {
  /** Form field name. */
  readonly name: string;
  readonly path: string;
  readonly filename: string;
}

/**
 * A multipart/form-data body streamed from files in the given order, with its exact length computed
 * up front (so a 600 MB rootfs is never held in memory and the host sees a Content-Length).
 */
export async function multipartFromFiles(parts: readonly FilePart[]): Promise<RequestBody> {
  const boundary = `marina-${randomBytes(12).toString('hex')}`;
  const sizes = await Promise.all(parts.map(async (part) => (await stat(part.path)).size));
  const heads = parts.map((part) => Buffer.from(partHead(boundary, part)));
  const tail = Buffer.from(`--${boundary}--\r\n`);
  const separator = Buffer.from('\r\n');
  const contentLength =
    heads.reduce((sum, head) => sum + head.length, 0) +
    sizes.reduce((sum, size) => sum + size + separator.length, 0) +
    tail.length;

  async function* chunks(): AsyncGenerator<Buffer> {
    for (const [i, part] of parts.entries()) {
      yield heads[i] as Buffer;
      for await (const chunk of createReadStream(part.path)) yield chunk as Buffer;
      yield separator;
    }
    yield tail;
  }

  return {
    kind: 'stream',
    contentType: `multipart/form-data; boundary=${boundary}`,
    contentLength,
    open: () => Readable.from(chunks()),
  };
}

function partHead(boundary: string, part: FilePart): string {
  return (
    `--${boundary}\r\n` +
    `Content-Disposition: form-data; name="${part.name}"; filename="${part.filename}"\r\n` +
    'Content-Type: application/octet-stream\r\n\r\n'
  );
}
