/** T5 for model output: any text as an answer or as tool arguments is a value or a typed error, never a crash. */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ModelOutputError, parseOutput, plantTools } from "../../src/model/index.js";
import { Advice, testPlant } from "./model-fixtures.js";

const jsonish = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((value) => JSON.stringify(value)),
  fc
    .record({ speed: fc.oneof(fc.double(), fc.string(), fc.constant(null)), why: fc.oneof(fc.string(), fc.integer()) })
    .map((value) => JSON.stringify(value)),
  fc.json().map((text) => text.slice(0, Math.max(0, text.length - 1))),
);

describe("model output fuzz", () => {
  it("parseOutput returns a valid answer or throws a ModelOutputError carrying the raw text", () => {
    fc.assert(
      fc.property(jsonish, (text) => {
        try {
          const answer = parseOutput(Advice, text);
          expect(Advice.strict().safeParse(answer).success).toBe(true);
        } catch (error) {
          expect(ModelOutputError.isInstance(error)).toBe(true);
          expect((error as ModelOutputError).rawText).toBe(text);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("tool calls with any name and arguments yield a result or a ModelOutputError, and proposals only for writable tags", async () => {
    const { plant } = testPlant();
    const tools = plantTools({ plant });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("read_current", "read_window", "propose_write", "write", ""),
        jsonish,
        async (name, text) => {
          try {
            const result = await tools.call(name, text);
            if (result.proposal) expect(["speed", "mode"]).toContain(result.proposal.tag);
          } catch (error) {
            expect(ModelOutputError.isInstance(error)).toBe(true);
          }
        },
      ),
      { numRuns: 300 },
    );
    await plant.close();
  });
});
