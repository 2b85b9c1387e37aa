/**
 * `plantwire proposals`, `approve` and `reject`: plant staff decide on pending writes from a terminal, for a guard
 * running in another process that shares its approval folder (`createGuard({ approvals: ".plantwire/approvals" })`).
 *
 * A decision names the person, says exactly "approve" or "reject", and carries the digest of the proposal as this
 * command shows it (the whole value, never a shortened one), so an edited pending file can only produce a refused
 * decision. The guard answers twice: "taken" as soon as it has the decision (it can no longer be taken back), then
 * what it did. Success is reported only when the running guard recorded the decision; a decision the guard did not
 * take in time is taken back (nothing is written); once taken, an outcome that does not come in time is reported as
 * not known yet, never as "nothing will be written".
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import {
  type ApprovalStore,
  type DecisionAnswer,
  fileApprovalStore,
  isPresent,
  type PendingProposal,
} from "../guard/approval-store.js";
import { proposalDigest } from "../guard/proposal-digest.js";
import { operatingSystemUser } from "../os-user.js";
import { type CliCommand, type CliIo, exitCodes } from "./cli-command.js";
import { integerFlag, parseFlags, stringFlag } from "./cli-flags.js";
import { terminalSafe, terminalText } from "./terminal-text.js";

const defaultFolder = ".plantwire/approvals";
const folderOption = { dir: stringFlag({ default: defaultFolder, nonBlank: true }) } as const;
// A running `plantwire serve` that holds the folder is found through its discovery file; --serve names one outright.
const serveOptions = {
  serve: stringFlag({ nonBlank: true, hint: "http://127.0.0.1:8470" }),
  "token-file": stringFlag({ nonBlank: true, hint: "~/.plantwire-token" }),
} as const;

const serveUsage = [
  "  --serve URL         decide through this plantwire serve (else the one that holds --dir, if it runs)",
  "  --token-file FILE   your API token for it (plantwire users token <name>); or set PLANTWIRE_TOKEN",
  "With a running plantwire serve and a token, the decision goes to its guard over the API as the token's user.",
].join("\n");

/** The serve to go through (with the token), or undefined after printing why the folder is used instead. */
async function throughServe(values: { dir: string; serve?: string; "token-file"?: string }, io: CliIo) {
  const { serveTarget } = await import("../serve/serve-client.js");
  const found = serveTarget({
    dir: values.dir,
    ...(values.serve ? { serve: values.serve } : {}),
    ...(values["token-file"] ? { tokenFile: values["token-file"] } : {}),
  });
  if (found.note) io.err(`Note: ${found.note}\n`);
  return found.target;
}

/** A value as one line of JSON (numbers bare, strings quoted), escaped; cut at `max` characters with a clear note. */
function valueText(value: unknown, max?: number): string {
  const json = JSON.stringify(value) ?? String(value);
  const characters = [...json];
  if (max === undefined || characters.length <= max) return terminalSafe(json);
  const more = characters.length - max;
  return `${terminalSafe(characters.slice(0, max).join(""))}… (${more} more characters; \`plantwire approve\` shows all)`;
}

/** A pending proposal for the terminal; `full` shows the whole value (what a person approves), else its start. */
function describePending(proposal: PendingProposal, now: number, full = false): string {
  const left = Math.round((proposal.expiresAt - now) / 1000);
  const origin = [
    proposal.loop && `loop ${terminalSafe(proposal.loop)}`,
    proposal.modelId && `model ${terminalSafe(proposal.modelId)}`,
    proposal.source && `from ${terminalText(proposal.source, 70)}`,
    proposal.user && `for ${terminalText(proposal.user, 70)}`,
  ]
    .filter(Boolean)
    .join(", ");
  const approvals =
    proposal.approvalsRequired === 2
      ? `; two people must approve${proposal.approvedBy.length ? ` (approved by ${proposal.approvedBy.map((name) => terminalText(name, 40)).join(", ")})` : ""}`
      : "";
  const value = valueText(proposal.value, full ? undefined : 60);
  // An output (a message or a row to send) has no current value: it is sent, not changed from something.
  const change = proposal.tag.startsWith("output:") ? `send ${value}` : `${valueText(proposal.current, 60)} → ${value}`;
  return [
    `${terminalSafe(proposal.id)}  ${terminalSafe(proposal.tag)}: ${change}`,
    `    reason (from the proposer, unverified): ${terminalText(proposal.reason, 300)}`,
    `    ${left > 0 ? `expires in ${left} s` : "EXPIRED"}${origin ? `; ${origin}` : ""}${approvals}`,
  ].join("\n");
}

/** Says whether a running guard holds the approvals in `store`; undefined when one does, else why not. */
function noRunningGuard(store: ApprovalStore, proposal?: PendingProposal): string | undefined {
  const presence = store.presence();
  if (!isPresent(presence, hostname(), Date.now())) {
    const last = presence ? ` (its last sign of life was ${new Date(presence.beatAt).toISOString()})` : "";
    return `no running guard holds this approval folder${last}`;
  }
  if (proposal && proposal.guard !== presence?.guard) return "the guard that made this proposal is no longer running";
  return undefined;
}

export const proposalsCommand: CliCommand = {
  name: "proposals",
  summary: "List proposals waiting for approval",
  usage: `Usage: plantwire proposals [--dir ${defaultFolder}] [--serve URL] [--token-file FILE]\n${serveUsage}`,
  async run(args, io) {
    const { values } = parseFlags(args, { ...folderOption, ...serveOptions });
    const target = await throughServe(values, io);
    if (target) return (await import("../serve/serve-client.js")).listThroughServe(target, io);
    const store = fileApprovalStore(values.dir);
    const pending = store.pending();
    if (pending.length === 0) io.out("No proposals are waiting.\n");
    const absent = pending.length > 0 ? noRunningGuard(store) : undefined;
    if (absent) io.out(`Warning: ${absent}; nothing listed here will be written.\n`);
    for (const proposal of pending) io.out(`${describePending(proposal, Date.now())}\n`);
    return exitCodes.ok;
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** How a filed decision ended for the filer: answered, taken back before the guard took it, or not known. */
type Outcome =
  | { readonly kind: "answered"; readonly ack: DecisionAnswer }
  | { readonly kind: "withdrawn" }
  | { readonly kind: "unknown" };

/**
 * Waits up to `takeMs` for the guard to take the decision, and takes it back if it has not; once the guard has it,
 * waits up to `resultMs` for what it did. Taking back is atomic against the guard taking it: when it fails, the guard
 * has the decision, so the command waits for the answer like after "taken".
 */
async function awaitOutcome(store: ApprovalStore, id: string, nonce: string, takeMs: number, resultMs: number) {
  const takeBy = Date.now() + takeMs;
  let takenAt: number | undefined;
  for (;;) {
    const ack = store.acknowledgement(id, nonce);
    if (ack?.stage === "answered") return { kind: "answered", ack } as Outcome;
    if (ack?.stage === "taken" && takenAt === undefined) takenAt = Date.now();
    if (takenAt === undefined && Date.now() >= takeBy) {
      if (store.withdrawDecision(id, nonce)) return { kind: "withdrawn" } as Outcome;
      takenAt = Date.now();
    }
    if (takenAt !== undefined && Date.now() - takenAt >= resultMs) return { kind: "unknown" } as Outcome;
    await sleep(50);
  }
}

function report(io: CliIo, ack: DecisionAnswer, decision: "approve" | "reject", by: string, audit: string): number {
  const detail = terminalSafe(ack.detail.slice(0, 300));
  if (!ack.accepted) {
    const code = ack.code ? ` (${terminalSafe(ack.code)})` : "";
    // Without a refusal code the guard failed in an unexpected way: only the audit says what happened.
    const after = ack.code ? "Nothing will be written for this decision." : `Check \`plantwire audit show ${audit}\`.`;
    io.err(`Refused${code}: ${detail}\n${after}\n`);
    return exitCodes.failure;
  }
  const who = terminalSafe(by.slice(0, 60));
  const state = terminalSafe(ack.state);
  if (ack.state === "executed" || ack.state === "declined" || ack.state === "pending") {
    const word = decision === "reject" ? "Rejected" : ack.state === "pending" ? "First approval recorded" : "Approved";
    io.out(`${word} by ${who}. Result: ${state}: ${detail}\n`);
    return exitCodes.ok;
  }
  io.err(
    `The ${decision === "approve" ? "approval" : "rejection"} by ${who} was recorded. Result: ${state}: ${detail}\n`,
  );
  return exitCodes.failure;
}

const decideOptions = {
  ...folderOption,
  ...serveOptions,
  // --by names the person deciding: blank is refused as a usage error (exit 2) before anything is filed.
  by: stringFlag({ required: true, nonBlank: true, hint: '"Alice Ng"' }),
  reason: stringFlag(),
  "wait-ms": integerFlag({ min: 1, max: 3_600_000, default: 10_000, unit: "ms" }),
  "result-wait-ms": integerFlag({ min: 1, max: 86_400_000, default: 120_000, unit: "ms" }),
} as const;

async function decide(args: readonly string[], io: CliIo, decision: "approve" | "reject"): Promise<number> {
  const { values, positionals } = parseFlags(args, decideOptions, { positionals: { names: ["<proposal id>"] } });
  const id = positionals[0] as string;
  const by = values.by.trim();
  const waitMs = values["wait-ms"];
  const resultWaitMs = values["result-wait-ms"];
  const target = await throughServe(values, io);
  if (target) {
    const { decideThroughServe } = await import("../serve/serve-client.js");
    return decideThroughServe(target, io, { id, decision, by, ...(values.reason ? { reason: values.reason } : {}) });
  }
  const store = fileApprovalStore(values.dir);
  const pending = store.pending().find((proposal) => proposal.id === id);
  if (!pending) {
    const known = store.result(id);
    io.err(
      known
        ? `Proposal ${terminalSafe(id)} is no longer pending (${terminalSafe(known.state)}: ${terminalText(known.detail, 200)}); a decision is used once.\n`
        : `No pending proposal ${terminalSafe(id)} in ${terminalSafe(values.dir)}. Run "plantwire proposals".\n`,
    );
    return exitCodes.failure;
  }
  const absent = noRunningGuard(store, pending);
  if (absent) {
    io.err(`Not carried out: ${absent}. Nothing will be written.\n`);
    return exitCodes.failure;
  }
  if (decision === "approve" && Date.now() > pending.expiresAt) {
    io.err(`Proposal ${id} expired at ${new Date(pending.expiresAt).toISOString()}; it can no longer be approved.\n`);
    return exitCodes.failure;
  }
  // The whole value: a person approves all of it, so all of it is shown (escaped, on one line).
  io.out(`${decision === "approve" ? "Approving" : "Rejecting"}:\n${describePending(pending, Date.now(), true)}\n`);
  const nonce = randomUUID();
  const filed = store.submit({
    id,
    decision,
    by,
    // The digest of exactly what was shown above: if the pending file was edited, the guard refuses this decision.
    digest: proposalDigest(pending),
    time: Date.now(),
    nonce,
    pid: process.pid,
    host: hostname(),
    osUser: operatingSystemUser(),
    ...(values.reason ? { reason: values.reason } : {}),
  });
  if (!filed) {
    io.err(`A decision with nonce ${nonce} is already filed; nothing was filed. Try again.\n`);
    return exitCodes.failure;
  }
  const outcome = await awaitOutcome(store, id, nonce, waitMs, resultWaitMs);
  const audit = terminalSafe(store.presence()?.audit ?? "<the guard's audit file>");
  if (outcome.kind === "withdrawn") {
    io.err(
      `The guard did not take the decision within ${waitMs} ms; it was taken back. Nothing will be written for it.\n`,
    );
    return exitCodes.failure;
  }
  if (outcome.kind === "unknown") {
    // The guard has the decision: it may still write. Only the audit can say what happened.
    io.err(
      `The guard took the decision but gave no outcome within ${resultWaitMs} ms. The outcome is not known yet: ` +
        `check \`plantwire audit show ${audit}\` for proposal ${id}.\n`,
    );
    return exitCodes.failure;
  }
  return report(io, outcome.ack, decision, by, audit);
}

function decideUsage(decision: "approve" | "reject"): string {
  return [
    `Usage: plantwire ${decision} <proposal id> --by <your name> [--reason <text>] [--dir ${defaultFolder}] [--wait-ms 10000] [--result-wait-ms 120000]`,
    "  --wait-ms N         how long the guard may take to take the decision; after that it is taken back",
    "  --result-wait-ms N  once the guard has it, how long to wait for what it did",
    serveUsage,
    decision === "approve"
      ? "Exit 0 when the running guard recorded the approval and, for the last approval, executed it (or recorded a first approval of two);"
      : "Exit 0 when the running guard recorded the rejection;",
    "1 otherwise: refused, no running guard, taken back in time (nothing is written), or taken by the guard with no",
    "outcome in time (not known yet: see `plantwire audit show`); 2 for a wrong command line.",
  ].join("\n");
}

export const approveCommand: CliCommand = {
  name: "approve",
  summary: "Approve a pending proposal (it is re-checked, written once and read back)",
  usage: decideUsage("approve"),
  run: (args, io) => decide(args, io, "approve"),
};

export const rejectCommand: CliCommand = {
  name: "reject",
  summary: "Reject a pending proposal",
  usage: decideUsage("reject"),
  run: (args, io) => decide(args, io, "reject"),
};
