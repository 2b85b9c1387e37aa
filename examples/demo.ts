/**
 * `npm run demo`: the main job end to end, offline. Starts the plant simulator (a pumping station over Modbus TCP,
 * OPC UA, MQTT, Sparkplug B and a SQLite historian), runs two loops against it, injects a fault, and shows every step:
 *  - the speed advisor (Modbus): the snapshot, the compact context and its token count, the model's advice, the
 *    guard's verdict, the approval (automatic in the demo, and it says so), the write, the read-back and its audit
 *    record;
 *  - the alarm explainer (examples/alarm-explainer.ts): the OPC UA alarm bit, a window of related signals, the
 *    model's explanation, published on MQTT and written as a shift-log row in SQL.
 * Ends by itself with a summary. PLANTWIRE_DEMO_SECONDS sets the length (default 60; CI runs a short one).
 * Its files (audit logs, historian, shift log) go to a temporary folder, removed at the end; `npm run demo -- --keep`
 * keeps it and says where it is.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  countTokens,
  createGuard,
  createLoop,
  createPlant,
  encodeSnapshot,
  onChange,
  shutdown,
  verifyAuditLog,
} from "plantwire";
import { modbus } from "plantwire/modbus";
import { mqtt } from "plantwire/mqtt";
import { startPlantSimulator } from "plantwire/simulator";
import { sql } from "plantwire/sql";
import { z } from "zod";
import { startAlarmExplainer } from "./alarm-explainer.js";
import { Advice, alarmStandIn, demoModel, demoTags, endpointOrStandIn } from "./station-demo-parts.js";

// node-opcua logs its own warnings to the console (a certificate being created, a note on RSA PKCS#1 for Node 20);
// against the local simulator they are noise, so the demo shows only its errors unless you set the level yourself.
// It reads the level when it loads, which is later: plantwire loads node-opcua on first use.
process.env.NODEOPCUA_LOG_LEVEL ??= "3";
const seconds = Number(process.env.PLANTWIRE_DEMO_SECONDS ?? 60);
const target = 3.9; // bar
const say = (text = "") => console.log(text);
const keep = process.argv.slice(2).includes("--keep");
const folder = mkdtempSync(join(tmpdir(), "plantwire-demo-"));
// The guards' device locks and the simulator's Sparkplug B state go there too (by default they are shared folders
// in the temp dir that outlive a process: right for a plant, not for a demo on its own private simulator).
process.env.PLANTWIRE_LOCK_DIR ??= join(folder, "device-locks");
process.env.PLANTWIRE_STATE_DIR ??= join(folder, "state");
// Removed however the demo ends (done, failed, or stopped with Ctrl+C below), unless --keep asked to look at it.
process.on("exit", () => {
  if (!keep) rmSync(folder, { recursive: true, force: true });
});
let written = 0;

say("plantwire demo: a simulated pumping station, a model, the write guard and the audit, on this machine only\n");
const simulator = await startPlantSimulator({
  modbus: { port: 0 },
  opcua: { port: 0 },
  mqtt: { port: 0 },
  historian: { file: join(folder, "historian.db") },
  tickMs: 250,
  speedup: 30,
});
for (const [protocol, url] of Object.entries(simulator.urls)) say(`  simulator ${protocol.padEnd(9)} ${url}`);
// Ctrl+C or SIGTERM: stop the simulator (it removes its own temporary files) and leave through the exit handler.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void simulator.close().finally(() => process.exit(130)));
}

const drive = modbus({ url: simulator.urls.modbus as string, unit: 1, name: "drive" });
const bus = mqtt({ url: simulator.urls.mqtt as string, name: "bus" });
const plant = createPlant({ tags: demoTags(drive, bus), pollIntervalMs: 500, onError: () => {} });
const audit = join(folder, "audit.jsonl");
// FOR THE DEMO ONLY: this process approves its own proposals below, standing in for a person. In a plant, leave
// allowSameProcessApproval off; a named person approves with `plantwire approve <id> --by <name>`.
const guard = createGuard({ plant, audit, allowSameProcessApproval: true });
const { model, description } = demoModel(target);
const explainerModel = endpointOrStandIn(alarmStandIn);
const shiftLogUrl = `sqlite:${join(folder, "shift-log.db")}`;
say("  guard     speed setpoint: 600..1500 rpm, at most 100 rpm per write, 10 s between writes, approval required");
say(`  models    advisor: ${description}`);
say(`            alarm explainer: ${explainerModel.description}`);
say(`  audit     ${audit}\n`);

/** The last audit record (the write's outcome), as stored, with its hash chain shortened. */
function auditLine(): string {
  const lines = readFileSync(audit, "utf8").trim().split("\n");
  const { proposalId, time, prevHash, hash, ...record } = JSON.parse(lines[lines.length - 1] as string);
  return `${JSON.stringify(record)} hash ${String(hash).slice(0, 12)}… chained to ${String(prevHash).slice(0, 12)}…`;
}

const first = await plant.read();
say("  snapshot, pump 7 before the fault (Modbus; the alarm text over MQTT):");
const cells = first
  .entries()
  .map(
    ([name, sample]) =>
      `${name} ${sample.quality !== "good" ? sample.quality : typeof sample.value === "string" ? JSON.stringify(sample.value) : String(sample.value)}`,
  );
for (let row = 0; row < cells.length; row += 4) say(`    ${cells.slice(row, row + 4).join(" · ")}`);
say();

const advisor = createLoop(plant, {
  name: "pump7-speed-advisor",
  // Asked only when something moves enough to matter, and has stayed moved for 2 s: pressure by 0.15 bar,
  // vibration by 1.5 mm/s. Cavitation makes both noisy; the hold keeps the model from chasing the noise.
  trigger: onChange(["pressure", "vibration"], {
    deadband: { pressure: 0.15, vibration: 1.5 },
    settleMs: 300,
    holdMs: 2000,
  }),
  model,
  guard,
  budget: { modelCallsPerHour: 120 },
  async run({ snapshot, model: budgeted, propose }) {
    const context = encodeSnapshot(snapshot);
    say(
      `── advisor (Modbus): pressure ${snapshot.value("pressure").toFixed(2)} bar, vibration ${snapshot.valueOr("vibration", 0).toFixed(1)} mm/s, speed setpoint ${snapshot.value("speedSetpoint")} rpm`,
    );
    say(`   context sent to the model: ${countTokens(context.text)} o200k tokens, a stable tag header, then:`);
    for (const line of context.body.split("\n").slice(0, 5)) say(`     ${line}`);
    say("     …");
    const advice = await budgeted!.generate({
      instructions: `Hold outlet pressure near ${target} bar with the least vibration. Answer with a speed setpoint in rpm.`,
      context: snapshot,
      output: Advice,
    });
    say(`   model: speed ${advice.speed} rpm — ${advice.why}`);
    if (advice.speed === snapshot.value("speedSetpoint")) return say("   no change proposed");
    const [proposal] = await propose({ speedSetpoint: advice.speed }, { reason: advice.why });
    if (!proposal) return;
    const failed = proposal.verdicts.filter((verdict) => !verdict.passed);
    say(
      `   proposal ${proposal.id}: speedSetpoint ${snapshot.value("speedSetpoint")} → ${advice.speed} rpm; guard: ${proposal.state}${failed.length ? ` (${failed.map((verdict) => `${verdict.code}: ${verdict.detail}`).join("; ")})` : ", every check passed"}`,
    );
    if (proposal.state !== "pending") return;
    const done = await guard.approve(proposal.id, {
      by: "demo (auto-approved: in a plant a person runs plantwire approve)",
    });
    written++;
    say("   approved automatically FOR THE DEMO (in a plant: npx plantwire approve <id> --by <name>)");
    say(
      `   write ${done.outcome?.write}, read back over Modbus: ${done.outcome?.readBack} (${String(done.outcome?.readBackValue)} rpm)`,
    );
    say(`   audit ${auditLine()}`);
  },
});

const explainer = await startAlarmExplainer({
  opcuaUrl: simulator.urls.opcua as string,
  pkiFolder: join(folder, "pki"),
  mqttUrl: simulator.urls.mqtt as string,
  shiftLogUrl,
  audit: join(folder, "alarm-explainer-audit.jsonl"),
  model: explainerModel.model,
  log: (lines) => {
    const [first, ...rest] = lines.split("\n");
    say(`── alarm explainer (OPC UA alarm bit → window → model → MQTT event + SQL shift-log row): ${first}`);
    for (const line of rest) say(`   ${line.trim()}`);
  },
});
await advisor.start();
const faultAt = Math.max(1, Math.round(seconds * 0.25));
const faultTimer = setTimeout(() => {
  say(
    `\n>> injecting a fault after ${faultAt} s: cavitation at pump 7 (the simulator runs 30× faster than real time)\n`,
  );
  void simulator.setFault("cavitation", true);
}, faultAt * 1000);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
clearTimeout(faultTimer);

const metrics = advisor.metrics();
const explanations = explainer.loop.metrics();
await shutdown({
  loops: [advisor, explainer.loop],
  guard,
  plant,
  also: [explainer.guard, explainer.plant, explainer.bus, explainer.shiftLog],
  log: () => {},
});
// The shift log, read back over SQL with a named query (the only SQL text plantwire runs that it did not write).
const shiftLog = sql({
  url: shiftLogUrl,
  name: "shift-log",
  queries: {
    rows: {
      sql: "SELECT kind, message FROM plantwire_events ORDER BY time",
      parameters: z.object({}),
      columns: z.object({ kind: z.string(), message: z.string() }),
    },
  },
});
await shiftLog.connect();
const rows = await shiftLog.query("rows", {});
await shiftLog.close();
await simulator.close();
const verification = verifyAuditLog(audit);
say("\nSummary");
say(`  advisor runs ${metrics.runs}, model calls ${metrics.modelRequests + explanations.modelRequests}`);
say(`  proposals: ${metrics.proposals.rejected} rejected by the guard, ${written} approved, written and read back`);
say(`  alarm explanations ${explanations.runs}; shift log (SQL) holds ${rows.length} rows:`);
for (const row of rows) say(`    ${row.kind}: ${row.message}`);
say(
  `  audit ${verification.ok ? `OK, ${verification.records} records, chain intact` : `BROKEN at line ${verification.line}`}`,
);
say(
  keep
    ? `  files kept (--keep): ${folder} (audit.jsonl, historian.db, shift-log.db)`
    : "  files: removed with their temporary folder (npm run demo -- --keep keeps them)",
);
say("Next: README.md, docs/examples.md, docs/safety.md.");
process.exitCode = verification.ok ? 0 : 1;
