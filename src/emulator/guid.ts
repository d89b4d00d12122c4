/**
 * Deterministic guids for fixture objects that name none, so the demo tenant (and a
 * generated scale tenant) has the same ids on every run: uuid v5-style values from a
 * hash over a fixed namespace, the object kind and its lower-cased natural key.
 */
import { createHash } from 'node:crypto';

function format(h: Buffer, at: number): string {
  const b = Buffer.from(h.subarray(at, at + 16));
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const x = b.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function deterministicGuid(kind: string, key: string): string {
  return format(createHash('sha1').update(`ownersync-emulator/${kind}/${key.toLowerCase()}`).digest(), 0);
}

/**
 * Two independent guids from one hash (an Exchange Guid and an Entra object id for the
 * same recipient): halves the hashing when a 25,000-recipient tenant loads.
 */
export function deterministicGuidPair(kind: string, key: string): [string, string] {
  const h = createHash('sha256').update(`ownersync-emulator/${kind}/${key.toLowerCase()}`).digest();
  return [format(h, 0), format(h, 16)];
}
