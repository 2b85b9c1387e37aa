/**
 * Plant problem: hold pump 7's outlet pressure near a target by advising the drive's speed setpoint over Modbus.
 * The model is asked when the pressure moves; its advice becomes a proposal that the guard checks and holds until a
 * person approves it (`plantwire approve <id> --by <name>`); then it is written once and read back.
 * Run against the simulator: `npx plantwire sim` in one terminal, `npx tsx examples/setpoint-advisor.ts` in another.
 * The tags come from the simulator's Modbus tag-map file (tag-maps/pump-station/modbus.yaml); for a plant, load the
 * site's own file instead.
 */
import { createGuard, createLoop, createPlant, loadTagMap, type Model, onChange, shutdownOnSignals } from "plantwire";
import { modbus } from "plantwire/modbus";
import { stationTagMapFile } from "plantwire/simulator";
import { Advice, demoModel } from "./station-demo-parts.js";

export interface SetpointAdvisorOptions {
  /** @default "modbus+tcp://127.0.0.1:5020" (the simulator) */
  modbusUrl?: string;
  /** @default the configured OpenAI-compatible endpoint, else the rule-based stand-in */
  model?: Model;
  /** @default 3.9 bar */
  targetBar?: number;
  /** @default "./audit.jsonl" */
  audit?: string;
  /** @default ".plantwire/approvals" */
  approvals?: string;
}

export async function startSetpointAdvisor(options: SetpointAdvisorOptions = {}) {
  const target = options.targetBar ?? 3.9;
  const drive = modbus({ url: options.modbusUrl ?? "modbus+tcp://127.0.0.1:5020", unit: 1, name: "drive" });
  // The file holds the setpoint's write limits too (range, step, interval, approval): the guard enforces those.
  // `expect` names the tags this script relies on; a file without them, or with other types, fails to load.
  const tags = await loadTagMap(stationTagMapFile("modbus"), {
    adapters: { drive },
    expect: { pressure: "float", vibration: "float", speedSetpoint: "float" },
  });
  const plant = createPlant({ tags });
  const guard = createGuard({
    plant,
    audit: options.audit ?? "./audit.jsonl",
    approvals: options.approvals ?? ".plantwire/approvals",
  });
  const loop = createLoop(plant, {
    name: "setpoint-advisor",
    trigger: onChange(["pressure"], { deadband: 0.15 }),
    model: options.model ?? demoModel(target).model,
    guard,
    budget: { modelCallsPerHour: 60 },
    async run({ snapshot, model, propose }) {
      const advice = await model!.generate({
        instructions: `Hold outlet pressure near ${target} bar with the least vibration. Answer with a speed setpoint in rpm.`,
        context: snapshot,
        output: Advice,
      });
      if (advice.speed !== snapshot.value("speedSetpoint"))
        await propose({ speedSetpoint: advice.speed }, { reason: advice.why });
    },
  });
  await loop.start();
  return { plant, guard, loop };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { plant, guard, loop } = await startSetpointAdvisor();
  console.log("setpoint advisor running; proposals wait for: npx plantwire proposals / approve <id> --by <name>");
  shutdownOnSignals({ loops: [loop], guard, plant });
}
