/**
 * Recovering from a damaged log (`plantwire audit recover`): the old file and its head are kept under a new name as
 * evidence, and a new chain starts whose first record says why, who asked, how far the old chain verified, and links
 * to the old chain's last good record. Nothing is deleted and nothing is rewritten, so the break stays on the record.
 */
import { closeSync, existsSync, fsyncSync, lstatSync, openSync, renameSync } from "node:fs";
import { basename } from "node:path";
import { ConfigError } from "../errors.js";
import { operatingSystemUser } from "../os-user.js";
import type { AuditContinuation } from "./audit-chain.js";
import { chainRecords, recordLines, writeAll, writeHead } from "./audit-file.js";
import { headFile, inspectAuditLog } from "./audit-inspect.js";
import { type AuditKey, loadAuditKey } from "./audit-key.js";
import { lockAuditLog } from "./audit-lock.js";
import { refuseSymlinks } from "./audit-paths.js";
import type { AuditRecord } from "./audit-record.js";

/** Options of {@link recoverAuditLog}. */
export interface AuditRecoveryOptions {
  /** Why the log is being recovered (what happened to it). */
  reason: string;
  /** The person doing it. */
  by: string;
  /** The key of a keyed log; the new chain is keyed with it too. */
  key?: AuditKey;
  /** The clock. @default Date.now */
  now?: () => number;
}

/** What {@link recoverAuditLog} did. */
export interface AuditRecovery {
  /** Where the old log (and its head, with `.head` added) now is. */
  readonly brokenFile: string;
  /** What the new chain's first record says about the old one. */
  readonly continues: AuditContinuation;
  /** The new chain's first record. */
  readonly record: AuditRecord;
}

function required(value: string, path: string, fix: string): string {
  const text = value.trim();
  if (text.length === 0) throw new ConfigError([{ path, message: "is blank", fix }]);
  return text;
}

/** Refuses names the old log would be renamed to when something is there: rename would silently replace it. */
function refuseExisting(file: string, paths: readonly string[]): void {
  for (const path of paths) {
    try {
      lstatSync(path);
    } catch {
      continue; // free
    }
    throw new ConfigError(
      [{ path: "file", message: `${path} already exists`, fix: "move it away, or try again a moment later" }],
      { file },
    );
  }
}

/**
 * Keeps `file` as `<file>.broken-<time>` (with its head) and starts a new chain at `file` whose first record is a
 * `recovery` record continuing the old chain from its last good record. Refuses while a guard has the log open, and
 * a keyed log without its key.
 */
export function recoverAuditLog(file: string, options: AuditRecoveryOptions): AuditRecovery {
  const reason = required(options.reason, "reason", 'say what happened, e.g. --reason "disk filled up overnight"');
  const by = required(options.by, "by", 'name the person recovering the log, e.g. --by "Alice Ng"');
  const key = options.key === undefined ? undefined : loadAuditKey(options.key);
  refuseSymlinks(file, [file, headFile(file)]);
  const unlock = lockAuditLog(file);
  try {
    const inspection = inspectAuditLog(file, key);
    const { reading, problem } = inspection;
    if (problem?.damage === "needs-key") {
      throw new ConfigError(
        [
          {
            path: "key",
            message: "the log is keyed",
            fix: "give its key file with --key, so the old chain can be checked",
          },
        ],
        { file },
      );
    }
    if (!inspection.exists && !existsSync(headFile(file))) {
      throw new ConfigError(
        [{ path: "file", message: "there is no audit log or head file here", fix: "give the log's path" }],
        {
          file,
        },
      );
    }
    const now = (options.now ?? Date.now)();
    const stamp = new Date(now).toISOString().replace(/:/g, "-");
    const brokenFile = `${file}.broken-${stamp}`;
    refuseExisting(file, [brokenFile, headFile(brokenFile)]);
    if (inspection.exists) renameSync(file, brokenFile);
    if (existsSync(headFile(file))) renameSync(headFile(file), headFile(brokenFile));
    const continues: AuditContinuation = {
      file: basename(brokenFile),
      records: reading.records.length,
      lastSeq: reading.lastSeq,
      lastHash: reading.lastHash,
      ...(problem ? { problem: problem.message } : {}),
    };
    const [record] = chainRecords(
      [
        {
          type: "recovery",
          reason,
          by,
          user: operatingSystemUser(),
          continues,
          note: `a new chain continuing ${continues.file} from record ${continues.lastSeq}, started with plantwire audit recover`,
        },
      ],
      { seq: continues.lastSeq, hash: continues.lastHash },
      new Date(now).toISOString(),
      key,
    ) as [AuditRecord];
    // "wx" (O_CREAT|O_EXCL): a file or link that appeared at the log's name since the rename is not written through.
    const descriptor = openSync(file, "wx", 0o640);
    try {
      writeAll(descriptor, recordLines([record]));
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    writeHead(file, record.seq, record.hash);
    return { brokenFile, continues, record };
  } finally {
    unlock();
  }
}
