// Ids, keys, hashes and passwords.
import crypto from 'node:crypto';
import { perMillisecond } from '../clock.ts';

// Ids: 8 characters of the creation time in milliseconds, then 96 random bits (16 base64url characters).
// The time goes first, in an alphabet whose order is byte order, so that ids made one after the other
// sort together: a new row's id lands on the same last page of each index as the rows made just before
// it, instead of on a random page (an accept wrote 5.5 pages to the WAL with fully random ids). The
// random part comes from a pool refilled 4 KB at a time: one call into the CSPRNG per 341 ids.
// The first character holds the time's top 6 bits (0 for thousands of years) plus one, so that an
// id never starts with "-", which command-line tools take for an option (grep $ID, rm, sort -k).
// Ids made before this rule start with "-" and still sort before every later one.
const SORTED64 = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';
const timeStamp = perMillisecond((ms) => {
  let stamp = '';
  let t = ms;
  for (let i = 7; i >= 1; i--, t = Math.floor(t / 64)) stamp = SORTED64[t % 64] + stamp;
  return SORTED64[(t % 63) + 1] + stamp;
});
let pool = Buffer.alloc(0);
let poolAt = 0;

/** An opaque, URL-safe, unguessable id: the creation time (sortable) and 96 random bits, 24 characters. */
export function newId(): string {
  if (poolAt + 12 > pool.length) {
    pool = crypto.randomBytes(4092);
    poolAt = 0;
  }
  poolAt += 12;
  return timeStamp() + pool.toString('base64url', poolAt - 12, poolAt);
}

export { nowIso } from '../clock.ts';

/** Compares a secret someone sent with the expected one in constant time (both hashed to one length first). */
export function sameSecret(given: string, expected: string): boolean {
  return crypto.timingSafeEqual(crypto.createHash('sha256').update(given).digest(), crypto.createHash('sha256').update(expected).digest());
}

// crypto.hash (Node 20.12+) hashes in one call, without a Hash object: about 0.8 µs instead of 2.1 µs
// for a key, which every authenticated request pays.
const oneShot = (crypto as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;

export function sha256Hex(s: string): string {
  return oneShot ? oneShot('sha256', s, 'hex') : crypto.createHash('sha256').update(s).digest('hex');
}

export type KeyKind = 'agent' | 'buyer';

/** A new secret key: the prefix then 32 random bytes in base64url. Only its hash is ever stored. */
export function newKey(kind: KeyKind): { key: string; hash: string; prefix: string } {
  const key = `hc_${kind}_${crypto.randomBytes(32).toString('base64url')}`;
  return { key, hash: sha256Hex(key), prefix: key.slice(0, 12) };
}

// scrypt parameters: N=2^15 costs about 30-50 ms and 32 MiB per hash on the machines this was tried on.
const SCRYPT = { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

function scrypt(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    crypto.scrypt(password.normalize('NFC'), salt, 32, { ...params, maxmem: SCRYPT.maxmem }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  // Without a stored hash, still spend the time of one hash so that timing does not reveal which emails exist.
  const parts = (stored ?? '').split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    await scrypt(password, crypto.randomBytes(16), SCRYPT);
    return false;
  }
  const [, N, r, p, salt, hash] = parts;
  const expected = Buffer.from(hash, 'base64url');
  const got = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(N), r: Number(r), p: Number(p) });
  return got.length === expected.length && crypto.timingSafeEqual(got, expected);
}

export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}
