/**
 * T12: a field the output schema does not name is rejected at any depth, also inside unions (a nullable object, a
 * tagged union of actions, a plain union, an array of nullable objects), where zod alone would strip it silently;
 * and a tag name in an answer can only be one of the tag map's.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ModelOutputError, parseOutput, tagNameSchema } from "../../src/model/index.js";
import { testPlant } from "./model-fixtures.js";

const Action = z.discriminatedUnion("type", [
  z.object({ type: z.literal("set"), tag: z.string(), value: z.number() }),
  z.object({ type: z.literal("hold"), why: z.string() }),
]);

const cases: [string, z.ZodType, string, string | undefined][] = [
  [
    "nullable object",
    z.object({ a: z.object({ x: z.number() }).nullable() }),
    '{"a":{"x":1,"force":true}}',
    "$.a.force",
  ],
  ["nullable object, null", z.object({ a: z.object({ x: z.number() }).nullable() }), '{"a":null}', undefined],
  ["optional object", z.object({ o: z.object({ x: z.number() }).optional() }), '{"o":{"x":1,"y":2}}', "$.o.y"],
  ["tagged union, set", Action, '{"type":"set","tag":"speed","value":1,"approve":true}', "$.approve"],
  ["tagged union, hold with a set field", Action, '{"type":"hold","why":"wait","value":1800}', "$.value"],
  ["tagged union, clean", Action, '{"type":"hold","why":"wait"}', undefined],
  [
    "actions array",
    z.object({ actions: z.array(Action) }),
    '{"actions":[{"type":"hold","why":"x","bypass":1}]}',
    "$.actions[0].bypass",
  ],
  ["plain union", z.union([z.object({ a: z.number() }), z.object({ b: z.string() })]), '{"a":1,"c":2}', "$.c"],
  ["plain union, clean", z.union([z.object({ a: z.number() }), z.object({ b: z.string() })]), '{"b":"x"}', undefined],
  [
    "array of nullable objects",
    z.object({ items: z.array(z.object({ x: z.number() }).nullable()) }),
    '{"items":[null,{"x":1,"y":2}]}',
    "$.items[1].y",
  ],
  ["a number where a union allows one", z.object({ v: z.union([z.number(), z.string()]) }), '{"v":3}', undefined],
  [
    "a union branch whose defaulted field is left out",
    z.union([z.object({ speed: z.number(), urgent: z.boolean().default(false) }), z.object({ why: z.string() })]),
    '{"speed":1100}',
    undefined,
  ],
  [
    "a nullable object with a defaulted field",
    z.object({ a: z.object({ x: z.number(), y: z.number().default(0) }).nullable() }),
    '{"a":{"x":1,"force":true}}',
    "$.a.force",
  ],
  [
    "a record of closed objects",
    z.object({ tags: z.record(z.string(), z.object({ value: z.number() })) }),
    '{"tags":{"speed":{"value":1,"write":true}}}',
    "$.tags.speed.write",
  ],
  ["a record, clean", z.record(z.string(), z.object({ value: z.number() })), '{"speed":{"value":1}}', undefined],
  ["a tuple", z.tuple([z.string(), z.object({ x: z.number() })]), '["speed",{"x":1,"y":2}]', "$[1].y"],
  ["an intersection", z.object({ a: z.number() }).and(z.object({ b: z.string() })), '{"a":1,"b":"x","c":0}', "$.c"],
  ["an empty closed object", z.object({ done: z.object({}) }), '{"done":{"approve":true}}', "$.done.approve"],
];

describe("extra fields are rejected at any depth, unions included", () => {
  it.each(cases)("%s", (_label, schema, text, extra) => {
    if (extra === undefined) {
      expect(() => parseOutput(schema, text)).not.toThrow();
      return;
    }
    const error = (() => {
      try {
        parseOutput(schema, text);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(ModelOutputError.isInstance(error)).toBe(true);
    expect((error as ModelOutputError).issues).toContain(`${extra}: not a field of the output schema`);
    expect((error as ModelOutputError).rawText).toBe(text);
  });
});

describe("T12: tag names in an answer come from the tag map", () => {
  it("an invented tag name is a ModelOutputError; a real one is typed", async () => {
    const { plant } = testPlant();
    const Finding = z.object({ tag: tagNameSchema(plant.tags), why: z.string() });
    const found: { tag: "speed" | "pressure" | "mode" | "alarm" } = parseOutput(
      Finding,
      '{"tag":"pressure","why":"x"}',
    );
    expect(found.tag).toBe("pressure");
    expect(() => parseOutput(Finding, '{"tag":"pump9_pressure","why":"x"}')).toThrow(ModelOutputError);
    const Change = z.object({ tag: tagNameSchema(plant.tags, { writable: true }), value: z.number() });
    expect(parseOutput(Change, '{"tag":"speed","value":1100}').tag).toBe("speed");
    expect(() => parseOutput(Change, '{"tag":"pressure","value":0}')).toThrow(/\$\.tag/);
    await plant.close();
  });

  it("refuses names outside the map and an empty choice, naming the field", () => {
    const { plant } = testPlant();
    expect(() => tagNameSchema(plant.tags, { only: ["nope" as "speed"] })).toThrow(/only: not tags of this map: nope/);
    expect(() => tagNameSchema(plant.tags, { only: ["pressure"], writable: true })).toThrow(/writable: no tag left/);
    expect(() => tagNameSchema(plant.tags, { only: [] })).toThrow(/only: no tag left/);
  });
});
