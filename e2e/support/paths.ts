import { fileURLToPath } from 'node:url';

/** The repository's root (dist/e2e/support/ -> ../../..). */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/**
 * A container's log as text. Without a TTY, Docker sends stdout and stderr as
 * frames: an 8-byte header (stream, 3 zero bytes, big-endian length), then the bytes.
 */
export function demuxLogs(raw: Buffer): string {
  const parts: Buffer[] = [];
  for (let offset = 0; offset + 8 <= raw.length;) {
    const length = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return Buffer.concat(parts).toString('utf8');
}
