import { randomFillSync } from 'node:crypto';

const pool = new Uint8Array(16 * 256);
let offset = pool.length;
let lastMs = -1;
let sequence = 0;

/**
 * A UUID version 7 (RFC 9562): 48 bits of epoch milliseconds, a 12-bit sequence, then random
 * bits. Ids made by one process are strictly increasing, even within one millisecond (the
 * sequence counts up; on overflow the timestamp borrows the next millisecond), so "newest
 * first" by (createdAt, id) is the order jobs were made in. Sorting by time also keeps b-tree
 * inserts local. Random bytes come from a refilled pool: the hot enqueue path does not call
 * into the crypto module for every id.
 */
export function uuidv7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    sequence = 0;
  } else if (++sequence > 0xfff) {
    lastMs += 1;
    sequence = 0;
  }
  if (offset + 8 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const ms = lastMs;
  const bytes = new Uint8Array(16);
  bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
  bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
  bytes[2] = (ms >>> 24) & 0xff;
  bytes[3] = (ms >>> 16) & 0xff;
  bytes[4] = (ms >>> 8) & 0xff;
  bytes[5] = ms & 0xff;
  bytes[6] = 0x70 | (sequence >>> 8);
  bytes[7] = sequence & 0xff;
  bytes.set(pool.subarray(offset, offset + 8), 8);
  offset += 8;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
