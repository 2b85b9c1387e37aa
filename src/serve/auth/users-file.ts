/**
 * The users file of `plantwire serve`: people, their roles, scrypt password hashes and API token digests. JSON, mode
 * 600, replaced atomically on every change so `serve` never reads half a file. A file others can read is refused
 * (the hashes are secrets too), and every problem names its field and the fix.
 */
import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { configIssuesFromZod } from "../../config-issues.js";
import { ConfigError, type ConfigIssue } from "../../errors.js";
import { lazyZod } from "../../lazy-zod.js";
import type { StoredToken } from "./api-tokens.js";
import { type Role, roles } from "./auth-types.js";
import { hashProblem, type PasswordHash } from "./password-hash.js";
import { checkFolder, keepOwner } from "./users-file-checks.js";

/** One person who may log in to the console. */
export interface UserRecord {
  /** The login name. */
  readonly name: string;
  readonly role: Role;
  /** The scrypt hash of the password, with its parameters. */
  readonly password: PasswordHash;
  /** When the user was added, ISO 8601. */
  readonly created: string;
  /** When the password was last set, ISO 8601. */
  readonly passwordChanged?: string;
}

/** The whole users file. */
export interface UsersFile {
  readonly version: 1;
  readonly users: readonly UserRecord[];
  readonly tokens: readonly StoredToken[];
}

/** An empty users file. */
export const emptyUsersFile: UsersFile = { version: 1, users: [], tokens: [] };

/** What a user name may look like: it appears in the audit and on screen, so plain characters only. */
export const userNamePattern = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

const maxFileBytes = 1024 * 1024;

function schema() {
  const z = lazyZod();
  const iso = z.string().refine((text) => !Number.isNaN(Date.parse(text)), {
    message: "not an ISO 8601 time",
    params: { fix: 'write a time like "2026-01-31T08:00:00.000Z"' },
  });
  const password = z.strictObject({
    algorithm: z.literal("scrypt", { message: 'algorithm must be "scrypt"' }),
    N: z.number(),
    r: z.number(),
    p: z.number(),
    keyLength: z.number(),
    salt: z.string(),
    hash: z.string(),
  });
  const user = z.strictObject({
    name: z.string().refine((text) => userNamePattern.test(text), {
      message: "not a valid user name",
      params: { fix: "use 1 to 64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit" },
    }),
    role: z.enum(roles as [Role, ...Role[]], { message: `role must be one of ${roles.join(", ")}` }),
    password,
    created: iso,
    passwordChanged: iso.optional(),
  });
  const token = z.strictObject({
    id: z.string().regex(/^[a-f0-9]{12}$/, { message: "not a token id (12 hex digits)" }),
    user: z.string(),
    sha256: z.string().regex(/^[a-f0-9]{64}$/, { message: "not a SHA-256 digest (64 hex digits)" }),
    created: iso,
    label: z.string().max(200).optional(),
  });
  return z.strictObject({
    version: z.literal(1, { message: "version must be 1" }),
    users: z.array(user),
    tokens: z.array(token).default([]),
  });
}

/** Checks the parsed content: shape, hash parameters, unique names, tokens of known users. */
export function parseUsersFile(content: unknown, file?: string): UsersFile {
  const parsed = schema().safeParse(content);
  if (!parsed.success) throw new ConfigError(configIssuesFromZod(parsed.error), { file });
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  parsed.data.users.forEach((user, index) => {
    const problem = hashProblem(user.password);
    if (problem) {
      issues.push({
        path: `users.${index}.password`,
        message: problem,
        fix: `set the password again: plantwire users passwd ${user.name}`,
      });
    }
    const key = user.name.toLowerCase();
    const earlier = names.get(key);
    if (earlier !== undefined) {
      issues.push({
        path: `users.${index}.name`,
        message: `"${user.name}" is already users.${earlier} (names are compared ignoring case)`,
        fix: "remove one of the two entries",
      });
    } else names.set(key, index);
  });
  const ids = new Set<string>();
  parsed.data.tokens.forEach((token, index) => {
    if (!parsed.data.users.some((user) => user.name === token.user)) {
      issues.push({
        path: `tokens.${index}.user`,
        message: `no user "${token.user}"`,
        fix: "remove the token, or add the user and make a new token",
      });
    }
    if (ids.has(token.id)) {
      issues.push({ path: `tokens.${index}.id`, message: "a duplicate token id", fix: "remove one of the two" });
    }
    ids.add(token.id);
  });
  if (issues.length > 0) throw new ConfigError(issues, { file });
  return parsed.data as UsersFile;
}

/** Why a file's permissions are unsafe, or undefined. POSIX only: Windows has no mode bits to check. */
function modeIssue(file: string, mode: number): ConfigIssue | undefined {
  if (process.platform === "win32" || (mode & 0o077) === 0) return undefined;
  const octal = (mode & 0o777).toString(8);
  return {
    path: "(file mode)",
    message: `the users file is readable or writable by its group or others (mode ${octal}); it holds password hashes`,
    fix: `chmod 600 ${file}`,
  };
}

/**
 * Reads and checks a users file. Throws a ConfigError naming the field and the fix when it is missing, readable by
 * others, not JSON or malformed.
 */
export function readUsersFile(file: string): UsersFile {
  let text: string;
  let descriptor: number | undefined;
  try {
    // One descriptor for the check and the read: the file checked is the file read, even if it is replaced between.
    // Non-blocking, so a FIFO or device placed at the path is refused below instead of hanging the process.
    checkFolder(file);
    descriptor = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stats = fstatSync(descriptor);
    if (!stats.isFile()) {
      throw new ConfigError(
        [{ path: "(file)", message: "is not a regular file", fix: "point serve.users (or --file) at the users file" }],
        { file },
      );
    }
    const unsafe = modeIssue(file, stats.mode);
    if (unsafe) throw new ConfigError([unsafe], { file });
    if (stats.size > maxFileBytes) {
      throw new ConfigError([{ path: "(file)", message: "larger than 1 MB", fix: "restore the file from a backup" }], {
        file,
      });
    }
    text = readFileSync(descriptor, "utf8");
  } catch (error) {
    if (ConfigError.isInstance(error)) throw error;
    const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
    const issue: ConfigIssue = missing
      ? {
          path: "(file)",
          message: "there is no users file",
          // Operator, as serve's own hint says: the first person decides proposals; --role engineer adds reload
          // and pause/resume rights.
          fix: `create it with the first person: plantwire users add <name> --role operator --file ${file} (--role engineer to also reload the site and pause loops)`,
        }
      : { path: "(file)", message: `cannot be read: ${(error as Error).message}`, fix: "check its owner and mode" };
    throw new ConfigError([issue], { file, cause: error });
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    // Only the position: the parser's message quotes the text, which holds hashes that must not reach a log.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    const where = position === undefined ? "" : ` (at character ${position})`;
    throw new ConfigError([{ path: "(file)", message: `not valid JSON${where}`, fix: "correct the JSON syntax" }], {
      file,
    });
  }
  return parseUsersFile(content, file);
}

/** Reads a users file, or an empty one when there is none yet (for the first `plantwire users add`). */
export function readUsersFileOrEmpty(file: string): UsersFile {
  try {
    statSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return emptyUsersFile;
  }
  return readUsersFile(file);
}

/**
 * Writes a users file atomically with mode 600: a new file beside it, flushed, then renamed over it, so a reader
 * sees the old file or the new one, never a part.
 */
export function writeUsersFile(file: string, content: UsersFile): void {
  const checked = parseUsersFile(content, file);
  checkFolder(file);
  const temporary = `${file}.${randomBytes(8).toString("hex")}.tmp`;
  // "wx": never write through a link someone placed under the temporary name; 0o600 from the first byte.
  const descriptor = openSync(temporary, "wx", 0o600);
  try {
    keepOwner(file, descriptor);
    writeSync(descriptor, `${JSON.stringify(checked, null, 2)}\n`);
    fsyncSync(descriptor);
  } catch (error) {
    closeSync(descriptor);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(descriptor);
  try {
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  syncFolder(dirname(file));
}

/** Flushes a folder so a rename in it survives a power cut; some platforms cannot open folders, which is fine. */
function syncFolder(folder: string): void {
  let descriptor: number | undefined;
  try {
    descriptor = openSync(folder, "r");
    fsyncSync(descriptor);
  } catch {
    // Windows cannot fsync a folder; the rename is still atomic there.
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
}

/** The user named `name` (exact match), or undefined. */
export function findUser(content: UsersFile, name: string): UserRecord | undefined {
  return content.users.find((user) => user.name === name);
}
