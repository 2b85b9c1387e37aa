import { boolean, createPlant, dateTime, defineTags, enumeration, float, integer, type Sample, text } from "plantwire";
import { describeAdapterConformance, memoryAdapter, waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";

for (const subscribe of [true, false]) {
  await describeAdapterConformance(`memory (${subscribe ? "subscribing" : "poll-only"})`, async () => {
    const adapter = memoryAdapter({ name: "plc", subscribe });
    const tags = defineTags({
      speed: float({ unit: "rpm", range: [0, 1800], source: adapter.key("speed"), write: { range: [600, 1500] } }),
      running: boolean({ source: adapter.key("running") }),
      mode: enumeration({ states: { OFF: 0, AUTO: 1 }, source: adapter.key("mode") }),
      alarm: text({ maxLength: 80, source: adapter.key("alarm") }),
    });
    return {
      adapter,
      tags,
      values: { speed: [900, 1210.5], running: [false, true], mode: ["OFF", "AUTO"], alarm: ["", "High vibration"] },
      setValue: (name, value) => adapter.set(name === "alarm" ? "alarm" : name, value),
      write: { name: "speed", value: 1100 },
      breakPeer: () => adapter.fail(new Error("link down")),
      restorePeer: () => adapter.fail(undefined),
    };
  });
}

describe("memory adapter", () => {
  it("records every write and can script failed or unknown outcomes", async () => {
    const plc = memoryAdapter({ name: "plc", values: { sp: 1 } });
    await plc.connect();
    const tag = { name: "sp", definition: float({ source: plc.key("sp") }), address: { key: "sp" } };
    expect((await plc.write!(tag, 2)).outcome).toBe("written");
    plc.failWrites("unknown");
    expect((await plc.write!(tag, 3)).outcome).toBe("unknown");
    expect(plc.get("sp")).toBe(2);
    expect(plc.writes.map((write) => write.value)).toEqual([2, 3]);
    await plc.close();
    expect((await plc.write!(tag, 4)).outcome).toBe("failed");
  });

  it("refuses to connect while failing, with a typed error", async () => {
    const plc = memoryAdapter({ name: "plc" });
    plc.fail(new Error("no route"));
    await expect(plc.connect()).rejects.toMatchObject({ code: "PW_CONNECTION" });
    expect(plc.status()).toMatchObject({ state: "disconnected", reason: "no route" });
  });
});

describe("memory adapter type checks (a device's codec never hands out a wrongly typed good value)", () => {
  const wrong: [string, unknown, RegExp][] = [
    ["mode", 1, /enum tag needs one of its state names \(OFF, AUTO\), got number 1/],
    ["mode", "STANDBY", /enum tag needs one of its state names \(OFF, AUTO\), got the text "STANDBY"/],
    ["speed", "1200", /float tag needs a finite number, got the text "1200"/],
    ["speed", Number.NaN, /float tag needs a finite number, got number NaN/],
    ["count", 2.5, /integer tag needs a whole number, got number 2.5/],
    ["running", 1, /boolean tag needs true or false, got number 1/],
    ["alarm", 42, /text tag needs text, got number 42/],
    ["started", "2024-05-01T10:00:00Z", /datetime tag needs a valid Date, got the text "2024-05-01T10:00:00Z"/],
    ["started", new Date(Number.NaN), /datetime tag needs a valid Date, got an invalid Date/],
  ];

  for (const subscribe of [true, false]) {
    it(`turns each misfit into a bad sample, reason type-mismatch (${subscribe ? "subscribed" : "read"})`, async () => {
      const plc = memoryAdapter({
        name: "plc",
        subscribe,
        values: {
          speed: 1200,
          count: 3,
          running: true,
          mode: "AUTO",
          alarm: "ok",
          started: new Date("2024-05-01T10:00:00Z"),
        },
      });
      const tags = defineTags({
        speed: float({ source: plc.key("speed") }),
        count: integer({ source: plc.key("count") }),
        running: boolean({ source: plc.key("running") }),
        mode: enumeration({ states: { OFF: 0, AUTO: 1 }, source: plc.key("mode") }),
        alarm: text({ maxLength: 5, source: plc.key("alarm") }),
        started: dateTime({ source: plc.key("started") }),
      });
      const plant = createPlant({ tags, pollIntervalMs: 10 });
      const seen = new Map<string, Sample>();
      const watcher = await plant.watch((change) => seen.set(change.name, change.sample));
      // Every tag is good first, with its own type.
      expect((await plant.read()).value("started")).toEqual(new Date("2024-05-01T10:00:00Z"));
      expect([...seen.values()].every((sample) => sample.quality === "good")).toBe(true);
      for (const [key, value, detail] of wrong) {
        plc.set(key, value);
        const sample = (await plant.read([key as keyof typeof tags])).sample(key as keyof typeof tags);
        expect(sample, `${key} = ${String(value)}`).toMatchObject({ quality: "bad", reason: "type-mismatch" });
        expect(sample.detail).toMatch(detail);
        expect(sample.value).toBeUndefined();
        expect(await waitFor(() => seen.get(key)?.reason === "type-mismatch")).toBe(true);
        plc.set(key, { mode: "OFF", speed: 1, count: 1, running: false, alarm: "", started: new Date(0) }[key]);
        expect((await plant.read()).sample(key as keyof typeof tags).quality).toBe("good");
      }
      plc.set("alarm", "too long");
      expect((await plant.read()).sample("alarm")).toMatchObject({ quality: "bad", reason: "out-of-range" });
      // A sample the test marks bad keeps its own reason: the check is for values offered as good or uncertain.
      plc.set("mode", 7, { quality: "bad", reason: "device-error" });
      expect((await plant.read()).sample("mode")).toMatchObject({ quality: "bad", reason: "device-error" });
      plc.set("mode", 7, { quality: "uncertain", reason: "last-known-value" });
      expect((await plant.read()).sample("mode")).toMatchObject({ quality: "bad", reason: "type-mismatch" });
      await watcher.stop();
      await plant.close();
    });
  }

  it("holds Date values for date-time tags, handing out copies", async () => {
    const plc = memoryAdapter({ name: "plc", values: { started: new Date("2024-05-01T10:00:00.250Z") } });
    const tags = defineTags({ started: dateTime({ source: plc.key("started") }) });
    const plant = createPlant({ tags });
    const first = (await plant.read()).value("started");
    expect(first).toBeInstanceOf(Date);
    first.setTime(0);
    expect((await plant.read()).value("started").toISOString()).toBe("2024-05-01T10:00:00.250Z");
    await plant.close();
  });
});
