/** Builds a proposal and its audit record: checks, disposition, and the snapshot it was based on. */
import type { AuditEntry } from "../audit/audit-record.js";
import type { Snapshot } from "../sample.js";
import type { AnyTag, TagDefinitions } from "../tags.js";
import type { GuardMode, Proposal, Verdict } from "./guard-types.js";

/** What happens to a proposal that passed, or not. */
export type Disposition = "rejected" | "shadow" | "automatic" | "pending-approval";

/** Decides a proposal's disposition from its verdicts, the guard's mode and the tag's policy. */
export function dispositionOf(
  verdicts: readonly Verdict[],
  mode: GuardMode,
  tag: AnyTag | undefined,
  value: unknown,
): Disposition {
  if (!verdicts.every((verdict) => verdict.passed)) return "rejected";
  if (mode === "shadow" || tag?.write?.shadow === true) return "shadow";
  if (mode !== "automatic" || tag?.write?.approval !== "automatic") return "pending-approval";
  if (tag.type === "float" || tag.type === "integer") {
    // A numeric tag is written without a person only inside an automatic band declared for it.
    const band = tag.write.automaticRange;
    return band && typeof value === "number" && value >= band[0] && value <= band[1] ? "automatic" : "pending-approval";
  }
  return "automatic";
}

/** The compact form of a snapshot kept in the audit: each value, null when bad, "STALE" when stale. */
function basisOf<TTags extends TagDefinitions>(snapshot: Snapshot<TTags>) {
  const values = snapshot
    .entries()
    .map(([name, sample]) => [name, sample.stale ? "STALE" : sample.quality === "bad" ? null : sample.value]);
  return { time: snapshot.time, values: Object.fromEntries(values) };
}

/** The proposal record (appended alone, or with the records that follow it in one flush). */
export function proposalRecord<TTags extends TagDefinitions>(
  proposal: Proposal,
  snapshot: Snapshot<TTags> | undefined,
  disposition: Disposition,
): AuditEntry {
  return {
    type: "proposal",
    proposalId: proposal.id,
    tag: proposal.tag,
    value: proposal.value,
    reason: proposal.reason,
    ...proposal.origin,
    current: proposal.current,
    ...(snapshot ? { basis: basisOf(snapshot) } : {}),
    verdicts: proposal.verdicts,
    digest: proposal.digest,
    ...(proposal.approvalsRequired > 1 ? { approvalsRequired: proposal.approvalsRequired } : {}),
    disposition,
  };
}

/** A frozen copy for callers: they can read a proposal, never change what the guard will write. */
export function publicCopy(proposal: Proposal): Proposal {
  return Object.freeze({
    ...proposal,
    origin: Object.freeze({ ...proposal.origin }),
    verdicts: Object.freeze(proposal.verdicts.map((verdict) => Object.freeze({ ...verdict }))),
    approvals: Object.freeze(proposal.approvals.map((approval) => Object.freeze({ ...approval }))),
    ...(proposal.outcome ? { outcome: Object.freeze({ ...proposal.outcome }) } : {}),
  }) as Proposal;
}
