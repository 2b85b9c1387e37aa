import { boolean, defineTags, enumeration, float, text } from "plantwire";
import { describeAdapterConformance, memoryAdapter } from "plantwire/testing";
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
