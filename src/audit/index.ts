/** The tamper-evident audit log. */
export {
  type AnchorCheck,
  type AnchoredHead,
  type AuditAnchor,
  compareWithAnchor,
} from "./audit-anchor.js";
export type { AuditContinuation } from "./audit-chain.js";
export type { AuditFailure, AuditFailureCode } from "./audit-failure.js";
export { type AuditDamage, headFile } from "./audit-inspect.js";
export { type AuditKey, loadAuditKey } from "./audit-key.js";
export { AuditLog, type AuditLogOptions } from "./audit-log.js";
export {
  type AuditEntry,
  type AuditRecord,
  type AuditRecordType,
  GENESIS_HASH,
  KEYED_CHAIN,
  recordHash,
  sha256,
} from "./audit-record.js";
export { type AuditRecovery, type AuditRecoveryOptions, recoverAuditLog } from "./audit-recover.js";
export {
  type AuditVerification,
  type AuditVerifyOptions,
  verifyAuditLog,
  verifyAuditLogWithAnchor,
} from "./audit-verify.js";
export { canonicalJson, toJsonValue } from "./canonical-json.js";
