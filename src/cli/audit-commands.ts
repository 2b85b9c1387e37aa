/**
 * `plantwire audit verify <file> [--key <key file>] [--anchor <url>]` checks an audit log's hash chain (and its
 * anchored head) and points at the first bad line; `plantwire audit recover <file> --reason … --by …` keeps a damaged
 * log as evidence and starts a new chain linked to it. The anchor's adapter is loaded only when --anchor is given.
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import type { AuditAnchor } from "../audit/audit-anchor.js";
import { headFile } from "../audit/audit-inspect.js";
import { loadAuditKey } from "../audit/audit-key.js";
import { recoverAuditLog } from "../audit/audit-recover.js";
import { type AuditVerification, verifyAuditLog, verifyAuditLogWithAnchor } from "../audit/audit-verify.js";
import { type CliCommand, type CliIo, exitCodes } from "./cli-command.js";

class UsageError extends Error {}

function parse(args: readonly string[], options: Record<string, { type: "string" }>) {
  try {
    const { values, positionals } = parseArgs({ args: [...args], allowPositionals: true, strict: true, options });
    if (positionals.length !== 1) throw new UsageError("Give exactly one audit log file.");
    return { file: positionals[0] as string, values: values as Record<string, string | undefined> };
  } catch (error) {
    throw error instanceof UsageError ? error : new UsageError((error as Error).message);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An anchor from a URL: postgres://…?table=x, mysql://…, sqlite:…?table=x, or mqtt://host:port/<topic>. */
async function openAnchor(spec: string): Promise<{ anchor: AuditAnchor; close(): Promise<void> }> {
  if (/^(mqtts?|wss?):\/\//i.test(spec)) {
    const url = new URL(spec);
    const topic = decodeURIComponent(url.pathname.replace(/^\//, ""));
    if (!topic) throw new UsageError(`--anchor ${spec} names no topic: use mqtt://host:port/<topic>`);
    const { mqtt, mqttAuditAnchor } = await import("../../adapters/mqtt/index.js");
    const adapter = mqtt({
      url: `${url.protocol}//${url.host}`,
      name: "audit-anchor",
      ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    });
    return { anchor: mqttAuditAnchor(adapter, { topic }), close: () => adapter.close() };
  }
  if (!/^(postgres|postgresql|mysql|mariadb|sqlite|file):/i.test(spec)) {
    throw new UsageError(
      `--anchor ${spec}: use postgres://…?table=x, mysql://…?table=x, sqlite:<file>?table=x or mqtt://host:port/<topic>`,
    );
  }
  const [base = "", query = ""] = spec.split(/\?(.*)/s);
  const parameters = new URLSearchParams(query);
  const table = parameters.get("table") ?? undefined;
  const file = parameters.get("file") ?? undefined;
  parameters.delete("table");
  parameters.delete("file");
  const rest = parameters.toString();
  const { sql, sqlAuditAnchor } = await import("../../adapters/sql/index.js");
  const adapter = sql({ url: rest ? `${base}?${rest}` : base, name: "audit-anchor" });
  const anchor = sqlAuditAnchor(adapter, { ...(table ? { table } : {}), ...(file ? { file } : {}) });
  return {
    anchor,
    close: async () => {
      await anchor.close?.();
      await adapter.close();
    },
  };
}

function report(file: string, result: AuditVerification, anchorLabel: string | undefined, io: CliIo): number {
  if (result.continues) {
    const { file: old, lastSeq, records } = result.continues;
    io.out(`This log continues ${old} from record ${lastSeq} (${records} records of it verified).\n`);
  }
  if (result.needsKey) {
    io.out("KEY NEEDED: the log is keyed (HMAC-SHA256); give its key file with --key. Nothing was checked.\n");
    return exitCodes.failure;
  }
  const keyed = result.keyed ? ", keyed (HMAC-SHA256)" : "";
  const anchor = result.anchor;
  if (result.ok) io.out(`OK: ${result.records} records, chain intact${keyed} (${file}).\n`);
  else if (anchor?.status === "mismatch" && result.problem.startsWith("anchor mismatch"))
    io.out(
      `ANCHOR MISMATCH at line ${result.line}: ${anchor.detail}. ${result.records} records verify on their own.\n`,
    );
  else io.out(`BROKEN at line ${result.line}: ${result.problem}. ${result.records} records before it verify.\n`);
  if (!anchor || !anchorLabel) return result.ok ? exitCodes.ok : exitCodes.failure;
  switch (anchor.status) {
    case "none":
      io.out(`ANCHOR EMPTY: nothing is anchored for this log on ${anchorLabel}, so its end cannot be checked.\n`);
      return exitCodes.failure;
    case "match":
      io.out(`Anchor: record ${anchor.anchored.seq} (${anchor.anchored.time}) matches ${anchorLabel}.\n`);
      break;
    case "before-recovery":
      io.out(`Anchor: ${anchor.detail}.\n`);
      break;
    case "mismatch":
      break;
  }
  return result.ok ? exitCodes.ok : exitCodes.failure;
}

export const auditVerifyCommand: CliCommand = {
  name: "audit verify",
  summary: "Verify an audit log's hash chain (with its key and anchor)",
  usage: [
    "Usage: plantwire audit verify <audit.jsonl> [--key <key file>] [--anchor <url>]",
    "  --key FILE    the key of a keyed log (readable by its owner only)",
    "  --anchor URL  compare with the head published to postgres://…?table=x, mysql://…?table=x,",
    "                sqlite:<file>?table=x (add &file=<path> for a copy) or mqtt://host:port/<topic>",
    "Exit 0 when the chain is intact (and matches the anchor), 1 at the first altered, missing or reordered line,",
    "when the key is needed, or when the anchor disagrees, is empty or cannot be read; 2 for a wrong command line.",
  ].join("\n"),
  async run(args, io) {
    let file: string;
    let values: Record<string, string | undefined>;
    let opened: Awaited<ReturnType<typeof openAnchor>> | undefined;
    try {
      ({ file, values } = parse(args, { key: { type: "string" }, anchor: { type: "string" } }));
      if (values.anchor !== undefined) opened = await openAnchor(values.anchor);
    } catch (error) {
      if (!(error instanceof UsageError)) {
        io.err(`${message(error)}\n`);
        return exitCodes.failure;
      }
      io.err(`${error.message}\n${this.usage}\n`);
      return exitCodes.usage;
    }
    if (!existsSync(file) && !existsSync(headFile(file))) {
      await opened?.close().catch(() => {});
      io.err(`No audit log at ${file}. Fix: give the file the guard writes (createGuard({ audit: "…" })).\n`);
      return exitCodes.failure;
    }
    try {
      // The key first, so that whatever fails after it is the anchor's.
      const key = values.key === undefined ? undefined : loadAuditKey(values.key);
      const options = key === undefined ? {} : { key };
      if (!opened) return report(file, verifyAuditLog(file, options), undefined, io);
      try {
        return report(file, await verifyAuditLogWithAnchor(file, opened.anchor, options), opened.anchor.label, io);
      } catch (error) {
        // The chain is still worth reporting; the run fails all the same, since its end could not be checked.
        report(file, verifyAuditLog(file, options), undefined, io);
        io.out(`ANCHOR UNREADABLE: ${opened.anchor.label}: ${message(error)}\n`);
        return exitCodes.failure;
      }
    } catch (error) {
      io.err(`${message(error)}\n`);
      return exitCodes.failure;
    } finally {
      await opened?.close().catch(() => {});
    }
  },
};

export const auditRecoverCommand: CliCommand = {
  name: "audit recover",
  summary: "Keep a damaged audit log as evidence and start a new chain linked to it",
  usage: [
    'Usage: plantwire audit recover <audit.jsonl> --reason "<what happened>" --by "<your name>" [--key <key file>]',
    "  Renames the log (and its head) to <audit.jsonl>.broken-<time> and starts a new chain whose first record",
    "  holds the reason, your name, your OS user, and how far the old chain verified, linked to its last good record.",
    "  --key FILE   the key of a keyed log; the new chain is keyed with it too",
    "Run it only while no guard has the log open. Exit 0 on success, 1 on failure, 2 for a wrong command line.",
  ].join("\n"),
  async run(args, io) {
    let file: string;
    let values: Record<string, string | undefined>;
    try {
      ({ file, values } = parse(args, { reason: { type: "string" }, by: { type: "string" }, key: { type: "string" } }));
      if (!values.reason?.trim()) throw new UsageError('Missing --reason "<what happened>" (not blank).');
      if (!values.by?.trim()) throw new UsageError('Missing --by "<your name>" (not blank).');
    } catch (error) {
      io.err(`${(error as Error).message}\n${this.usage}\n`);
      return exitCodes.usage;
    }
    try {
      const { brokenFile, continues, record } = recoverAuditLog(file, {
        reason: values.reason as string,
        by: values.by as string,
        ...(values.key === undefined ? {} : { key: values.key }),
      });
      io.out(`Kept the old log as ${brokenFile} (with its head file).\n`);
      io.out(
        `${continues.records} of its records verified, up to record ${continues.lastSeq}` +
          `${continues.problem ? `; then: ${continues.problem}` : ""}.\n`,
      );
      io.out(`Started a new chain at ${file}: record ${record.seq} (recovery) links to record ${continues.lastSeq}.\n`);
      return exitCodes.ok;
    } catch (error) {
      io.err(`${message(error)}\n`);
      return exitCodes.failure;
    }
  },
};
