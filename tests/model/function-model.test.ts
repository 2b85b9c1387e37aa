import { describe, expect, it } from "vitest";
import { functionModel, ModelOutputError, plantTools, type WriteProposalRequest } from "../../src/model/index.js";
import { Advice, testPlant } from "./model-fixtures.js";

describe("functionModel", () => {
  it("has the model interface: a rule answers from the typed snapshot, validated like an LLM", async () => {
    const { plant } = testPlant();
    const rule = functionModel(
      ({ context }) => {
        const snapshot = context as Awaited<ReturnType<typeof plant.read>>;
        return { speed: snapshot.value("pressure") > 6 ? 1100 : 1300, why: "pressure rule" };
      },
      { name: "pressure-rule" },
    );
    expect(rule.name).toBe("function:pressure-rule");
    expect(await rule.generate({ instructions: "x", context: await plant.read(), output: Advice })).toEqual({
      speed: 1100,
      why: "pressure rule",
    });
    expect(rule.usage.requests).toBe(1);
    await plant.close();
  });

  it("T12: a wrong result is a ModelOutputError with the raw text, and its proposals are dropped", async () => {
    const { plant } = testPlant();
    const proposals: WriteProposalRequest[] = [];
    const tools = plantTools({ plant, onProposal: (proposal) => void proposals.push(proposal) });
    const broken = functionModel(async ({ propose }) => {
      await propose("speed", 900, "rule");
      return { speed: "fast", why: "x", extra: true };
    });
    const error = await broken
      .generate({ instructions: "x", output: Advice, tools })
      .catch((caught: unknown) => caught);
    expect(ModelOutputError.isInstance(error)).toBe(true);
    expect((error as ModelOutputError).rawText).toBe('{"speed":"fast","why":"x","extra":true}');
    expect((error as ModelOutputError).issues.join("\n")).toMatch(/\$\.extra: not a field[\s\S]*\$\.speed/);
    expect(proposals).toEqual([]);
    await plant.close();
  });

  it("proposes through the same tools as an LLM, with the same checks", async () => {
    const { plant } = testPlant();
    const proposals: WriteProposalRequest[] = [];
    const tools = plantTools({ plant, onProposal: (proposal) => void proposals.push(proposal) });
    const rule = functionModel(async ({ propose }) => {
      await propose("speed", 900, "rule");
      return { speed: 900, why: "rule" };
    });
    const result = await rule.run({ instructions: "x", output: Advice, tools });
    expect(result.proposals).toEqual([{ tag: "speed", value: 900, reason: "rule" }]);
    expect(proposals).toEqual(result.proposals);
    const readOnly = functionModel(async ({ propose }) => {
      await propose("pressure", 1, "rule");
      return { speed: 1, why: "x" };
    });
    await expect(readOnly.generate({ instructions: "x", output: Advice, tools })).rejects.toThrow(/not a writable tag/);
    await plant.close();
  });
});
