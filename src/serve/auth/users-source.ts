/**
 * The users file as `serve` sees it: read at start (a bad file stops the start), then re-read whenever it changes
 * (checked on each request and on a timer). A changed file that is invalid is reported and the previous users stay in
 * force, so a typo in a hand edit neither locks everyone out nor crashes the process.
 */
import { statSync } from "node:fs";
import type { StoredToken } from "./api-tokens.js";
import { readUsersFile, type UserRecord, type UsersFile } from "./users-file.js";

/** The current users and tokens, kept fresh. */
export interface UsersSource {
  /** The users and tokens now in force (re-reads the file first when it changed). */
  current(): UsersFile;
  /** The user named exactly `name`. */
  user(name: string): UserRecord | undefined;
  /** The tokens now in force. */
  tokens(): readonly StoredToken[];
  /** Stops the timer. */
  close(): void;
}

/** Options of `watchUsersFile()`. */
export interface UsersSourceOptions {
  file: string;
  intervalMs: number;
  /** Told after a changed file was applied, with the users before and after. */
  onChange(before: UsersFile, after: UsersFile): void;
  /** Told once per change when a changed file cannot be applied. */
  onInvalid(detail: string): void;
}

function identity(file: string): string {
  try {
    const stats = statSync(file);
    return `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}:${stats.mode}`;
  } catch (error) {
    return `missing:${(error as NodeJS.ErrnoException).code}`;
  }
}

/** Reads the users file (throws a ConfigError when it is bad) and keeps it fresh. */
export function watchUsersFile(options: UsersSourceOptions): UsersSource {
  let seen = identity(options.file);
  let content = readUsersFile(options.file);
  const refresh = () => {
    const now = identity(options.file);
    if (now === seen) return;
    seen = now;
    try {
      const next = readUsersFile(options.file);
      const before = content;
      content = next;
      options.onChange(before, next);
    } catch (error) {
      options.onInvalid(error instanceof Error ? error.message : String(error));
    }
  };
  const timer = setInterval(refresh, options.intervalMs);
  timer.unref();
  return {
    current() {
      refresh();
      return content;
    },
    user(name) {
      refresh();
      return content.users.find((user) => user.name === name);
    },
    tokens() {
      refresh();
      return content.tokens;
    },
    close: () => clearInterval(timer),
  };
}
