/**
 * The digest of a proposal: what binds a person's decision to exactly what that person was shown. Both the guard and
 * whoever shows a proposal to a person (the CLI, the console) compute it from the same six fields; a decision
 * carrying any other digest is refused.
 */
import { createHash } from "node:crypto";
import { canonicalJson, toJsonValue } from "../audit/canonical-json.js";

/** The fields a digest covers. */
export interface DigestFields {
  readonly id: string;
  readonly tag: string;
  readonly value: unknown;
  readonly current: unknown;
  readonly expiresAt: number;
  /** The identity of the guard holding the proposal. */
  readonly guard: string;
}

/** SHA-256 (hex) of the canonical JSON of the six fields; `undefined` values count as null. */
export function proposalDigest(fields: DigestFields): string {
  const { id, tag, value, current, expiresAt, guard } = fields;
  const canonical = canonicalJson(
    toJsonValue({ id, tag, value: value ?? null, current: current ?? null, expiresAt, guard }),
  );
  return createHash("sha256").update(canonical).digest("hex");
}
