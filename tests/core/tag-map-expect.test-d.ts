// Type tests: a tag map loaded with `expect` is typed by the expected tags, as a map written in code is.
import {
  type BooleanTag,
  createLoop,
  createPlant,
  type EnumTag,
  loadTagMap,
  type NumericTag,
  onChange,
  parseTagMap,
  type TagDefinitions,
  type TagMap,
  type TextTag,
  whenTag,
} from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expectTypeOf, it } from "vitest";

const plc = memoryAdapter({ name: "plc" });
const file = "tests/fixtures/pump-station.yaml";
const expected = { speed: "float", running: "boolean", mode: "enum", alarm: "text" } as const;

describe("tag maps loaded with expect", () => {
  it("are typed by the expected tags", async () => {
    const tags = await loadTagMap(file, { adapters: { plc }, expect: expected });
    expectTypeOf(tags).toEqualTypeOf<
      TagMap<{
        readonly speed: NumericTag;
        readonly running: BooleanTag;
        readonly mode: EnumTag;
        readonly alarm: TextTag;
      }>
    >();
    const snapshot = await createPlant({ tags }).read();
    expectTypeOf(snapshot.value("speed")).toEqualTypeOf<number>();
    expectTypeOf(snapshot.value("running")).toEqualTypeOf<boolean>();
    // The states of an enum are only known at run time.
    expectTypeOf(snapshot.value("mode")).toEqualTypeOf<string>();
    expectTypeOf(snapshot.value("alarm")).toEqualTypeOf<string>();
    expectTypeOf(snapshot.valueOr("speed", null)).toEqualTypeOf<number | null>();
  });

  it("types an expectation written inline, and integer tags as numbers", async () => {
    const tags = await parseTagMap("tags: {}", "yaml", {
      adapters: { plc },
      expect: { starts: "integer", note: "text" },
    });
    const plant = createPlant({ tags });
    expectTypeOf((await plant.read()).value("starts")).toEqualTypeOf<number>();
    expectTypeOf(plant.history("note")[0]?.value).toEqualTypeOf<string | undefined>();
  });

  it("rejects a misspelt name, and a name the script did not expect", async () => {
    const tags = await loadTagMap(file, { adapters: { plc }, expect: expected });
    const plant = createPlant({ tags });
    const snapshot = await plant.read();
    // @ts-expect-error "sped" is not an expected tag
    snapshot.value("sped");
    // @ts-expect-error the file has pressure, but the script did not expect it: add it to expect to use it by name
    snapshot.value("pressure");
    // @ts-expect-error watch options name tags too
    await plant.watch(() => {}, { tags: ["runing"] });
    createLoop(plant, { name: "typed", trigger: onChange(["speed"]), run: () => {} });
    // @ts-expect-error triggers name tags too
    createLoop(plant, { name: "misspelt", trigger: onChange(["sped"]), run: () => {} });
    createLoop(plant, {
      name: "typed",
      trigger: whenTag("running", (on) => {
        expectTypeOf(on).toEqualTypeOf<boolean>();
        return on;
      }),
      run: () => {},
    });
  });

  it("accepts only the tag types", () => {
    // @ts-expect-error "number" is not a tag type: float or integer
    void loadTagMap(file, { adapters: { plc }, expect: { speed: "number" } });
  });

  it("keeps the loose type without expect", async () => {
    const tags = await loadTagMap(file, { adapters: { plc } });
    expectTypeOf(tags).toEqualTypeOf<TagMap<TagDefinitions>>();
    const snapshot = await createPlant({ tags }).read();
    expectTypeOf(snapshot.value("anything")).toEqualTypeOf<number | boolean | string | Date>();
  });
});
