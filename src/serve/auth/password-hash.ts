/**
 * Password hashing with scrypt from node:crypto. The parameters travel with each hash, so raising them later leaves
 * old hashes readable; verification compares in constant time.
 */
import { randomBytes, type ScryptOptions, scrypt, timingSafeEqual } from "node:crypto";

/** A stored password: never the password itself. */
export interface PasswordHash {
  readonly algorithm: "scrypt";
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  /** Block size. */
  readonly r: number;
  /** Parallelisation. */
  readonly p: number;
  /** Bytes of derived key. */
  readonly keyLength: number;
  /** Random salt, base64. */
  readonly salt: string;
  /** The derived key, base64. */
  readonly hash: string;
}

/** scrypt's cost parameters. */
export interface ScryptParameters {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * One of OWASP's equivalent scrypt settings (N=2^14, r=8, p=5): the work of N=2^17, p=1 with 16 MB of memory
 * instead of 128 MB, so a login does not swell the serve process.
 */
export const defaultScryptParameters: ScryptParameters = { N: 2 ** 14, r: 8, p: 5 };

/**
 * Bounds a stored hash's parameters must keep, so an edited users file cannot make one login cost minutes or GBs.
 * Each parameter alone is not enough (N=2^20 with r=32 needs 4 GB per check, and eight checks run at once), so the
 * memory (128·N·r bytes) and the work (N·r·p) are bounded too: at most 256 MB and about six times the default work.
 */
export const scryptBounds = {
  minN: 2 ** 10,
  maxN: 2 ** 20,
  maxR: 32,
  maxP: 16,
  keyLength: [32, 128],
  maxMemoryBytes: 256 * 1024 * 1024,
  maxWork: 2 ** 22,
} as const;

/** Passwords shorter than this are refused when set. */
export const minimumPasswordLength = 12;
/** Passwords longer than this are refused (they would only cost hashing time). */
export const maximumPasswordLength = 1024;

function derive(password: string, salt: Buffer, keyLength: number, parameters: ScryptParameters): Promise<Buffer> {
  const { N, r, p } = parameters;
  // Node refuses scrypt above 32 MB unless maxmem says more: 128·N·r bytes plus headroom.
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r + 2 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize("NFC"), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** Why a password cannot be set, or undefined when it can. */
export function passwordProblem(password: string, user?: string): string | undefined {
  const length = [...password].length;
  if (length < minimumPasswordLength) {
    return `the password has ${length} characters; use at least ${minimumPasswordLength} (a few unrelated words make a good one)`;
  }
  if (length > maximumPasswordLength) return `the password is longer than ${maximumPasswordLength} characters`;
  if (user !== undefined && password.toLowerCase() === user.toLowerCase()) {
    return "the password is the user name; choose another";
  }
  return undefined;
}

/** Hashes a password with a fresh random salt. */
export async function hashPassword(
  password: string,
  parameters: ScryptParameters = defaultScryptParameters,
): Promise<PasswordHash> {
  const salt = randomBytes(16);
  const keyLength = 64;
  const key = await derive(password, salt, keyLength, parameters);
  return { algorithm: "scrypt", ...parameters, keyLength, salt: salt.toString("base64"), hash: key.toString("base64") };
}

/** True when `password` matches `stored`; compares in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const expected = Buffer.from(stored.hash, "base64");
  const key = await derive(password, Buffer.from(stored.salt, "base64"), stored.keyLength, stored);
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Why a stored hash's fields are unusable (naming the field), or undefined when they are fine. */
export function hashProblem(value: PasswordHash): string | undefined {
  const { minN, maxN, maxR, maxP, keyLength } = scryptBounds;
  if (!Number.isInteger(value.N) || value.N < minN || value.N > maxN || (value.N & (value.N - 1)) !== 0) {
    return `N must be a power of two from ${minN} to ${maxN}`;
  }
  if (!Number.isInteger(value.r) || value.r < 1 || value.r > maxR) return `r must be an integer from 1 to ${maxR}`;
  if (!Number.isInteger(value.p) || value.p < 1 || value.p > maxP) return `p must be an integer from 1 to ${maxP}`;
  if (128 * value.N * value.r > scryptBounds.maxMemoryBytes) {
    return `N and r need ${(128 * value.N * value.r) / 2 ** 20} MB per check (128·N·r); at most ${scryptBounds.maxMemoryBytes / 2 ** 20} MB`;
  }
  if (value.N * value.r * value.p > scryptBounds.maxWork) {
    return `N·r·p is ${value.N * value.r * value.p}, more work per check than ${scryptBounds.maxWork} allows`;
  }
  if (!Number.isInteger(value.keyLength) || value.keyLength < keyLength[0] || value.keyLength > keyLength[1]) {
    return `keyLength must be from ${keyLength[0]} to ${keyLength[1]}`;
  }
  if (Buffer.from(value.salt, "base64").length < 16) return "salt must be at least 16 bytes of base64";
  if (Buffer.from(value.hash, "base64").length !== value.keyLength) return "hash must be keyLength bytes of base64";
  return undefined;
}
