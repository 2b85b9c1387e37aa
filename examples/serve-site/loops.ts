/**
 * The loops of the serve-site example: one advisor that proposes a pump-speed setpoint when the outlet pressure or
 * the vibration moves, from a plain-function model (a rule; swap in `openaiModel()` for an LLM). It proposes through
 * the proposer-only guard `plantwire serve` gives it: a person approves in the console or with `plantwire approve`.
 */
import { createLoop, functionModel, onChange, type SiteLoops, type Snapshot } from "plantwire";
import { z } from "zod";

/** The model's answer. */
const Advice = z.object({ speed: z.number(), why: z.string() });

/** Outlet pressure to hold, in bar. */
const target = Number(process.env.PLANTWIRE_TARGET_BAR ?? 3.9);

/** A rule standing in for a model: hold the pressure near the target, back off on high vibration. */
const speedRule = functionModel(
  ({ context }) => {
    const snapshot = context as Snapshot;
    const pressure = snapshot.value("pressure") as number;
    const speed = snapshot.value("speedSetpoint") as number;
    const vibration = snapshot.valueOr("vibration", 0) as number;
    const step = vibration > 7 ? -60 : pressure < target - 0.1 ? 40 : pressure > target + 0.1 ? -40 : 0;
    const why =
      vibration > 7
        ? `vibration ${vibration.toFixed(1)} mm/s is high: slow down`
        : `pressure ${pressure.toFixed(2)} bar vs target ${target} bar`;
    return { speed: Math.round(speed + step), why };
  },
  { name: "speed rule" },
);

const loops: SiteLoops = ({ plant, guard }) => [
  createLoop(plant, {
    name: "pump7-speed-advisor",
    trigger: onChange(["pressure", "vibration"], { deadband: { pressure: 0.1, vibration: 1 }, settleMs: 300 }),
    model: speedRule,
    guard,
    budget: { modelCallsPerHour: 600 },
    async run({ snapshot, model, propose }) {
      // One question to a person at a time: a new proposal would replace the one they may be reading.
      if (guard.pending().some((proposal) => proposal.tag === "speedSetpoint")) return;
      const advice = await model!.generate({
        instructions: `Hold outlet pressure near ${target} bar with the least vibration. Answer with a speed in rpm.`,
        context: snapshot,
        output: Advice,
      });
      if (advice.speed === snapshot.valueOr("speedSetpoint", advice.speed)) return;
      await propose({ speedSetpoint: advice.speed }, { reason: advice.why });
    },
  }),
];

export default loops;
