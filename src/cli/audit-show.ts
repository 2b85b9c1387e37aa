/**
 * `plantwire audit show <file>`: the audit log as plant staff read it, one line per record (what was proposed, who
 * decided, what was written and read back, which model answers were rejected), followed by the chain check. Text
 * that came from a model or a device (reasons, raw answers, details) is shown with `terminalText`: quoted, with
 * control, zero-width and direction characters escaped.
 */
import { existsSync, readFileSync } from "node:fs";
import type { AuditRecord } from "../audit/audit-record.js";
import { verifyAuditLog } from "../audit/audit-verify.js";
import { type CliCommand, exitCodes } from "./cli-command.js";
import { choiceFlag, integerFlag, parseFlags, stringFlag } from "./cli-flags.js";
import { terminalSafe, terminalText } from "./terminal-text.js";

const types = ["proposal", "decision", "attempt", "outcome", "recovery", "rejection", "note"] as const;

// A field the guard writes as a code (a type, a disposition, a decision): shown as is when it looks like one, quoted
// otherwise, since a tampered line can hold anything until the chain check below says so.
const code = (value: unknown) =>
  (typeof value === "string" && /^[\w.:-]{1,40}$/.test(value)) || Number.isInteger(value)
    ? String(value)
    : terminalText(value, 40);

// A value we wrote ourselves (numbers, booleans, state names) can still be a string from a model: always quoted text.
const shown = (value: unknown) => terminalText(value, 60);
const origin = (record: AuditRecord) =>
  [
    record.loop && `loop ${terminalText(record.loop, 40)}`,
    record.modelId && `model ${terminalText(record.modelId, 60)}`,
  ]
    .filter(Boolean)
    .join(", ");
const shortId = (id: unknown) => (typeof id === "string" ? terminalSafe(id.slice(0, 8)) : "-");

/** What one record says, in one line. */
export function describeRecord(record: AuditRecord): string {
  const id = shortId(record.proposalId);
  const continues = record.type === "recovery" ? (record.continues as Record<string, unknown> | undefined) : undefined;
  if (continues) {
    return `new chain continuing ${terminalText(continues.file, 80)} from record ${code(continues.lastSeq)} · by ${terminalText(record.by, 60)} (OS user ${terminalText(record.user, 40)}) · reason ${terminalText(record.reason, 120)}`;
  }
  switch (record.type) {
    case "proposal": {
      const failed = Array.isArray(record.verdicts)
        ? (record.verdicts as ({ passed?: boolean; code?: string } | null)[]).filter((verdict) => !verdict?.passed)
        : [];
      const checks =
        failed.length === 0
          ? "every check passed"
          : `failed: ${failed.map((verdict) => code(verdict?.code)).join(", ")}`;
      return [
        `${id} ${terminalText(record.tag, 64)} → ${shown(record.value)} (was ${shown(record.current)})`,
        `${code(record.disposition)} (${checks})`,
        origin(record),
        `reason ${terminalText(record.reason, 120)}`,
      ]
        .filter(Boolean)
        .join(" · ");
    }
    case "decision": {
      const why = record.code
        ? ` (${terminalText(record.code, 40)}: ${terminalText(record.detail ?? record.note, 120)})`
        : "";
      const note = !record.code && record.note ? ` (${terminalText(record.note, 120)})` : "";
      const reason = record.reason ? ` · reason ${terminalText(record.reason, 120)}` : "";
      return `${id} ${code(record.decision)} by ${terminalText(record.by, 60)}${why}${note}${reason}`;
    }
    case "attempt":
      return `${id} ${terminalText(record.tag, 64)} = ${shown(record.value)} via ${terminalText(record.adapter, 40)} (${terminalText(record.source, 80)})`;
    case "outcome": {
      const back = record.readBackValue === undefined ? "" : ` (${shown(record.readBackValue)})`;
      const detail = record.detail ? ` · ${terminalText(record.detail, 120)}` : "";
      return `${id} ${terminalText(record.tag, 64)} write ${code(record.write)}, read-back ${code(record.readBack)}${back}${detail}`;
    }
    case "rejection": {
      const issues = Array.isArray(record.issues) ? (record.issues as unknown[]) : [];
      const problems =
        issues.length > 0
          ? issues
              .slice(0, 3)
              .map((issue) => terminalText(issue, 100))
              .join("; ")
          : terminalText(record.error, 160);
      const more = issues.length > 3 ? ` (+${issues.length - 3} more)` : "";
      return [origin(record), `${problems}${more}`, `answer ${terminalText(record.rawText, 80)}`]
        .filter(Boolean)
        .join(" · ");
    }
    default: {
      const tag = record.tag ? `${terminalText(record.tag, 64)} ` : "";
      return `${record.proposalId ? `${id} ` : ""}${tag}${terminalText(record.note ?? "", 160)}`;
    }
  }
}

export const auditShowCommand: CliCommand = {
  name: "audit show",
  summary: "Show an audit log, one line per record, and check its chain",
  usage: [
    "Usage: plantwire audit show <audit.jsonl> [--last 50] [--type <type>] [--tag <name>] [--key <key file>]",
    `  --last N     the last N matching records (0: all) [50]`,
    `  --type T     only records of this type: ${types.join(", ")}`,
    "  --tag NAME   only records about this tag",
    "  --key FILE   the key of a keyed log, to check its chain",
    "Exit 0 when the chain is intact, 1 when it is broken (the line is named), 2 for a wrong command line.",
  ].join("\n"),
  async run(args, io) {
    const { values, positionals } = parseFlags(
      args,
      {
        last: integerFlag({ min: 0, max: 1_000_000_000, default: 50 }),
        type: choiceFlag(types),
        tag: stringFlag({ hint: "speed" }),
        key: stringFlag({ hint: "audit.key" }),
      },
      { positionals: { names: ["<audit.jsonl>"] } },
    );
    const file = positionals[0] as string;
    const { last, type, tag, key } = values;
    if (!existsSync(file)) {
      io.err(`No audit log at ${file}. Fix: give the file the guard writes (createGuard({ audit: "…" })).\n`);
      return exitCodes.failure;
    }
    const lines = readFileSync(file, "utf8").split("\n");
    if (lines.at(-1) === "") lines.pop();
    const records = lines.map((line) => {
      try {
        return JSON.parse(line) as AuditRecord;
      } catch {
        return undefined;
      }
    });
    // Decisions name the proposal, not the tag: a tag filter follows the proposal ids to them.
    const tagOf = new Map(
      records.filter((record) => record?.type === "proposal").map((record) => [record?.proposalId, record?.tag]),
    );
    const matching: string[] = [];
    for (const [index, record] of records.entries()) {
      if (!record) {
        matching.push(`line ${index + 1}: not a JSON record`);
        continue;
      }
      if ((type && record.type !== type) || (tag && (record.tag ?? tagOf.get(record.proposalId)) !== tag)) continue;
      const time =
        typeof record.time === "string" && /^[\dTZ:.-]{1,40}$/.test(record.time)
          ? record.time.replace("T", " ").replace(/\.\d+Z$/, "Z")
          : terminalText(record.time, 40);
      matching.push(`#${code(record.seq)} ${time} ${code(record.type).padEnd(9)} ${describeRecord(record)}`);
    }
    const shownLines = last > 0 ? matching.slice(-last) : matching;
    if (shownLines.length < matching.length)
      io.out(`(the last ${shownLines.length} of ${matching.length} matching records; --last 0 shows all)\n`);
    for (const line of shownLines) io.out(`${line}\n`);
    if (matching.length === 0) io.out("No matching records.\n");
    let chain: ReturnType<typeof verifyAuditLog>;
    try {
      chain = verifyAuditLog(file, key === undefined ? {} : { key });
    } catch (error) {
      io.out(`CHAIN NOT CHECKED: ${(error as Error).message}\n`);
      return exitCodes.failure;
    }
    if (chain.needsKey) {
      io.out("CHAIN NOT CHECKED: the log is keyed (HMAC-SHA256); give its key file with --key.\n");
      return exitCodes.failure;
    }
    if (chain.ok) {
      io.out(`Chain intact: ${chain.records} records.\n`);
      return exitCodes.ok;
    }
    io.out(`CHAIN BROKEN at line ${chain.line}: ${chain.problem}. Do not trust records from that line on.\n`);
    return exitCodes.failure;
  },
};
