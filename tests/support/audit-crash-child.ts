/**
 * Child process for the crash-safety test: proposes and approves one write whose adapter kills the process the
 * moment the write would go out, i.e. after the attempt is on disk and before any outcome.
 */
import { createGuard, createPlant, defineTags, float } from "plantwire";
import { memoryAdapter } from "plantwire/testing";

const auditFile = process.argv[2];
if (!auditFile) throw new Error("usage: audit-crash-child <audit file>");
const drive = memoryAdapter({ name: "drive", values: { limit: 8 } });
drive.write = async () => {
  process.kill(process.pid, "SIGKILL");
  return new Promise(() => {});
};
const tags = defineTags({ limit: float({ range: [0, 16], source: drive.key("limit"), write: { range: [1, 12] } }) });
const plant = createPlant({ tags });
const guard = createGuard({ plant, audit: auditFile, allowSameProcessApproval: true });
const [proposal] = await guard.propose({ limit: 9 }, { reason: "crash test" });
await guard.approve(proposal!.id, { by: "tester" });
