/**
 * What `plantwire serve` shows and does with a loop: pause and resume by a person (trigger firings are held and
 * counted, not run), and the report behind the Loops page (state, trigger, last run, last error, budget, model calls
 * and tokens). On the memory adapter, with manual triggers.
 */
import { createLoop, createPlant, defineTags, float, functionModel, onEvent } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { loopView } from "../../src/serve/serve-views.js";

function station() {
  const drive = memoryAdapter({ name: "drive", values: { pressure: 6 } });
  const tags = defineTags({ pressure: float({ unit: "bar", source: drive.key("pressure") }) });
  return createPlant({ tags, onError: () => {} });
}

describe("loop pause, resume and report", () => {
  it("holds trigger firings while paused, counts them, and runs again after resume", async () => {
    const plant = station();
    let runs = 0;
    const loop = createLoop(plant, {
      name: "counter",
      trigger: onEvent("tick", () => () => {}),
      run: () => {
        runs++;
      },
    });
    await loop.start();
    loop.trigger();
    await loop.idle();
    expect(runs).toBe(1);
    loop.pause("erin");
    expect(loop.status()).toEqual({ state: "paused", reason: "paused by erin" });
    loop.trigger();
    loop.trigger();
    await loop.idle();
    expect(runs).toBe(1);
    expect(loop.metrics().pausedRuns).toBe(2);
    expect(loop.report()).toMatchObject({ state: "paused", pausedBy: "erin" });
    expect(loopView(loop.report())).toMatchObject({ state: "paused", reason: "paused by erin" });
    loop.resume();
    expect(loop.status().state).toBe("idle");
    loop.trigger();
    await loop.idle();
    expect(runs).toBe(2);
    await loop.stop();
    expect(loopView(loop.report()).state).toBe("stopped");
    await plant.close();
  });

  it("reports the trigger, the last run, model calls, tokens, the budget and the last error", async () => {
    const plant = station();
    let fail = false;
    const model = functionModel(() => ({ speed: 1 }), { name: "rule" });
    const loop = createLoop(plant, {
      name: "advisor",
      trigger: onEvent("tick", () => () => {}),
      model,
      budget: { modelCallsPerHour: 10 },
      onError: () => {},
      async run({ model: budgeted }) {
        await budgeted?.generate({ instructions: "x", output: z.object({ speed: z.number() }) });
        if (fail) throw new Error("the model's answer made no sense");
      },
    });
    await loop.start();
    const before = Date.now();
    loop.trigger();
    await loop.idle();
    const first = loop.report();
    expect(first).toMatchObject({
      name: "advisor",
      trigger: expect.stringContaining("tick"),
      lastRunFailed: false,
      modelCalls: 1,
      budget: { used: 1, limit: 10, unit: "calls per hour" },
    });
    expect(first.lastRunAt).toBeGreaterThanOrEqual(before);
    expect(loopView(first)).toMatchObject({ state: "running", modelCalls: 1, budget: { used: 1, limit: 10 } });
    fail = true;
    loop.trigger();
    await loop.idle();
    const failed = loopView(loop.report());
    expect(failed).toMatchObject({ state: "failed", lastError: expect.stringContaining("made no sense") });
    expect(failed.budget).toEqual({ used: 2, limit: 10 });
    fail = false;
    loop.trigger();
    await loop.idle();
    expect(loopView(loop.report()).state).toBe("running");
    await loop.stop();
    await plant.close();
  });
});
