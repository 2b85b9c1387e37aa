/**
 * The secret key of a keyed audit chain: bytes given in code, or a key file. A key file must be readable by its owner
 * only, because anyone who can read the key can forge a chain that verifies.
 */
import { readFileSync, statSync } from "node:fs";
import { ConfigError } from "../errors.js";

/** A key: its bytes, or the path of a key file (e.g. made with `openssl rand -hex 32 > audit.key; chmod 600 audit.key`). */
export type AuditKey = Buffer | string;

/** The shortest key accepted, in bytes. */
const MINIMUM_KEY_BYTES = 16;

function refuse(path: string, message: string, fix: string, file?: string): ConfigError {
  return new ConfigError([{ path, message, fix }], file === undefined ? {} : { file });
}

/**
 * The key's bytes. A key file's text is used with trailing white space (the newline `openssl` or an editor adds)
 * removed. Throws a ConfigError for a missing, group- or world-readable, or short key.
 */
export function loadAuditKey(key: AuditKey): Buffer {
  if (Buffer.isBuffer(key)) {
    if (key.length < MINIMUM_KEY_BYTES) {
      throw refuse("key", `is ${key.length} bytes`, `use at least ${MINIMUM_KEY_BYTES} random bytes`);
    }
    return Buffer.from(key);
  }
  let mode: number;
  try {
    mode = statSync(key).mode;
  } catch (error) {
    throw refuse(
      "key",
      `the key file ${key} cannot be read (${(error as NodeJS.ErrnoException).code})`,
      "give the path of the key the log was written with",
    );
  }
  // POSIX permissions only; Windows reports fixed mode bits, so the check would refuse every file there.
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    throw refuse(
      "key",
      `the key file ${key} can be read by others (mode ${(mode & 0o777).toString(8)})`,
      `make it readable by its owner only: chmod 600 ${key}`,
      key,
    );
  }
  const bytes = Buffer.from(readFileSync(key, "utf8").replace(/\s+$/, ""), "utf8");
  if (bytes.length < MINIMUM_KEY_BYTES) {
    throw refuse(
      "key",
      `the key file ${key} holds ${bytes.length} bytes`,
      `put at least ${MINIMUM_KEY_BYTES} random bytes in it, e.g. openssl rand -hex 32 > ${key}`,
      key,
    );
  }
  return bytes;
}
