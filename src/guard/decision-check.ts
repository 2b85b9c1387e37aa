/**
 * Checks a decision filed by another process (the CLI) before the guard acts on it. The file is untrusted: anyone in
 * the approvers' group can write one, and a script can write a wrong one. A decision is acted on only when it says
 * exactly "approve" or "reject", names a person, was filed for the proposal it names, and carries the digest of the
 * proposal as the guard holds it.
 */
import { hostname } from "node:os";
import type { TakenDecision } from "./approval-store.js";
import type { DeciderIdentity, DecisionRefusalCode } from "./guard-types.js";

/** A decision that passed the checks on its form. */
export interface CheckedDecision {
  readonly ok: true;
  readonly decision: "approve" | "reject";
  readonly by: string;
  readonly digest: string;
  readonly reason?: string;
  readonly nonce?: string;
  readonly identity: DeciderIdentity;
}

/** A decision refused on its form, with what could be read of it (for the audit). */
export interface RefusedDecision {
  readonly ok: false;
  readonly code: DecisionRefusalCode;
  readonly detail: string;
  readonly by?: string;
  readonly nonce?: string;
  readonly identity: DeciderIdentity;
}

const text = (value: unknown, max: number) => (typeof value === "string" ? value.slice(0, max) : undefined);

/** Checks a taken decision file against the digest of the proposal it was filed for (undefined: none pending). */
export function checkFiledDecision(
  taken: TakenDecision,
  expectedDigest: string | undefined,
  rules: { readonly allowSameProcess?: boolean; readonly separateApproverUsers?: boolean } = {},
): CheckedDecision | RefusedDecision {
  const content = taken.content;
  const record =
    content !== null && typeof content === "object" && !Array.isArray(content)
      ? (content as Record<string, unknown>)
      : undefined;
  const identity: DeciderIdentity = {
    via: "cli",
    ...(text(record?.osUser, 100) ? { osUser: text(record?.osUser, 100) } : {}),
    ...(taken.fileOwnerUid !== undefined ? { fileOwnerUid: taken.fileOwnerUid } : {}),
    ...(Number.isInteger(record?.pid) ? { pid: record?.pid as number } : {}),
    ...(text(record?.host, 200) ? { host: text(record?.host, 200) } : {}),
  };
  const by = text(record?.by, 200)?.trim();
  const nonce = text(record?.nonce, 64);
  const refuse = (code: DecisionRefusalCode, detail: string): RefusedDecision => ({
    ok: false,
    code,
    detail,
    identity,
    ...(by ? { by } : {}),
    ...(nonce && /^[A-Za-z0-9_-]{1,64}$/.test(nonce) ? { nonce } : {}),
  });
  if (!record) return refuse("malformed", "the decision file is not a JSON object");
  if (typeof record.id !== "string") return refuse("malformed", "the decision has no proposal id");
  if (record.id !== taken.id) {
    return refuse(
      "copied-from-another-id",
      `the decision is for proposal ${record.id.slice(0, 64)}, filed as ${taken.id}`,
    );
  }
  if (record.decision !== "approve" && record.decision !== "reject") {
    return refuse(
      "unknown-decision",
      `"decision" must be exactly "approve" or "reject", not ${JSON.stringify(record.decision ?? null).slice(0, 40)}`,
    );
  }
  if (!by) return refuse("blank-approver", "the decision names no person (by)");
  if (record.reason !== undefined && typeof record.reason !== "string") {
    return refuse("malformed", "the reason is not text");
  }
  if (expectedDigest === undefined) return refuse("unknown-proposal", `no pending proposal ${taken.id} in this guard`);
  if (record.digest !== expectedDigest) {
    return refuse(
      "digest-mismatch",
      "the decision was made on something other than the proposal this guard holds (an edited or stale pending file)",
    );
  }
  const approving = record.decision === "approve";
  if (approving && (identity.pid === undefined || identity.host === undefined)) {
    return refuse("malformed", "an approval must say which process filed it (pid and host), as the CLI does");
  }
  const ownUid = process.getuid?.();
  if (approving && rules.separateApproverUsers && ownUid !== undefined && taken.fileOwnerUid === ownUid) {
    return refuse(
      "same-user",
      `the decision file belongs to the guard's own OS user (uid ${ownUid}); approvers decide as themselves`,
    );
  }
  if (!rules.allowSameProcess && approving && identity.pid === process.pid && identity.host === hostname()) {
    return refuse("same-process", "the decision was filed by the process that holds the guard");
  }
  return {
    ok: true,
    decision: record.decision,
    by,
    digest: expectedDigest,
    identity,
    ...(typeof record.reason === "string" ? { reason: record.reason.slice(0, 2000) } : {}),
    ...(nonce ? { nonce } : {}),
  };
}
