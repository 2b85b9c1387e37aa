/**
 * Turns what the site does into events: the pending proposals, each proposal that changed, the loops and the
 * adapters, compared on a short period and sent only when they changed; and every record appended to the audit.
 * The guard and loops have no change hooks of their own, and a comparison every half second costs next to nothing.
 */
import type { ProposalView } from "./api-types.js";
import { viewOf } from "./serve-api.js";
import { tailAudit } from "./serve-audit.js";
import type { EventHub } from "./serve-events.js";
import { loopView } from "./serve-views.js";
import type { SiteRuntime } from "./site-runtime.js";

/** A running comparison; `check()` runs one at once (after a decision, so the page hears it without delay). */
export interface ChangeFeed {
  check(): void;
  stop(): void;
}

/** Watches `runtime()` (asked each time: a reload replaces it) and sends what changed to `hub`. */
export function feedChanges(runtime: () => SiteRuntime, hub: EventHub, periodMs = 500): ChangeFeed {
  let lastPending = "";
  let lastLoops = "";
  let lastAdapters = "";
  const lastProposals = new Map<string, string>();
  const follow = (file: string) =>
    tailAudit(file, (record) => {
      if (typeof record.proposalId === "string") runtime().noteProposal(record.proposalId);
      hub.send("audit", record);
    });
  let tailedFile = runtime().audit.file;
  let tail = follow(tailedFile);

  const check = () => {
    const current = runtime();
    if (current.audit.file !== tailedFile) {
      tailedFile = current.audit.file;
      tail = follow(tailedFile);
    }
    tail.poll();
    const pending = current.guard.pending().map((proposal) => viewOf(current, proposal));
    const pendingText = JSON.stringify(pending);
    const changed: ProposalView[] = [];
    // Decided ones first, then the list, then the new pending ones: a reader who waits for the next pending proposal
    // has by then seen how the previous one ended, even when both happened within one check.
    for (const view of [...current.recent(20).map((proposal) => viewOf(current, proposal)), ...pending]) {
      const text = JSON.stringify(view);
      if (lastProposals.get(view.id) !== text) changed.push(view);
      lastProposals.set(view.id, text);
    }
    if (lastProposals.size > 500) {
      for (const id of [...lastProposals.keys()].slice(0, lastProposals.size - 500)) lastProposals.delete(id);
    }
    const pendingIds = new Set(pending.map((view) => view.id));
    for (const view of changed) if (!pendingIds.has(view.id)) hub.send("proposal", view);
    if (pendingText !== lastPending) {
      lastPending = pendingText;
      hub.send("proposals", { pending });
    }
    for (const view of changed) if (pendingIds.has(view.id)) hub.send("proposal", view);
    const loops = current.loops.map((loop) => loopView(loop.report()));
    const loopsText = JSON.stringify(loops);
    if (loopsText !== lastLoops) {
      lastLoops = loopsText;
      hub.send("loops", loops);
    }
    const adapters = current.adapters();
    const adaptersText = JSON.stringify(adapters);
    if (adaptersText !== lastAdapters) {
      lastAdapters = adaptersText;
      hub.send("adapters", adapters);
    }
  };
  const timer = setInterval(() => {
    try {
      check();
    } catch {
      // A reload in progress can close the runtime under a check; the next one sees the new runtime.
    }
  }, periodMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
