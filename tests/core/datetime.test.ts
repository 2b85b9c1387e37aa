/**
 * The date-time tag type through the core: the tag contract (code and YAML), the memory adapter, snapshots and watch,
 * the context encoder and decoder, the feature vector, plant tools, and the write guard.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  ConfigError,
  createGuard,
  createPlant,
  dateTime,
  decodeContext,
  defineTags,
  encodeSnapshot,
  encodeWindow,
  featureVector,
  float,
  parseTagMap,
  plantTools,
  type TagChange,
  type WriteProposalRequest,
} from "plantwire";
import { memoryAdapter, waitFor } from "plantwire/testing";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { configErrorOf } from "../support/test-lifecycle.js";

const START = new Date("2024-05-01T10:00:00Z");
const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function station() {
  const plc = memoryAdapter({ name: "plc", values: { batchStart: START, level: 4.2, nextService: START } });
  const tags = defineTags({
    batchStart: dateTime({ description: "When the running batch started", source: plc.key("batchStart") }),
    level: float({ unit: "m", range: [0, 10], resolution: 0.1, source: plc.key("level") }),
    nextService: dateTime({
      source: plc.key("nextService"),
      write: { approval: "automatic", minIntervalMs: 0 },
    }),
  });
  return { plc, tags };
}

describe("date-time tags", () => {
  it("are defined in code and typed as Date; their write policy has no range or step", async () => {
    const { tags } = station();
    expect(tags.batchStart.type).toBe("datetime");
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    expectTypeOf(snapshot.value("batchStart")).toEqualTypeOf<Date>();
    expect(snapshot.value("batchStart")).toEqual(START);
    const plc = memoryAdapter({ name: "plc" });
    const problem = (write: object) => {
      try {
        defineTags({ t: dateTime({ source: plc.key("t"), write }) });
        return undefined;
      } catch (error) {
        expect(ConfigError.isInstance(error)).toBe(true);
        return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
      }
    };
    expect(problem({ range: [0, 1] })).toEqual([
      "t.write: range, maxStep and automaticRange apply to numeric tags, not to datetime tags",
    ]);
    expect(problem({ maxStep: 60 })).toHaveLength(1);
    expect(problem({ maxRatePerSecond: 1 })).toEqual([
      "t.write: maxRatePerSecond and states do not apply to datetime tags",
    ]);
    expect(problem({ minIntervalMs: 1000, approval: "required" })).toBeUndefined();
    // A strict object like every other tag type: a field of another type is an unknown field.
    expect(() => defineTags({ t: { type: "datetime", unit: "s", source: plc.key("t") } as never })).toThrow(
      /unknown field "unit"/,
    );
    await plant.close();
  });

  it("load from YAML, with expect, and the type list names datetime when a type is wrong", async () => {
    const plc = memoryAdapter({ name: "plc", values: { started: START } });
    const yaml =
      "tags:\n  started:\n    type: datetime\n    staleAfterMs: 60000\n    source: { adapter: plc, key: started }\n";
    const tags = await parseTagMap(yaml, "yaml", { adapters: { plc }, expect: { started: "datetime" } });
    expect(tags.started.type).toBe("datetime");
    const plant = createPlant({ tags });
    const value = (await plant.read()).value("started");
    expectTypeOf(value).toEqualTypeOf<Date>();
    expect(value.toISOString()).toBe("2024-05-01T10:00:00.000Z");
    await plant.close();

    const wrongType = await configErrorOf(
      parseTagMap(yaml.replace("datetime", "timestamp"), "yaml", { adapters: { plc } }),
    );
    expect(wrongType.issues[0]).toMatchObject({ path: "tags.started.type" });
    expect(wrongType.issues[0]?.message).toContain('"datetime"');
    expect(wrongType.issues[0]?.fix).toContain('"datetime"');
    const mismatch = await configErrorOf(
      parseTagMap(yaml, "yaml", { adapters: { plc }, expect: { started: "float" } }),
    );
    expect(mismatch.issues[0]?.message).toBe("is a datetime tag, but the script expects a float tag");
    const unknownExpectation = await configErrorOf(
      parseTagMap(yaml, "yaml", { adapters: { plc }, expect: { started: "date" as never } }),
    );
    expect(unknownExpectation.issues[0]?.fix).toContain("datetime");
  });

  it("report a change when the instant changes, not when a new Date object holds the same instant", async () => {
    const { plc, tags } = station();
    const plant = createPlant({ tags, pollIntervalMs: 10 });
    const changes: TagChange<typeof tags>[] = [];
    const watcher = await plant.watch((change) => changes.push(change), { tags: ["batchStart"] });
    expect(await waitFor(() => changes.length === 1)).toBe(true);
    plc.set("batchStart", new Date(START.getTime()));
    plc.set("batchStart", new Date(START.getTime()));
    plc.set("batchStart", new Date(START.getTime() + 1));
    expect(await waitFor(() => changes.length === 2)).toBe(true);
    plc.set("batchStart", new Date(START.getTime() + 1));
    plc.set("level", 9); // another tag, so that something has certainly been delivered after the same-instant set
    expect(await waitFor(() => plant.history("batchStart").length >= 5)).toBe(true);
    expect(changes.map((change) => (change.sample.value as Date).getTime() - START.getTime())).toEqual([0, 1]);
    await watcher.stop();
    await plant.close();
  });

  it("show in context as ISO 8601 UTC (seconds, Z, milliseconds only when not zero) and decode back", async () => {
    const { plc, tags } = station();
    plc.set("nextService", new Date("2024-06-30T23:59:59.250+02:00"));
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    const encoded = encodeSnapshot(snapshot);
    expect(encoded.text).toContain("2024-05-01T10:00:00Z");
    expect(encoded.text).toContain("2024-06-30T21:59:59.250Z");
    expect(encoded.text).not.toContain("2024-05-01T10:00:00.000Z");
    const decoded = decodeContext(encoded.text);
    expect(decoded.tags.get("batchStart")?.type).toBe("datetime");
    expect(decoded.snapshot?.get("batchStart")?.value).toEqual(START);
    expect(decoded.snapshot?.get("nextService")?.value).toEqual(new Date("2024-06-30T21:59:59.250Z"));
    expect(decoded.snapshot?.get("level")?.value).toBe(4.2);

    // A value that is not a valid Date never reaches the context as one.
    plc.set("batchStart", new Date(Number.NaN));
    const bad = encodeSnapshot(await plant.read());
    expect(decodeContext(bad.text).snapshot?.get("batchStart")?.bad).toBe("type-mismatch");

    // Windows too: each cell and the summary's last value.
    plc.set("batchStart", new Date("2024-05-02T06:00:00Z"));
    await plant.read();
    const window = encodeWindow(plant.window(["batchStart", "level"]), { summaries: true });
    expect(window.text).toContain("2024-05-02T06:00:00Z");
    const rows = decodeContext(window.text).rows ?? [];
    const shown = rows.map((row) => row.values.get("batchStart")?.value).filter((value) => value instanceof Date);
    expect(shown.map((value) => (value as Date).toISOString())).toContain("2024-05-02T06:00:00.000Z");
    await plant.close();
  });

  it("are left out of feature vectors, for a stated reason", () => {
    const { tags } = station();
    expect(featureVector(tags, { missing: "nan" }).names).toEqual(["level"]);
    let error: unknown;
    try {
      featureVector(tags, { missing: "nan", tags: ["level", "batchStart"] });
    } catch (caught) {
      error = caught;
    }
    expect(ConfigError.isInstance(error)).toBe(true);
    expect((error as ConfigError).issues[0]).toMatchObject({ path: "features.batchStart" });
    expect((error as ConfigError).issues[0]?.message).toMatch(/float32 holds epoch seconds only to/);
  });

  it("are proposed through plant tools as ISO text and reach onProposal as a Date", async () => {
    const { tags } = station();
    const plant = createPlant({ tags });
    const proposals: WriteProposalRequest[] = [];
    const tools = plantTools({ plant, onProposal: (proposal) => void proposals.push(proposal) });
    expect(tools.writable).toEqual(["nextService"]);
    expect(tools.definitions[2]?.function.description).toContain("nextService (datetime: ISO 8601 with a zone");
    const call = (value: unknown) =>
      tools.call("propose_write", JSON.stringify({ tag: "nextService", value, reason: "plan" }));
    const result = await call("2024-07-01T08:00:00+02:00");
    expect(result.proposal?.value).toEqual(new Date("2024-07-01T06:00:00.000Z"));
    await expect(call("next tuesday")).rejects.toThrow(/does not fit the tag's type/);
    await expect(call("2024-07-01T08:00:00")).rejects.toThrow(/does not fit the tag's type/); // no zone: ambiguous
    await expect(call(1719820800)).rejects.toThrow(/does not fit the tag's type/);
    await tools.deliver(result.proposal ? [result.proposal] : []);
    expect(proposals).toHaveLength(1);
    await plant.close();
  });

  it("pass the guard as valid Dates only: text and invalid dates are invalid-value, a Date is written", async () => {
    const { plc, tags } = station();
    const plant = createPlant({ tags, onError: () => {} });
    const folder = mkdtempSync(join(tmpdir(), "plantwire-datetime-"));
    folders.push(folder);
    const audit = join(folder, "audit.jsonl");
    const guard = createGuard({ plant, audit, mode: "automatic" });
    for (const value of ["2024-07-01T06:00:00Z", new Date(Number.NaN), 1719813600000]) {
      const [proposal] = await guard.propose({ nextService: value as never }, { reason: "test" });
      expect(proposal?.state, String(value)).toBe("rejected");
      expect(proposal?.verdicts.filter((verdict) => !verdict.passed).map((verdict) => verdict.code)).toEqual([
        "invalid-value",
      ]);
    }
    expect(plc.writes).toHaveLength(0);
    const target = new Date("2024-07-01T06:00:00Z");
    const [accepted] = await guard.propose({ nextService: target }, { reason: "test" });
    expect(accepted).toMatchObject({ state: "executed", outcome: { write: "written", readBack: "verified" } });
    expect(plc.get("nextService")).toEqual(target);
    // The audit keeps the value as ISO text.
    expect(readFileSync(audit, "utf8")).toContain('"2024-07-01T06:00:00.000Z"');
    await guard.close();
    await plant.close();
  });
});
