/**
 * The proposing part of the guard: turns a proposed value (or a guarded output's item) into a proposal with its
 * verdicts and digest, records it, supersedes the tag's older pending proposal, and then executes it (automatic),
 * holds it for a person, or leaves it rejected or shadowed. With the audit failed, every proposal is refused.
 */
import { randomUUID } from "node:crypto";
import type { AuditLog } from "../audit/audit-log.js";
import { sha256 } from "../audit/audit-record.js";
import { toJsonValue } from "../audit/canonical-json.js";
import { deepFreeze } from "../deep-freeze.js";
import type { Snapshot } from "../sample.js";
import type { AnyTag, TagDefinitions, TagName } from "../tags.js";
import type { ProposeOptions } from "./guard-api.js";
import type { ProposalBook } from "./guard-book.js";
import type { Executor } from "./guard-executor.js";
import { type GuardOutputs, outputPrefix } from "./guard-outputs.js";
import { policyOf } from "./guard-policy.js";
import { type Disposition, dispositionOf, proposalRecord, publicCopy } from "./guard-proposal.js";
import type { GuardMode, Proposal, Verdict } from "./guard-types.js";
import { proposalDigest } from "./proposal-digest.js";

/** What the proposer works with. */
export interface ProposerParts<TTags extends TagDefinitions> {
  readonly identity: string;
  readonly mode: GuardMode;
  readonly ttl: number;
  readonly policies: Readonly<Record<string, AnyTag>>;
  readonly audit: AuditLog;
  readonly book: ProposalBook;
  readonly executor: Executor<TTags>;
  readonly outputs: GuardOutputs;
  readonly now: () => number;
  readonly isClosed: () => boolean;
}

/** The guard's proposer. */
export interface Proposer<TTags extends TagDefinitions> {
  /** One proposed value for one tag, checked against `snapshot`. */
  proposeOne(tag: string, value: unknown, options: ProposeOptions, snapshot: Snapshot<TTags>): Promise<Proposal>;
  /** One item for a declared output. */
  sendOne(name: string, item: unknown, options: ProposeOptions): Promise<Proposal>;
}

/** What a proposal is before the guard holds it: what was checked, and how it will go. */
interface Draft<TTags extends TagDefinitions> {
  readonly tag: string;
  readonly value: unknown;
  readonly current: unknown;
  readonly verdicts: Verdict[];
  readonly disposition: Disposition;
  readonly approvalsRequired: 1 | 2;
  readonly expiresAt: number;
  readonly createdAt: number;
  readonly snapshot?: Snapshot<TTags>;
}

/** Creates the proposer of one guard. */
export function createProposer<TTags extends TagDefinitions>(parts: ProposerParts<TTags>): Proposer<TTags> {
  const { identity, mode, ttl, policies, audit, book, executor, outputs, now } = parts;

  function auditFailure(): Verdict | undefined {
    const failure = audit.failure;
    if (!failure) return undefined;
    return {
      check: "audit",
      passed: false,
      code: "audit-failed",
      detail: `the audit log cannot record (${failure.code}: ${failure.message}); nothing is written until a person fixes it and restarts`,
    };
  }

  /** Supersedes the pending proposal of a tag, if any: one decision per tag for a person, not a queue. */
  function supersede(tag: string, by: Proposal) {
    const older = book.pendingFor(tag);
    if (!older) return [];
    older.state = "superseded";
    book.settle(older, `superseded by proposal ${by.id}`);
    return [
      {
        type: "decision" as const,
        proposalId: older.id,
        decision: "refused",
        code: "superseded",
        detail: `superseded by proposal ${by.id}`,
        by: "guard",
        identity: { via: "guard" },
      },
    ];
  }

  /** Audits a checked proposal and executes it, holds it for a person, or leaves it rejected or shadowed. */
  async function hold(draft: Draft<TTags>, proposeOptions: ProposeOptions): Promise<Proposal> {
    const { tag, value, current, expiresAt, disposition } = draft;
    const promptHash = proposeOptions.promptHash ?? (proposeOptions.prompt ? sha256(proposeOptions.prompt) : undefined);
    const id = randomUUID();
    const proposal: Proposal = {
      id,
      tag,
      value,
      reason: proposeOptions.reason.slice(0, 2000),
      origin: {
        loop: proposeOptions.loop,
        modelId: proposeOptions.modelId,
        promptHash,
        ...(proposeOptions.source !== undefined ? { source: proposeOptions.source } : {}),
        ...(proposeOptions.user !== undefined ? { user: proposeOptions.user } : {}),
      },
      createdAt: draft.createdAt,
      expiresAt,
      current,
      verdicts: draft.verdicts,
      digest: proposalDigest({ id, tag, value, current, expiresAt, guard: identity }),
      approvalsRequired: draft.approvalsRequired,
      approvals: [],
      state: disposition === "rejected" ? "rejected" : disposition === "shadow" ? "shadowed" : "pending",
    };
    // With the audit failed nothing can be recorded: the refusal is returned, and status() says why.
    if (draft.verdicts.some((verdict) => verdict.code === "audit-failed")) return publicCopy(proposal);
    const record = proposalRecord(proposal, draft.snapshot, disposition);
    if (disposition === "automatic") {
      book.add(proposal);
      const carry = [record, ...supersede(tag, proposal)];
      proposal.state = "approved";
      proposal.decidedBy = "automatic";
      const decision = {
        type: "decision" as const,
        proposalId: id,
        decision: "approved",
        by: "automatic",
        identity: { via: "guard" },
      };
      const detail = await executor.execute(proposal, decision, carry, parts.isClosed);
      return book.settle(proposal, detail);
    }
    if (disposition === "pending-approval") {
      audit.appendBatch([record, ...supersede(tag, proposal)]);
      book.add(proposal);
      book.show(proposal);
    } else {
      audit.append(record);
      book.add(proposal);
    }
    return publicCopy(proposal);
  }

  function proposeOne(tag: string, value: unknown, proposeOptions: ProposeOptions, snapshot: Snapshot<TTags>) {
    const createdAt = now();
    const expiresAt = createdAt + ttl;
    const definition = policyOf(policies, tag);
    const failedAudit = auditFailure();
    const verdicts = failedAudit ? [failedAudit] : executor.verdictsFor({ tag, value, expiresAt }, snapshot);
    return hold(
      {
        tag,
        value,
        current: definition ? snapshot.sample(tag as TagName<TTags>).value : undefined,
        verdicts,
        disposition: dispositionOf(verdicts, mode, definition, value),
        approvalsRequired: definition?.write?.approvals === 2 ? 2 : 1,
        createdAt,
        expiresAt,
        snapshot,
      },
      proposeOptions,
    );
  }

  function sendOne(name: string, given: unknown, proposeOptions: ProposeOptions) {
    // Read once, as plain JSON data, frozen: what is checked is what is audited and what is sent (a getter, a Proxy
    // or a toJSON cannot show the checks one thing and the broker another).
    const item = deepFreeze(toJsonValue(given));
    const createdAt = now();
    const expiresAt = createdAt + ttl;
    const failedAudit = auditFailure();
    const verdicts = failedAudit ? [failedAudit] : outputs.verdictsFor(name, item, expiresAt);
    const policy = outputs.policy(name);
    const passed = verdicts.every((verdict) => verdict.passed);
    const disposition: Disposition = !passed
      ? "rejected"
      : mode === "shadow"
        ? "shadow"
        : policy?.approval === "required"
          ? "pending-approval"
          : "automatic";
    return hold(
      {
        tag: `${outputPrefix}${name}`,
        value: item,
        current: undefined,
        verdicts,
        disposition,
        approvalsRequired: 1,
        createdAt,
        expiresAt,
      },
      proposeOptions,
    );
  }

  return { proposeOne, sendOne };
}
