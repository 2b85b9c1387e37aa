/**
 * T17: a tag's write policy cannot be widened after the guard exists — not from a loop's run(), not from a tool
 * handler, not through the loaded map, not through a plain object the plant was given.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createGuard,
  createLoop,
  createPlant,
  defineTags,
  enumeration,
  float,
  loadTagMap,
  onEvent,
  type Proposal,
  plantTools,
  type TagDefinitions,
} from "plantwire";
import { memoryAdapter, waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";

const folder = () => mkdtempSync(join(tmpdir(), "plantwire-t17-"));

function definitions(drive: ReturnType<typeof memoryAdapter>) {
  return {
    speed: float({
      unit: "rpm",
      range: [0, 1800],
      source: drive.key("speed"),
      write: { range: [600, 1500], maxStep: 50, approval: "automatic", automaticRange: [900, 1050] },
    }),
    mode: enumeration({
      states: { OFF: 0, AUTO: 1, MANUAL: 2 },
      source: drive.key("mode"),
      write: { states: ["AUTO"] },
    }),
  } as const;
}

/** Every way the policy could be widened, each attempted on its own; returns how many threw. */
function tryToWiden(tags: TagDefinitions): number {
  const attempts: (() => void)[] = [
    () => {
      (tags.speed!.write!.range as unknown as number[])[1] = 1e6;
    },
    () => {
      (tags.speed!.write!.automaticRange as unknown as number[])[1] = 1e6;
    },
    () => {
      (tags.speed!.write as { maxStep: number }).maxStep = 1e6;
    },
    () => {
      (tags.speed!.write as { approval: string }).approval = "automatic";
    },
    () => {
      (tags.speed as { write: unknown }).write = { range: [0, 1e6] };
    },
    () => {
      ((tags.speed as { range: unknown }).range as number[])[1] = 1e6;
    },
    () => {
      (tags.mode!.write!.states as string[]).push("MANUAL", "OFF");
    },
    () => {
      ((tags.mode as { states: Record<string, number> }).states as Record<string, number>).ROGUE = 9;
    },
  ];
  let threw = 0;
  for (const attempt of attempts) {
    try {
      attempt();
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
      threw++;
    }
  }
  return threw;
}

async function verdictsAfter(tags: TagDefinitions, drive: ReturnType<typeof memoryAdapter>) {
  const plant = createPlant({ tags });
  const guard = createGuard({ plant, audit: join(folder(), "audit.jsonl"), mode: "automatic" });
  const widened = tryToWiden(tags);
  const [fast] = await guard.propose({ speed: 9000 }, { reason: "r" });
  const [step] = await guard.propose({ speed: 1200 }, { reason: "r" });
  const [state] = await guard.propose({ mode: "MANUAL" }, { reason: "r" });
  await guard.close();
  await plant.close();
  return { widened, fast, step, state, writes: drive.writes.length };
}

describe("T17 policy frozen for good", () => {
  it("a defineTags map cannot be changed at any depth", async () => {
    const drive = memoryAdapter({ name: "drive", values: { speed: 1000, mode: "AUTO" } });
    const tags = defineTags(definitions(drive));
    const result = await verdictsAfter(tags, drive);
    expect(result.widened).toBe(8);
    expect(result.fast?.verdicts.find((verdict) => !verdict.passed)?.code).toBe("out-of-range");
    expect(result.step?.verdicts.find((verdict) => !verdict.passed)?.code).toBe("step-too-large");
    expect(result.state?.verdicts.find((verdict) => !verdict.passed)?.code).toBe("state-not-allowed");
    expect(result.writes).toBe(0);
  });

  it("a loaded tag map cannot be changed either", async () => {
    const drive = memoryAdapter({ name: "drive", values: { speed: 1000, mode: "AUTO" } });
    const file = join(folder(), "tags.yaml");
    writeFileSync(
      file,
      [
        "tags:",
        "  speed:",
        "    type: float",
        "    range: [0, 1800]",
        "    source: { adapter: drive, key: speed }",
        "    write: { range: [600, 1500], maxStep: 50, approval: automatic, automaticRange: [900, 1050] }",
        "  mode:",
        "    type: enum",
        "    states: { OFF: 0, AUTO: 1, MANUAL: 2 }",
        "    source: { adapter: drive, key: mode }",
        "    write: { states: [AUTO] }",
      ].join("\n"),
    );
    const tags = await loadTagMap(file, { adapters: { drive } });
    const result = await verdictsAfter(tags, drive);
    expect(result.widened).toBe(8);
    expect(result.fast?.state).toBe("rejected");
    expect(result.step?.state).toBe("rejected");
    expect(result.state?.state).toBe("rejected");
    expect(result.writes).toBe(0);
  });

  it("a plain object given to the plant can be changed, but not what the guard enforces", async () => {
    const drive = memoryAdapter({ name: "drive", values: { speed: 1000, mode: "AUTO" } });
    const tags = structuredCloneTags(definitions(drive));
    const result = await verdictsAfter(tags, drive);
    expect(result.widened).toBe(0); // nothing froze the caller's own object...
    expect(result.fast?.state).toBe("rejected"); // ...but the guard took its own frozen copy
    expect(result.step?.state).toBe("rejected");
    expect(result.state?.state).toBe("rejected");
    expect(result.writes).toBe(0);
  });

  it("from a loop's run() and from a tool handler: no effect on a verdict", async () => {
    const drive = memoryAdapter({ name: "drive", values: { speed: 1000, mode: "AUTO" } });
    const tags = defineTags(definitions(drive));
    const plant = createPlant({ tags });
    const guard = createGuard({ plant, audit: join(folder(), "audit.jsonl"), mode: "automatic" });
    let thrownInRun = 0;
    let thrownInTool = 0;
    const tools = plantTools({
      plant,
      onProposal: () => {
        thrownInTool = tryToWiden(plant.tags);
      },
    });
    let result: Proposal[] = [];
    const loop = createLoop(plant, {
      name: "widener",
      trigger: onEvent("by hand", () => () => {}),
      guard,
      async run({ snapshot, propose }) {
        thrownInRun = tryToWiden(snapshot.tags);
        const call = await tools.call("propose_write", JSON.stringify({ tag: "speed", value: 1000, reason: "r" }));
        if (call.proposal) await tools.deliver([call.proposal]);
        result = await propose({ speed: 9000 }, { reason: "widened?" });
      },
    });
    await loop.start();
    loop.trigger();
    expect(await waitFor(() => result.length > 0, 5000)).toBe(true);
    expect(thrownInRun).toBe(8);
    expect(thrownInTool).toBe(8);
    expect(result[0]?.verdicts.find((verdict) => !verdict.passed)?.code).toBe("out-of-range");
    expect(drive.writes).toHaveLength(0);
    await loop.stop();
    await guard.close();
    await plant.close();
  });
});

describe("T17 interlocks frozen too", () => {
  it("changing an interlock's tags or holds after the guard exists changes no verdict", async () => {
    const drive = memoryAdapter({ name: "drive", values: { speed: 1000, mode: "MANUAL" } });
    const tags = defineTags(definitions(drive));
    const plant = createPlant({ tags });
    const interlock = {
      name: "pump in AUTO",
      tags: ["speed"],
      holds: (snapshot: { value(name: "mode"): string }) => snapshot.value("mode") === "AUTO",
    };
    const guard = createGuard({
      plant,
      audit: join(folder(), "audit.jsonl"),
      mode: "automatic",
      interlocks: [interlock],
    });
    interlock.tags.length = 0;
    interlock.tags.push("mode");
    interlock.holds = () => true;
    const [proposal] = await guard.propose({ speed: 1000 }, { reason: "r" });
    expect(proposal?.verdicts.find((verdict) => !verdict.passed)?.code).toBe("interlock");
    expect(drive.writes).toHaveLength(0);
    await guard.close();
    await plant.close();
  });
});

/** A tag map as a plain, unfrozen object (what a script gets when it skips defineTags). */
function structuredCloneTags<T extends Record<string, { source: unknown }>>(tags: T): T {
  const copy: Record<string, unknown> = {};
  for (const [name, tag] of Object.entries(tags)) {
    const { source, ...rest } = tag;
    copy[name] = { ...structuredClone(rest), source };
  }
  return copy as T;
}
