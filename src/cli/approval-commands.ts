/**
 * `plantwire proposals`, `approve` and `reject`: plant staff decide on pending writes from a terminal. They work
 * through the approval folder a running guard shares (`createGuard({ approvals: ".plantwire/approvals" })`).
 */
import { parseArgs } from "node:util";
import { fileApprovalStore, type PendingProposal } from "../guard/approval-store.js";
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
  return [
    `${terminalSafe(proposal.id)}  ${terminalSafe(proposal.tag)}: ${terminalText(proposal.current, 60)} → ${terminalText(proposal.value, 60)}`,
    `    reason (from the proposer, unverified): ${terminalText(proposal.reason, 300)}`,
    `    ${left > 0 ? `expires in ${left} s` : "EXPIRED"}${origin ? `; ${origin}` : ""}`,
  ].join("\n");
}

export const proposalsCommand: CliCommand = {
  name: "proposals",
  summary: "List proposals waiting for approval",
  usage: `Usage: plantwire proposals [--dir ${defaultFolder}]`,
  async run(args, io) {
    const { values } = parseArgs({ args: [...args], options: folderOption });
    const pending = fileApprovalStore(values.dir).pending();
    if (pending.length === 0) io.out("No proposals are waiting.\n");
    for (const proposal of pending) io.out(`${describePending(proposal, Date.now())}\n`);
    return exitCodes.ok;
  },
};

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
  if (!id || !values.by) {
    io.err(`Usage: plantwire ${decision} <proposal id> --by <your name> [--dir ${defaultFolder}]\n`);
    return exitCodes.usage;
  }
  const store = fileApprovalStore(values.dir);
  const pending = store.pending().find((proposal) => proposal.id === id);
  if (!pending) {
    const known = store.decision(id) ?? store.result(id);
    io.err(
      known
        ? `Proposal ${id} was already decided; a decision is used once.\n`
        : `No pending proposal ${id} in ${values.dir}. Run "plantwire proposals".\n`,
    );
    return exitCodes.failure;
  }
  if (decision === "approve" && Date.now() > pending.expiresAt) {
    io.err(`Proposal ${id} expired at ${new Date(pending.expiresAt).toISOString()}; it can no longer be approved.\n`);
    return exitCodes.failure;
  }
  const claimed = store.claim({
    id,
    decision,
    by: values.by,
    time: Date.now(),
    ...(values.reason ? { reason: values.reason } : {}),
  });
  if (!claimed) {
    io.err(`Proposal ${id} was already decided; a decision is used once.\n`);
    return exitCodes.failure;
  }
  io.out(
    `${decision === "approve" ? "Approved" : "Rejected"} ${id} (${terminalSafe(pending.tag)} → ${terminalText(pending.value, 60)}) as ${values.by}.\n`,
  );
  const deadline = Date.now() + Number(values["wait-ms"]);
  while (Date.now() < deadline) {
    const result = store.result(id);
    if (result) {
      io.out(`Result: ${terminalSafe(result.state)}: ${terminalSafe(String(result.detail))}\n`);
      return result.state === "executed" || result.state === "declined" ? exitCodes.ok : exitCodes.failure;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  io.out("The running loop has not reported a result yet; check the audit log.\n");
  return exitCodes.ok;
}

export const approveCommand: CliCommand = {
  name: "approve",
  summary: "Approve a pending proposal (it is re-checked, written once and read back)",
  usage: `Usage: plantwire approve <proposal id> --by <your name> [--dir ${defaultFolder}] [--wait-ms 10000]`,
  run: (args, io) => decide(args, io, "approve"),
};

export const rejectCommand: CliCommand = {
  name: "reject",
  summary: "Reject a pending proposal",
  usage: `Usage: plantwire reject <proposal id> --by <your name> [--reason <text>] [--dir ${defaultFolder}]`,
  run: (args, io) => decide(args, io, "reject"),
};
