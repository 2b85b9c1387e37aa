// Type tests: tag types flow into snapshots; a misspelt tag name does not compile.
import { createPlant, defineTags, enumeration, float, integer, boolean as on, type Snapshot, text } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expectTypeOf, it } from "vitest";

const memory = memoryAdapter();
const tags = defineTags({
  motorSpeed: float({ unit: "rpm", range: [0, 1800], source: memory.key("speed") }),
  starts: integer({ source: memory.key("starts") }),
  running: on({ source: memory.key("running") }),
  mode: enumeration({ states: { OFF: 0, AUTO: 1, MANUAL: 2 }, source: memory.key("mode") }),
  alarmText: text({ maxLength: 200, source: memory.key("alarm") }),
});

describe("tag types flow into snapshots", () => {
  it("gives each tag its value type", async () => {
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    expectTypeOf(snapshot).toEqualTypeOf<Snapshot<typeof tags>>();
    expectTypeOf(snapshot.value("motorSpeed")).toEqualTypeOf<number>();
    expectTypeOf(snapshot.value("starts")).toEqualTypeOf<number>();
    expectTypeOf(snapshot.value("running")).toEqualTypeOf<boolean>();
    expectTypeOf(snapshot.value("mode")).toEqualTypeOf<"OFF" | "AUTO" | "MANUAL">();
    expectTypeOf(snapshot.value("alarmText")).toEqualTypeOf<string>();
    expectTypeOf(snapshot.valueOr("motorSpeed", null)).toEqualTypeOf<number | null>();
    expectTypeOf(plant.history("motorSpeed")[0]?.value).toEqualTypeOf<number | undefined>();
  });

  it("rejects a misspelt tag name at compile time", async () => {
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    // @ts-expect-error "motorSped" is not a tag of this map
    snapshot.value("motorSped");
    // @ts-expect-error not a tag either
    plant.history("speed");
    // @ts-expect-error watch options name tags too
    await plant.watch(() => {}, { tags: ["pressure"] });
  });

  it("types enum write policies by state name", () => {
    enumeration({ states: { OFF: 0, ON: 1 }, source: memory.key("x"), write: { states: ["ON"] } });
    // @ts-expect-error "BOOST" is not a state
    enumeration({ states: { OFF: 0, ON: 1 }, source: memory.key("x"), write: { states: ["BOOST"] } });
  });
});
