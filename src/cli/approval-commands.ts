/**
 * `plantwire proposals`, `approve` and `reject`: plant staff decide on pending writes from a terminal, for a guard
 * running in another process that shares its approval folder (`createGuard({ approvals: ".plantwire/approvals" })`).
 *
 * A decision names the person, says exactly "approve" or "reject", and carries the digest of the proposal as this
 * command shows it, so an edited pending file can only produce a refused decision. It reports success only when the
 * running guard has recorded the decision; with no running guard it says nothing will be written and exits 1.
 */
import { randomUUID } from "node:crypto";
import { hostname, userInfo } from "node:os";
import { parseArgs } from "node:util";
import {
  type ApprovalStore,
  type DecisionAck,
  fileApprovalStore,
  isPresent,
  type PendingProposal,
} from "../guard/approval-store.js";
import { proposalDigest } from "../guard/proposal-digest.js";
import { type CliCommand, type CliIo, exitCodes } from "./cli-command.js";
import { terminalSafe, terminalText } from "./terminal-text.js";

const defaultFolder = ".plantwire/approvals";
const folderOption = { dir: { type: "string", default: defaultFolder } } as const;

function describePending(proposal: PendingProposal, now: number): string {
  const left = Math.round((proposal.expiresAt - now) / 1000);
  const origin = [
    proposal.loop && `loop ${terminalSafe(proposal.loop)}`,
    proposal.modelId && `model ${terminalSafe(proposal.modelId)}`,
  ]
    .filter(Boolean)
    .join(", ");
  const approvals =
    proposal.approvalsRequired === 2
      ? `; two people must approve${proposal.approvedBy?.length ? ` (approved by ${proposal.approvedBy.map((name) => terminalText(name, 40)).join(", ")})` : ""}`
      : "";
  return [
    `${terminalSafe(proposal.id)}  ${terminalSafe(proposal.tag)}: ${terminalText(proposal.current, 60)} → ${terminalText(proposal.value, 60)}`,
    `    reason (from the proposer, unverified): ${terminalText(proposal.reason, 300)}`,
    `    ${left > 0 ? `expires in ${left} s` : "EXPIRED"}${origin ? `; ${origin}` : ""}${approvals}`,
  ].join("\n");
}

function currentUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
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
  usage: `Usage: plantwire proposals [--dir ${defaultFolder}]`,
  async run(args, io) {
    const { values } = parseArgs({ args: [...args], options: folderOption });
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

/** Waits for the guard's answer to one decision; withdraws the decision if none comes in time. */
async function awaitAnswer(store: ApprovalStore, id: string, nonce: string, waitMs: number) {
  const deadline = Date.now() + waitMs;
  let withdrawn = false;
  while (!withdrawn) {
    const ack = store.acknowledgement(id, nonce);
    if (ack) return ack;
    if (Date.now() >= deadline) {
      // Taking the decision back is atomic against the guard taking it: one of the two wins.
      withdrawn = store.withdrawDecision(id, nonce);
      if (!withdrawn && Date.now() >= deadline + 30_000) return undefined;
    }
    await sleep(50);
  }
  return undefined;
}

function report(io: CliIo, ack: DecisionAck, decision: "approve" | "reject", by: string): number {
  if (!ack.accepted) {
    io.err(
      `Refused${ack.code ? ` (${terminalSafe(ack.code)})` : ""}: ${terminalSafe(ack.detail.slice(0, 300))}\nNothing will be written for this decision.\n`,
    );
    return exitCodes.failure;
  }
  const word = decision === "approve" ? (ack.state === "pending" ? "First approval recorded" : "Approved") : "Rejected";
  io.out(
    `${word} by ${terminalSafe(by.slice(0, 60))}. Result: ${terminalSafe(ack.state)}: ${terminalSafe(ack.detail.slice(0, 300))}\n`,
  );
  return ack.state === "executed" || ack.state === "declined" || ack.state === "pending"
    ? exitCodes.ok
    : exitCodes.failure;
}

async function decide(args: readonly string[], io: CliIo, decision: "approve" | "reject"): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: {
      ...folderOption,
      by: { type: "string" },
      reason: { type: "string" },
      "wait-ms": { type: "string", default: "10000" },
    },
  });
  const id = positionals[0];
  const by = values.by?.trim();
  const waitMs = Number(values["wait-ms"]);
  if (!id || !by || !Number.isFinite(waitMs) || waitMs <= 0) {
    io.err(
      `Usage: plantwire ${decision} <proposal id> --by <your name> [--dir ${defaultFolder}] [--wait-ms 10000]\n` +
        (id && !by ? "--by must name the person deciding (it cannot be blank).\n" : ""),
    );
    return exitCodes.usage;
  }
  const store = fileApprovalStore(values.dir);
  const pending = store.pending().find((proposal) => proposal.id === id);
  if (!pending) {
    const known = store.result(id);
    io.err(
      known
        ? `Proposal ${terminalSafe(id)} is no longer pending (${terminalSafe(known.state)}: ${terminalText(known.detail, 200)}); a decision is used once.\n`
        : `No pending proposal ${terminalSafe(id)} in ${values.dir}. Run "plantwire proposals".\n`,
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
  io.out(`${decision === "approve" ? "Approving" : "Rejecting"}:\n${describePending(pending, Date.now())}\n`);
  const nonce = randomUUID();
  const user = currentUser();
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
    ...(user ? { osUser: user } : {}),
    ...(values.reason ? { reason: values.reason } : {}),
  });
  if (!filed) {
    io.err(`Another decision on ${id} is waiting for the guard; try again in a moment.\n`);
    return exitCodes.failure;
  }
  const ack = await awaitAnswer(store, id, nonce, waitMs);
  if (!ack) {
    io.err(`The guard did not answer within ${waitMs} ms; the decision was taken back. Nothing will be written.\n`);
    return exitCodes.failure;
  }
  return report(io, ack, decision, by);
}

export const approveCommand: CliCommand = {
  name: "approve",
  summary: "Approve a pending proposal (it is re-checked, written once and read back)",
  usage: `Usage: plantwire approve <proposal id> --by <your name> [--dir ${defaultFolder}] [--wait-ms 10000]\nExit 0 when the running guard recorded the approval (and wrote, for the last approval); 1 when it refused it or no running guard holds the proposal (nothing is written).`,
  run: (args, io) => decide(args, io, "approve"),
};

export const rejectCommand: CliCommand = {
  name: "reject",
  summary: "Reject a pending proposal",
  usage: `Usage: plantwire reject <proposal id> --by <your name> [--reason <text>] [--dir ${defaultFolder}]`,
  run: (args, io) => decide(args, io, "reject"),
};
