/**
 * Child process for the guard's T18: run under a file-size limit (`ulimit -f`) with an audit log the test filled
 * close to it. Proposes an automatic write whose records no longer fit, then another, and prints what reached the
 * device and what the guard said, as JSON.
 */
import { createGuard, createPlant, defineTags, float } from "../../src/index.js";
import { memoryAdapter } from "../../src/testing/index.js";

const [auditFile, lockFolder] = process.argv.slice(2);
if (!auditFile || !lockFolder) throw new Error("usage: guard-audit-child <audit file> <lock folder>");

const drive = memoryAdapter({ name: "drive", values: { speed: 1000 } });
const tags = defineTags({
  speed: float({
    range: [0, 1800],
    source: drive.key("speed"),
    write: { range: [600, 1500], approval: "automatic", automaticRange: [900, 1100] },
  }),
});
const plant = createPlant({ tags });
const guard = createGuard({ plant, audit: auditFile, mode: "automatic", deviceLocks: lockFolder });
// The reason is long, so the proposal, decision and attempt no longer fit under the limit.
const [first] = await guard.propose({ speed: 1050 }, { reason: "r".repeat(2000) });
const [second] = await guard.propose({ speed: 1040 }, { reason: "short" });
const status = guard.status();
await guard.close();
await plant.close();
process.stdout.write(
  JSON.stringify({
    writes: drive.writes.length,
    first: { state: first?.state, outcome: first?.outcome },
    second: { state: second?.state, verdicts: second?.verdicts },
    status,
  }),
);
