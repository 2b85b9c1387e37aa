/**
 * `plantwire audit verify <file> [--key <key file>] [--anchor <url>] [--no-head]` checks an audit log's hash chain
 * (and its head, and its anchored head) and points at the first bad line; `plantwire audit recover <file> --reason …
 * --by …` keeps a damaged log as evidence and starts a new chain linked to it. The anchor's adapter is loaded only
 * when --anchor is given.
 */
import { existsSync } from "node:fs";
import type { AuditAnchor } from "../audit/audit-anchor.js";
import { headFile } from "../audit/audit-inspect.js";
import { loadAuditKey } from "../audit/audit-key.js";
import { recoverAuditLog } from "../audit/audit-recover.js";
import { type AuditVerification, verifyAuditLog, verifyAuditLogWithAnchor } from "../audit/audit-verify.js";
import { type CliCommand, type CliIo, exitCodes } from "./cli-command.js";
import { booleanFlag, CliUsageError, parseFlags, stringFlag } from "./cli-flags.js";

const oneLog = { positionals: { names: ["<audit.jsonl>"] } } as const;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** An anchor from a URL: postgres://…?table=x, mysql://…, sqlite:…?table=x, or mqtt://host:port/<topic>. */
async function openAnchor(spec: string): Promise<{ anchor: AuditAnchor; close(): Promise<void> }> {
  if (/^(mqtts?|wss?):\/\//i.test(spec)) {
    const url = new URL(spec);
    const topic = decodeURIComponent(url.pathname.replace(/^\//, ""));
    if (!topic) throw new CliUsageError(`--anchor ${spec} names no topic: use mqtt://host:port/<topic>`);
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
    throw new CliUsageError(
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
  if (result.ok && result.withoutHead) {
    io.out(
      `CHAIN INTACT, END NOT CHECKED: ${result.records} records, chain intact${keyed} (${file}), checked without ` +
        "its head file: records cut off the end, or the whole log replaced by an earlier copy, cannot be ruled out.\n",
    );
  } else if (result.ok) io.out(`OK: ${result.records} records, chain intact${keyed} (${file}).\n`);
  else if (anchor?.status === "mismatch" && result.problem.startsWith("anchor mismatch"))
    io.out(
      `ANCHOR MISMATCH at line ${result.line}: ${anchor.detail}. ${result.records} records verify on their own.\n`,
    );
  else io.out(`BROKEN at line ${result.line}: ${result.problem}. ${result.records} records before it verify.\n`);
  if (!result.ok && result.damage === "head-missing") {
    io.out("For a copy handed over without its head file, check its chain with --no-head.\n");
  }
  const intact = !result.ok ? exitCodes.failure : result.withoutHead ? exitCodes.endNotChecked : exitCodes.ok;
  if (!anchor || !anchorLabel) return intact;
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
  return intact;
}

export const auditVerifyCommand: CliCommand = {
  name: "audit verify",
  summary: "Verify an audit log's hash chain (with its key and anchor)",
  usage: [
    "Usage: plantwire audit verify <audit.jsonl> [--key <key file>] [--anchor <url>] [--no-head]",
    "  --key FILE    the key of a keyed log (readable by its owner only)",
    "  --anchor URL  compare with the head published to postgres://…?table=x, mysql://…?table=x,",
    "                sqlite:<file>?table=x (add &file=<path> for a copy) or mqtt://host:port/<topic>",
    "  --no-head     check a copy handed over without its head file (<audit.jsonl>.head): the chain is",
    "                verified, but records cut off the end cannot be ruled out (exit 4, never 0)",
    "Exit 0 when the chain is intact (and matches the anchor), 1 at the first altered, missing or reordered line,",
    "when the key is needed, or when the anchor disagrees, is empty or cannot be read; 2 for a wrong command line;",
    "4 with --no-head when the chain is intact but its end could not be checked.",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        key: stringFlag({ hint: "audit.key" }),
        anchor: stringFlag({ hint: "mqtt://host:1883/<topic>" }),
        "no-head": booleanFlag(),
      },
      oneLog,
    );
    const file = positionals[0] as string;
    let opened: Awaited<ReturnType<typeof openAnchor>> | undefined;
    try {
      if (values.anchor !== undefined) opened = await openAnchor(values.anchor);
    } catch (error) {
      if (CliUsageError.isInstance(error)) throw error;
      io.err(`${message(error)}\n`);
      return exitCodes.failure;
    }
    if (!existsSync(file) && (values["no-head"] || !existsSync(headFile(file)))) {
      await opened?.close().catch(() => {});
      io.err(`No audit log at ${file}. Fix: give the file the guard writes (createGuard({ audit: "…" })).\n`);
      return exitCodes.failure;
    }
    try {
      // The key first, so that whatever fails after it is the anchor's.
      const key = values.key === undefined ? undefined : loadAuditKey(values.key);
      const options = { ...(key === undefined ? {} : { key }), ...(values["no-head"] ? { withoutHead: true } : {}) };
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
    const { values, positionals } = parseFlags(
      args,
      {
        reason: stringFlag({ required: true, nonBlank: true, hint: '"<what happened>"' }),
        by: stringFlag({ required: true, nonBlank: true, hint: '"<your name>"' }),
        key: stringFlag({ hint: "audit.key" }),
      },
      oneLog,
    );
    const file = positionals[0] as string;
    try {
      const { brokenFile, continues, record } = recoverAuditLog(file, {
        reason: values.reason,
        by: values.by,
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
