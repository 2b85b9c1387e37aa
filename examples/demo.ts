/**
 * `npm run demo`: the main job end to end, offline. Starts the plant simulator (a pumping station over Modbus, OPC UA,
 * MQTT and a SQLite historian), runs a speed advisor and an alarm explainer against it, injects a fault, and shows
 * every step: the snapshot, the compact context and its token count, the proposal, the guard's verdict, the approval
 * (automatic in the demo, and it says so), the write, the read-back and the audit record. Ends by itself.
 * PLANTWIRE_DEMO_SECONDS sets the length (default 40; CI runs a short one).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  anyOf,
  countTokens,
  createGuard,
  createLoop,
  createPlant,
  encodeSnapshot,
  onChange,
  shutdown,
  verifyAuditLog,
  whenTag,
} from "plantwire";
import { modbus } from "plantwire/modbus";
import { mqtt } from "plantwire/mqtt";
import { startPlantSimulator } from "../src/sim/plant-simulator.js";
import { Advice, demoModel, demoTags, Explanation } from "./station-demo-parts.js";

const seconds = Number(process.env.PLANTWIRE_DEMO_SECONDS ?? 40);
const target = 3.9; // bar
const say = (text = "") => console.log(text);
const folder = mkdtempSync(join(tmpdir(), "plantwire-demo-"));
let written = 0;

say("plantwire demo: a simulated pumping station, a model, the write guard and the audit, on this machine only\n");
const simulator = await startPlantSimulator({
  modbus: { port: 0 },
  opcua: false, // the OPC UA view is there too (npx plantwire sim); the demo keeps start-up short
  mqtt: { port: 0 },
  historian: { file: join(folder, "historian.db") },
  tickMs: 250,
  speedup: 30,
});
for (const [protocol, url] of Object.entries(simulator.urls)) say(`  simulator ${protocol.padEnd(9)} ${url}`);

const drive = modbus({ url: simulator.urls.modbus as string, unit: 1, name: "drive" });
const bus = mqtt({ url: simulator.urls.mqtt as string, name: "bus" });
const plant = createPlant({ tags: demoTags(drive, bus), pollIntervalMs: 500, onError: () => {} });
const audit = join(folder, "audit.jsonl");
const guard = createGuard({ plant, audit });
const { model, description } = demoModel(target);
say("  guard     speed setpoint: 600..1500 rpm, at most 100 rpm per write, 10 s between writes, approval required");
say(`  model     ${description}`);
say(`  audit     ${audit}\n`);

const advisor = createLoop(plant, {
  name: "pump7-speed-advisor",
  // Asked only when something moves enough to matter: pressure by 0.15 bar, vibration by 1.5 mm/s.
  trigger: anyOf(
    onChange(["pressure"], { deadband: 0.15, settleMs: 300 }),
    onChange(["vibration"], { deadband: 1.5, settleMs: 300 }),
  ),
  model,
  guard,
  budget: { modelCallsPerHour: 120 },
  async run({ snapshot, model: budgeted, propose }) {
    const context = encodeSnapshot(snapshot);
    say(
      `── advisor run: pressure ${snapshot.value("pressure").toFixed(2)} bar, vibration ${snapshot.valueOr("vibration", 0).toFixed(1)} mm/s`,
    );
    say(
      `   context sent to the model: ${countTokens(context.text)} o200k tokens (a stable tag header, then values like):`,
    );
    for (const line of context.body.split("\n").slice(0, 4)) say(`     ${line}`);
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
      `   guard: ${proposal.state}${failed.length ? ` (${failed.map((verdict) => `${verdict.code}: ${verdict.detail}`).join("; ")})` : ", every check passed"}`,
    );
    if (proposal.state !== "pending") return;
    const done = await guard.approve(proposal.id, {
      by: "demo (auto-approved: in a plant a person runs plantwire approve)",
    });
    written++;
    say(
      `   approved automatically FOR THE DEMO; write ${done.outcome?.write}, read-back ${done.outcome?.readBack} (${String(done.outcome?.readBackValue)} rpm)`,
    );
  },
});

const explainer = createLoop(plant, {
  name: "alarm-explainer",
  trigger: whenTag("alarm", (on) => on === true),
  model,
  async run({ snapshot, model: budgeted }) {
    const text = snapshot.valueOr("alarmText", "(alarm text not available)");
    const explanation = await budgeted!.generate({
      instructions: "Explain the likely cause of this alarm for the shift operator.",
      context: snapshot,
      output: Explanation,
    });
    say(`── ALARM: ${text}`);
    say(`   likely cause: ${explanation.likelyCause}; suggested action: ${explanation.action}`);
  },
});

await advisor.start();
await explainer.start();
const faultAt = Math.max(1, Math.round(seconds * 0.3));
const faultTimer = setTimeout(() => {
  say(
    `\n>> injecting a fault after ${faultAt} s: cavitation at pump 7 (the simulator runs 30× faster than real time)\n`,
  );
  void simulator.setFault("cavitation", true);
}, faultAt * 1000);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
clearTimeout(faultTimer);

const metrics = advisor.metrics();
await shutdown({ loops: [advisor, explainer], guard, plant, log: () => {} });
await simulator.close();
const verification = verifyAuditLog(audit);
say("\nSummary");
say(`  advisor runs ${metrics.runs}, model calls ${metrics.modelRequests + explainer.metrics().modelRequests}`);
say(`  proposals: ${metrics.proposals.rejected} rejected by the guard, ${written} approved, written and read back`);
say(`  alarm explanations ${explainer.metrics().runs}`);
say(
  `  audit ${verification.ok ? `OK, ${verification.records} records, chain intact` : `BROKEN at line ${verification.line}`} (${audit})`,
);
say("Next: README.md, docs/simulator.md, docs/safety.md.");
process.exitCode = verification.ok ? 0 : 1;
