/**
 * Plant problem: hold pump 7's outlet pressure near 6 bar with the least vibration. The model is asked only when
 * pressure or vibration changes; its advice becomes a proposal that the guard checks, audits, and holds for a
 * person's approval (`plantwire approve <id> --by <name>`). This is the README's glue script, type-checked and run
 * in the tests against the local OpenAI-compatible test server.
 */

import { createGuard, createLoop, createPlant, defineTags, float, type Model, onChange, openaiModel } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { z } from "zod";

const Advice = z.object({ speed: z.number(), why: z.string() });

export async function startSpeedAdvisor(options: { model?: Model; audit?: string; approvals?: string } = {}) {
  const drive = memoryAdapter({ name: "drive", values: { speed: 1180, pressure: 6.1, vibration: 2.2 } });
  const tags = defineTags({
    speed: float({
      unit: "rpm",
      range: [0, 1800],
      source: drive.key("speed"),
      write: { range: [600, 1500], maxStep: 50, minIntervalMs: 60_000, approval: "required" },
    }),
    pressure: float({
      unit: "bar",
      range: [0, 16],
      resolution: 0.01,
      deadband: 0.2,
      staleAfterMs: 5000,
      source: drive.key("pressure"),
    }),
    vibration: float({ unit: "mm/s", range: [0, 50], deadband: 0.5, source: drive.key("vibration") }),
  });
  const plant = createPlant({ tags });
  const guard = createGuard({
    plant,
    audit: options.audit ?? "./audit.jsonl",
    approvals: options.approvals ?? ".plantwire/approvals",
  });
  const advisor = createLoop(plant, {
    name: "pump7-speed-advisor",
    trigger: onChange(["pressure", "vibration"]),
    model: options.model ?? openaiModel(),
    guard,
    budget: { modelCallsPerHour: 30 },
    async run({ snapshot, model, propose }) {
      const advice = await model!.generate({
        instructions: "Hold outlet pressure near 6 bar with the least vibration.",
        context: snapshot,
        output: Advice,
      });
      await propose({ speed: advice.speed }, { reason: advice.why });
    },
  });
  await advisor.start();
  return { drive, plant, guard, advisor };
}
