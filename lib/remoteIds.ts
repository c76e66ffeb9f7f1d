import { createHash } from 'node:crypto';

const BASE32HEX = '0123456789abcdefghijklmnopqrstuv';

/**
 * The remote event id of one appointment on one target. Derived, never stored as the only copy:
 * a retry after a lost insert answer uses the same id and meets a 409, not a second event.
 * Google accepts base32hex ids of 5–1024 characters; 32 characters carry 160 bits of the hash.
 */
export function remoteEventId(tenantId: string, appointmentId: string, targetKey: string): string {
  const digest = createHash('sha256').update(`${tenantId}\u0000${appointmentId}\u0000${targetKey}`).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 32) {
      out += BASE32HEX[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}
