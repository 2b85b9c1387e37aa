import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AnyTag,
  anyOf,
  boolean,
  ConfigError,
  createGuard,
  createLoop,
  createPlant,
  defineTags,
  every,
  float,
  type Model,
  type ModelResult,
  onChange,
  onEvent,
  serveMetrics,
  type TriggerCause,
  whenTag,
} from "plantwire";
import { memoryAdapter, waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";

function station() {
  const drive = memoryAdapter({ name: "drive", values: { pressure: 6, vibration: 2, alarm: false, speed: 1000 } });
  const tags = defineTags({
    pressure: float({ unit: "bar", range: [0, 16], deadband: 0.2, source: drive.key("pressure") }),
    vibration: float({ unit: "mm/s", source: drive.key("vibration") }),
    alarm: boolean({ source: drive.key("alarm") }),
    speed: float({
      unit: "rpm",
      range: [0, 1800],
      source: drive.key("speed"),
      write: { range: [600, 1500], maxStep: 100 },
    }),
  });
  const plant = createPlant({ tags, pollIntervalMs: 20, onError: () => {} });
  return { drive, tags, plant };
}

/** A model that answers with a fixed value and reports `tokens` per call, counting calls. */
function countingModel(tokens: number): Model & { calls: number } {
  let calls = 0;
  const usage = { requests: 1, promptTokens: tokens, cachedTokens: 0, completionTokens: 0 };
  const model = {
    name: "test:counting",
    get calls() {
      return calls;
    },
    get usage() {
      return { ...usage, requests: calls, promptTokens: tokens * calls };
    },
    async run<T>(request: { output: z.ZodType<T> }): Promise<ModelResult<T>> {
      calls++;
      const output = request.output.parse({ speed: 1050 });
      return { output, rawText: "{}", usage, proposals: [], steps: 1 };
    },
    async generate<T>(request: { output: z.ZodType<T> }): Promise<T> {
      return (await model.run(request)).output;
    },
  };
  return model as unknown as Model & { calls: number };
}

describe("loops", () => {
  it("onChange runs once per burst of changes past the deadband, not for first values", async () => {
    const { drive, plant } = station();
    const causes: TriggerCause[] = [];
    const loop = createLoop(plant, {
      name: "watch",
      trigger: onChange(["pressure", "vibration"], { settleMs: 50 }),
      run: ({ cause }) => void causes.push(cause as TriggerCause),
    });
    await loop.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(causes).toHaveLength(0);
    drive.set("pressure", 6.1); // inside the 0.2 bar deadband
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(causes).toHaveLength(0);
    drive.set("pressure", 7);
    drive.set("vibration", 4);
    await waitFor(() => causes.length >= 1);
    await loop.idle();
    expect(causes).toHaveLength(1);
    expect(causes[0]?.changes?.map((change) => change.name).sort()).toEqual(["pressure", "vibration"]);
    await loop.stop();
    await plant.close();
  });

  it("never overlaps runs: skips by default, queues when asked", async () => {
    for (const overlap of ["skip", "queue"] as const) {
      const { plant } = station();
      let concurrent = 0;
      let maxConcurrent = 0;
      let runs = 0;
      const loop = createLoop(plant, {
        name: `slow-${overlap}`,
        overlap,
        trigger: onEvent("manual", () => () => {}),
        async run() {
          concurrent++;
          runs++;
          maxConcurrent = Math.max(maxConcurrent, concurrent);
          await new Promise((resolve) => setTimeout(resolve, 50));
          concurrent--;
        },
      });
      await loop.start();
      for (let index = 0; index < 5; index++) loop.trigger();
      await loop.idle();
      expect(maxConcurrent).toBe(1);
      expect(runs).toBe(overlap === "skip" ? 1 : 5);
      expect(loop.metrics().skippedRuns).toBe(overlap === "skip" ? 4 : 0);
      await loop.stop();
      await plant.close();
    }
  });

  it("pauses when the model budget is spent, and resumes when the window frees up", async () => {
    const { plant } = station();
    let clock = 1_000_000;
    const model = countingModel(100);
    const loop = createLoop(plant, {
      name: "budgeted",
      trigger: onEvent("manual", () => () => {}),
      model,
      budget: { modelCallsPerHour: 2 },
      now: () => clock,
      async run({ model: budgeted }) {
        await budgeted?.generate({ instructions: "advise", output: z.object({ speed: z.number() }) });
      },
    });
    await loop.start();
    for (let index = 0; index < 3; index++) {
      loop.trigger();
      await loop.idle();
    }
    expect(model.calls).toBe(2);
    expect(loop.status()).toMatchObject({ state: "paused", reason: expect.stringContaining("budget") });
    expect(loop.metrics()).toMatchObject({ runs: 2, pausedRuns: 1, modelRequests: 2, promptTokens: 200 });
    clock += 3_600_001;
    loop.trigger();
    await loop.idle();
    expect(model.calls).toBe(3);
    expect(loop.status().state).toBe("idle");
    await loop.stop();
    await plant.close();
  });

  it("pauses on a token budget too", async () => {
    const { plant } = station();
    const model = countingModel(600);
    const loop = createLoop(plant, {
      name: "tokens",
      trigger: onEvent("manual", () => () => {}),
      model,
      budget: { tokensPerDay: 1000 },
      run: ({ model: budgeted }) => budgeted?.generate({ instructions: "x", output: z.object({ speed: z.number() }) }),
    });
    await loop.start();
    for (let index = 0; index < 4; index++) {
      loop.trigger();
      await loop.idle();
    }
    expect(model.calls).toBe(2);
    expect(loop.status().state).toBe("paused");
    await loop.stop();
    await plant.close();
  });

  it("whenTag fires when the alarm bit rises, not while it stays on, and anyOf combines triggers", async () => {
    const { drive, plant } = station();
    const kinds: string[] = [];
    const loop = createLoop(plant, {
      name: "alarm",
      overlap: "queue",
      trigger: anyOf(
        whenTag("alarm", (on) => on === true),
        every(60_000),
      ),
      run: ({ cause }) => void kinds.push(cause.kind),
    });
    await loop.start();
    await new Promise((resolve) => setTimeout(resolve, 60));
    drive.set("alarm", true);
    await waitFor(() => kinds.length >= 1);
    drive.set("vibration", 9); // unrelated: no run
    await new Promise((resolve) => setTimeout(resolve, 100));
    drive.set("alarm", false);
    await new Promise((resolve) => setTimeout(resolve, 60));
    drive.set("alarm", true);
    await waitFor(() => kinds.length >= 2);
    await loop.idle();
    expect(kinds).toEqual(["state", "state"]);
    await loop.stop();
    await plant.close();
  });

  it("will not start on a trigger that names a tag the plant does not have", async () => {
    const { plant } = station();
    const misspelt = [
      createLoop(plant, { name: "change", trigger: onChange(["presure" as never]), run: () => {} }),
      createLoop(plant, { name: "state", trigger: whenTag("alrm" as never, (on) => on === true), run: () => {} }),
    ];
    for (const loop of misspelt) {
      const error = await loop.start().catch((caught: unknown) => caught);
      expect(ConfigError.isInstance(error), String(error)).toBe(true);
      expect(String(error)).toMatch(/"(presure|alrm)": is not a tag of this plant/);
      await loop.stop();
    }
    await plant.close();
  });

  it("proposes only through its guard, with the loop and model named in the audit", async () => {
    const { drive, plant } = station();
    const audit = join(mkdtempSync(join(tmpdir(), "plantwire-loop-")), "audit.jsonl");
    const guard = createGuard({ plant, audit });
    const model = countingModel(10);
    const loop = createLoop(plant, {
      name: "advisor",
      guard,
      model,
      trigger: onEvent("manual", () => () => {}),
      async run({ model: budgeted, propose }) {
        const advice = await budgeted!.generate({ instructions: "advise", output: z.object({ speed: z.number() }) });
        await propose({ speed: advice.speed }, { reason: "test" });
      },
    });
    await loop.start();
    loop.trigger();
    await loop.idle();
    expect(loop.metrics().proposals.pending).toBe(1);
    const [pending] = guard.pending();
    expect(pending?.origin).toMatchObject({ loop: "advisor", modelId: "test:counting" });
    expect(drive.writes).toHaveLength(0);

    const errors: unknown[] = [];
    const unguarded = createLoop(plant, {
      name: "unguarded",
      trigger: onEvent("manual", () => () => {}),
      onError: (error) => errors.push(error),
      run: ({ propose }) => propose({ speed: 1010 }, { reason: "x" }),
    });
    await unguarded.start();
    unguarded.trigger();
    await unguarded.idle();
    expect(ConfigError.isInstance(errors[0])).toBe(true);
    await Promise.all([loop.stop(), unguarded.stop()]);
    await guard.close();
    await plant.close();
  });

  it("abandons a run that does not finish when stopped, through its abort signal", async () => {
    const { plant } = station();
    let aborted = false;
    const loop = createLoop(plant, {
      name: "stuck",
      trigger: onEvent("manual", () => () => {}),
      run: ({ signal }) =>
        new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve();
          });
        }),
    });
    await loop.start();
    loop.trigger();
    await loop.stop({ abandonAfterMs: 50 });
    expect(aborted).toBe(true);
    expect(loop.status().state).toBe("stopped");
    await plant.close();
  });

  it("serves loop and adapter metrics in the Prometheus format on loopback", async () => {
    const { plant } = station();
    await plant.connect();
    const loop = createLoop(plant, { name: "metered", trigger: onEvent("manual", () => () => {}), run: () => {} });
    await loop.start();
    loop.trigger();
    await loop.idle();
    const server = await serveMetrics({ loops: [loop], plant, port: 0 });
    const { port } = server.address() as { port: number };
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toContain('plantwire_loop_runs{loop="metered"} 1');
    expect(text).toContain('plantwire_adapter_up{adapter="drive",state="connected"} 1');
    await new Promise((resolve) => server.close(resolve));
    await loop.stop();
    await plant.close();
    expect((plant.tags.speed as AnyTag).type).toBe("float");
  });

  it("keeps the budget when a run calls the model in parallel", async () => {
    const { plant } = station();
    const model = countingModel(1);
    const loop = createLoop(plant, {
      name: "parallel",
      trigger: onEvent("manual", () => () => {}),
      model,
      budget: { modelCallsPerHour: 2 },
      onError: () => {},
      run: ({ model: budgeted }) =>
        Promise.allSettled(
          Array.from({ length: 10 }, () =>
            budgeted?.generate({ instructions: "x", output: z.object({ speed: z.number() }) }),
          ),
        ),
    });
    await loop.start();
    loop.trigger();
    await loop.idle();
    expect(model.calls).toBe(2);
    await loop.stop();
    await plant.close();
  });

  it("an abandoned run can no longer propose writes", async () => {
    const { drive, plant } = station();
    const audit = join(mkdtempSync(join(tmpdir(), "plantwire-loop-")), "audit.jsonl");
    const guard = createGuard({ plant, audit, mode: "automatic" });
    let refused: unknown;
    const loop = createLoop(plant, {
      name: "late",
      guard,
      trigger: onEvent("manual", () => () => {}),
      async run({ propose, signal }) {
        await new Promise((resolve) => signal.addEventListener("abort", resolve));
        await new Promise((resolve) => setTimeout(resolve, 20));
        refused = await propose({ speed: 1010 }, { reason: "too late" }).then(
          () => undefined,
          (error: unknown) => error,
        );
      },
    });
    await loop.start();
    loop.trigger();
    await loop.stop({ abandonAfterMs: 10 });
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(String(refused)).toContain("was stopped");
    expect(drive.writes).toHaveLength(0);
    await guard.close();
    await plant.close();
  });
});

/** Every value reachable from `root` through own properties (not prototypes), with the path that reaches it. */
function reachable(root: unknown, limit = 10_000): { path: string; key: PropertyKey; value: unknown }[] {
  const found: { path: string; key: PropertyKey; value: unknown }[] = [];
  const seen = new Set<unknown>();
  const queue: { value: unknown; path: string }[] = [{ value: root, path: "context" }];
  while (queue.length > 0 && found.length < limit) {
    const { value, path } = queue.shift()!;
    if ((typeof value !== "object" && typeof value !== "function") || value === null || seen.has(value)) continue;
    seen.add(value);
    for (const key of Reflect.ownKeys(value)) {
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      const item = descriptor && "value" in descriptor ? descriptor.value : undefined;
      found.push({ path: `${path}.${String(key)}`, key, value: item });
      queue.push({ value: item, path: `${path}.${String(key)}` });
    }
  }
  return found;
}

describe("a loop run cannot reach an adapter's raw write", () => {
  it("exposes no write function anywhere in its context, and sealed adapters refuse use", async () => {
    const { drive, plant } = station();
    let context: unknown;
    const loop = createLoop(plant, {
      name: "sealed",
      model: countingModel(1),
      trigger: onEvent("manual", () => () => {}),
      run: (runContext) => {
        context = runContext;
      },
    });
    await loop.start();
    loop.trigger();
    await loop.idle();
    const everything = reachable(context);
    expect(everything.length).toBeGreaterThan(20);
    const writers = everything.filter(
      ({ key, value }) => typeof value === "function" && (key === "write" || key === "subscribe"),
    );
    expect(writers.map(({ path }) => path)).toEqual([]);
    const adapters = everything.filter(
      ({ value }) => typeof value === "object" && value !== null && "contractVersion" in value,
    );
    expect(adapters.length).toBeGreaterThan(0);
    for (const { value } of adapters) {
      expect((value as { capabilities: { write: boolean } }).capabilities.write).toBe(false);
      expect(() => (value as { read: () => unknown }).read()).toThrow(/cannot be used from a loop run/);
      expect((value as { getInstance: () => unknown }).getInstance()).toBeUndefined();
    }
    expect(drive.writes).toHaveLength(0);
    await loop.stop();
    await plant.close();
  });
});
