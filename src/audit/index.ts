/** The tamper-evident audit log. */
export { AuditLog, type AuditLogOptions, headFile } from "./audit-log.js";
export {
  type AuditEntry,
  type AuditRecord,
  type AuditRecordType,
  GENESIS_HASH,
  recordHash,
  sha256,
} from "./audit-record.js";
export { type AuditVerification, verifyAuditLog } from "./audit-verify.js";
export { canonicalJson, toJsonValue } from "./canonical-json.js";
