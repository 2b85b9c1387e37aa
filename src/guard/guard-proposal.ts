/** Builds a proposal and its audit record: checks, disposition, and the snapshot it was based on. */
import type { AuditLog } from "../audit/audit-log.js";
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

/** Appends the proposal record. */
export function auditProposal<TTags extends TagDefinitions>(
  audit: AuditLog,
  proposal: Proposal,
  snapshot: Snapshot<TTags>,
  disposition: Disposition,
): void {
  audit.append({
    type: "proposal",
    proposalId: proposal.id,
    tag: proposal.tag,
    value: proposal.value,
    reason: proposal.reason,
    ...proposal.origin,
    current: proposal.current,
    basis: basisOf(snapshot),
    verdicts: proposal.verdicts,
    disposition,
  });
}

/** A frozen copy for callers: they can read a proposal, never change what the guard will write. */
export function publicCopy(proposal: Proposal): Proposal {
  return Object.freeze({
    ...proposal,
    origin: Object.freeze({ ...proposal.origin }),
    verdicts: Object.freeze([...proposal.verdicts]),
    ...(proposal.outcome ? { outcome: Object.freeze({ ...proposal.outcome }) } : {}),
  }) as Proposal;
}
