/**
 * The decision inbox: how decisions made in other processes (the CLI) reach a running guard, and how that guard
 * shows it is alive. It announces the guard beside its approvals (a heartbeat a CLI checks before filing a decision),
 * takes each filed decision, checks it against the proposal held in memory, applies it, and answers the filer with
 * an acknowledgement. On start it removes, as abandoned, the proposals of a guard that stopped; proposals past their
 * approval window expire.
 */
import { hostname } from "node:os";
import type { AuditLog } from "../audit/audit-log.js";
import { ConfigError } from "../errors.js";
import { operatingSystemUser } from "../os-user.js";
import { type ApprovalStore, type DecisionRef, isPresent } from "./approval-store.js";
import { checkFiledDecision } from "./decision-check.js";
import type { ProposalBook } from "./guard-book.js";
import { type Decider, DecisionRefused } from "./guard-decisions.js";
import type { DeciderIdentity } from "./guard-types.js";

/** What the inbox needs. */
export interface InboxParts {
  readonly guard: string;
  readonly store: ApprovalStore;
  readonly audit: AuditLog;
  readonly book: ProposalBook;
  readonly decider: Decider;
  readonly now: () => number;
  readonly pollMs: number;
  readonly allowSameProcessApproval: boolean;
  readonly separateApproverUsers: boolean;
}

/** A running inbox. */
export interface Inbox {
  stop(): void;
}

const guardIdentity: DeciderIdentity = { via: "guard" };

/** Starts the inbox of a guard: claims the store, abandons a stopped guard's proposals, then polls. */
export function startInbox(parts: InboxParts): Inbox {
  const { store, audit, book, decider, now } = parts;
  const host = hostname();
  const other = store.presence();
  if (other && other.guard !== parts.guard && isPresent(other, host, now())) {
    throw new ConfigError([
      {
        path: "approvals",
        message: `another running guard (process ${other.pid} of ${other.user} on ${other.host}, audit ${other.audit}) uses this approvals folder`,
        // A copied or forged guard.json with a fresh heartbeat also lands here: say which file to remove then.
        fix: `give each guard its own approvals folder, or stop the other one first; if process ${other.pid} on ${other.host} is not a plantwire guard, remove ${store.location ? `${store.location}/guard.json` : "its presence from the store"}`,
      },
    ]);
  }
  const startedAt = now();
  const announce = () =>
    store.announce({
      guard: parts.guard,
      pid: process.pid,
      host,
      user: operatingSystemUser(),
      audit: audit.file,
      startedAt,
      beatAt: now(),
    });
  announce();

  // Proposals left by a guard that stopped: nobody holds them any more, so nothing will ever write them.
  for (const stale of store.pending().filter((pending) => pending.guard !== parts.guard)) {
    const detail = `proposed by an earlier guard (${String(stale.guard).slice(0, 40)}) that stopped; nothing will be written`;
    audit.append({
      type: "decision",
      proposalId: stale.id,
      decision: "refused",
      code: "abandoned",
      detail,
      by: "guard",
      identity: guardIdentity,
    });
    store.withdraw(stale.id);
    store.recordResult({ id: stale.id, state: "abandoned", detail });
  }
  // What cannot be shown (a bad name or id, not a regular file, not a proposal) goes: this guard holds the store now.
  store.sweep();

  let busy = false;
  let lastBeat = now();
  const tick = () => {
    if (busy) return;
    busy = true;
    try {
      if (now() - lastBeat >= 1000) {
        lastBeat = now();
        announce();
      }
      for (const ref of store.waiting()) takeDecision(ref);
      expire();
    } finally {
      busy = false;
    }
  };

  function takeDecision({ id, nonce }: DecisionRef): void {
    // A nonce is answered once. Anyone in the group can file a copy under a nonce already used (it is visible in the
    // listing): it is refused on the record without a second answer, so the filer's answer stands.
    const answeredBefore = store.acknowledgement(id, nonce) !== undefined;
    const taken = store.take(id, nonce);
    if (!taken) return;
    const proposal = book.get(id);
    const open = proposal?.state === "pending" ? proposal : undefined;
    const checked = checkFiledDecision(taken, open?.digest, {
      allowSameProcess: parts.allowSameProcessApproval,
      separateApproverUsers: parts.separateApproverUsers,
    });
    // One final answer per decision: the first one stands (a write that could not be recorded answers "refused"
    // before the executor's promise settles, and that promise must not turn it into "accepted").
    let answered = false;
    const answer = (accepted: boolean, state: string, detail: string, code?: DecisionRefused["refusal"]) => {
      if (answered) return;
      answered = true;
      store.acknowledge({ id, nonce, stage: "answered", accepted, state, detail, ...(code ? { code } : {}) });
    };
    const refusal = ((): { code: DecisionRefused["refusal"]; detail: string } | undefined => {
      if (taken.unreadable) return { code: "malformed", detail: `the decision file ${taken.unreadable}` };
      if (answeredBefore) return { code: "malformed", detail: `a decision with nonce ${nonce} was already answered` };
      if (!checked.ok) {
        // A decision for a proposal already decided is "already-decided", not "unknown": say what happened to it.
        const code = checked.code === "unknown-proposal" && proposal ? "already-decided" : checked.code;
        return { code, detail: code === "already-decided" ? `already decided (${proposal?.state})` : checked.detail };
      }
      if (checked.nonce !== nonce) {
        return { code: "malformed", detail: "the decision's nonce is not the one its file is named by" };
      }
      return undefined;
    })();
    if (refusal || !checked.ok) {
      const { code, detail } = refusal ?? { code: "malformed" as const, detail: "refused" };
      decider.refuse(id, code, detail, checked.by, checked.identity);
      if (!answeredBefore) answer(false, proposal?.state ?? "unknown", detail, code);
      return;
    }
    // The filer learns now that the guard has the decision: from here on it cannot be taken back, and what the guard
    // does with it is on the audit whether or not the final answer reaches the filer.
    store.acknowledge({ id, nonce, stage: "taken", time: now() });
    const decision = {
      decision: checked.decision,
      by: checked.by,
      identity: checked.identity,
      ...(checked.reason ? { reason: checked.reason } : {}),
    };
    decider
      .apply(open as NonNullable<typeof open>, decision, now(), (start) => {
        if (!start.recorded) answer(false, "refused", start.detail);
      })
      .then(
        (result) => {
          const outcome = result.outcome;
          const detail = outcome
            ? `write ${outcome.write}, read-back ${outcome.readBack}${outcome.detail ? ` (${outcome.detail})` : ""}`
            : result.state === "pending"
              ? `approval ${result.approvals.length} of ${result.approvalsRequired} recorded; waiting for another person`
              : result.state;
          answer(true, result.state, detail);
        },
        (error: unknown) => {
          if (error instanceof DecisionRefused) answer(false, open?.state ?? "unknown", error.message, error.refusal);
          else answer(false, "unknown", error instanceof Error ? error.message : String(error));
        },
      );
  }

  function expire(): void {
    for (const proposal of book.pending()) {
      if (now() <= proposal.expiresAt) continue;
      proposal.state = "refused";
      audit.append({
        type: "decision",
        proposalId: proposal.id,
        decision: "refused",
        by: "guard",
        identity: guardIdentity,
        code: "expired",
        detail: "no decision within its TTL",
      });
      book.settle(proposal, "expired: no decision within its TTL");
    }
  }

  const poller = setInterval(() => {
    try {
      tick();
    } catch {
      // A failing audit latches and refuses every proposal; the inbox itself must keep the process alive.
    }
  }, parts.pollMs);
  poller.unref();
  return {
    stop() {
      clearInterval(poller);
      store.leave(parts.guard);
    },
  };
}
