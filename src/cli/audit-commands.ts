/** `plantwire audit verify <file>`: checks an audit log's hash chain and points at the first bad line. */
import { verifyAuditLog } from "../audit/audit-verify.js";
import { type CliCommand, exitCodes } from "./cli-command.js";

export const auditVerifyCommand: CliCommand = {
  name: "audit verify",
  summary: "Verify an audit log's hash chain",
  usage:
    "Usage: plantwire audit verify <audit.jsonl>\nExit 0 when the chain is intact, 1 at the first altered, missing or reordered line.",
  async run(args, io) {
    const file = args[0];
    if (!file) {
      io.err(`${this.usage}\n`);
      return exitCodes.usage;
    }
    const result = verifyAuditLog(file);
    if (result.ok) {
      io.out(`OK: ${result.records} records, chain intact (${file}).\n`);
      return exitCodes.ok;
    }
    io.out(`BROKEN at line ${result.line}: ${result.problem}. ${result.records} records before it verify.\n`);
    return exitCodes.failure;
  },
};
