/**
 * T12 in a loop: garbage model answers (truncated JSON, extra fields, wrong types, hallucinated tags, tool calls for
 * unknown or read-only tags), through the real openai client over HTTP to the local test server: 0 proposals, 0
 * writes, exactly one `rejection` audit record each, whether the run lets the error through or catches it, and an
 * audit chain that still verifies.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createGuard,
  createLoop,
  createPlant,
  defineTags,
  float,
  ModelOutputError,
  onEvent,
  openaiModel,
  plantTools,
  verifyAuditLog,
} from "plantwire";
import { memoryAdapter, startOpenAITestServer, type TestReply } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";

const Advice = z.object({ speed: z.number().min(600).max(1500), why: z.string() });
const propose = (tag: string, value: unknown) => ({
  toolCalls: [{ name: "propose_write", arguments: JSON.stringify({ tag, value, reason: "because" }) }],
});

/** Each garbage answer as the scripted model gives it; every one must end as a rejection. */
const garbage: { name: string; replies: TestReply[]; marker: string }[] = [
  { name: "truncated JSON", replies: [{ content: '{"speed": 1100, "why": "pres' }], marker: '"why": "pres' },
  {
    name: "an extra field",
    replies: [{ content: '{"speed": 1100, "why": "low pressure", "approve": true}' }],
    marker: '"approve": true',
  },
  { name: "a wrong type", replies: [{ content: '{"speed": "fast", "why": "x"}' }], marker: '"fast"' },
  { name: "out of the schema's range", replies: [{ content: '{"speed": 1800, "why": "x"}' }], marker: "1800" },
  { name: "a hallucinated tag", replies: [propose("pump9_speed", 1100)], marker: "pump9_speed" },
  { name: "a read-only tag", replies: [propose("pressure", 0)], marker: '"pressure"' },
  {
    name: "an unknown tool",
    replies: [{ toolCalls: [{ name: "write_register", arguments: '{"address":40001,"value":1}' }] }],
    marker: "write_register",
  },
  {
    name: "a valid proposal, then a garbage answer",
    replies: [propose("speed", 1100), { content: "Sure! I set the speed." }],
    marker: "Sure! I set the speed.",
  },
];

async function runLoopWith(replies: TestReply[], catchInRun: boolean) {
  const drive = memoryAdapter({ name: "drive", values: { pressure: 3.1, speed: 1000 } });
  const tags = defineTags({
    pressure: float({ unit: "bar", range: [0, 16], resolution: 0.01, source: drive.key("pressure") }),
    speed: float({
      unit: "rpm",
      range: [0, 1800],
      resolution: 1,
      source: drive.key("speed"),
      write: { range: [600, 1500], maxStep: 200 },
    }),
  });
  const plant = createPlant({ tags, onError: () => {} });
  const audit = join(mkdtempSync(join(tmpdir(), "plantwire-t12-loop-")), "audit.jsonl");
  const guard = createGuard({ plant, audit });
  const server = await startOpenAITestServer({ replies });
  const model = openaiModel({ baseURL: server.baseURL, apiKey: "test", model: "scripted", maxRetries: 0 });
  const errors: unknown[] = [];
  const proposals: unknown[] = [];
  const loop = createLoop(plant, {
    name: "advisor",
    trigger: onEvent("manual", () => () => {}),
    model,
    guard,
    onError: (error) => errors.push(error),
    async run(context) {
      const tools = plantTools({
        plant,
        writable: ["speed"],
        onProposal: async (proposal) => {
          proposals.push(...(await context.propose({ [proposal.tag]: proposal.value }, proposal)));
        },
      });
      const answer = context.model?.generate({
        instructions: "Advise.",
        context: context.snapshot,
        output: Advice,
        tools,
      });
      if (!catchInRun) return answer;
      await answer?.catch((error) => expect(ModelOutputError.isInstance(error)).toBe(true));
    },
  });
  await loop.start();
  loop.trigger();
  await loop.idle();
  const metrics = loop.metrics();
  await loop.stop();
  await server.close();
  await guard.close();
  await plant.close();
  const records = readFileSync(audit, "utf8")
    .trim()
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const verification = verifyAuditLog(audit);
  return { records, errors, proposals, metrics, writes: drive.writes, verification, modelId: model.name };
}

describe("T12: garbage model answers in a loop", () => {
  for (const { name, replies, marker } of garbage) {
    for (const catchInRun of [false, true]) {
      it(`${name} (${catchInRun ? "caught by the run" : "thrown from the run"}): no proposal, one rejection record`, async () => {
        const { records, errors, proposals, metrics, writes, verification, modelId } = await runLoopWith(
          replies,
          catchInRun,
        );
        expect(proposals).toEqual([]);
        expect(writes).toEqual([]);
        expect(records.filter((record) => record.type === "proposal")).toEqual([]);
        const rejections = records.filter((record) => record.type === "rejection");
        expect(rejections).toHaveLength(1);
        expect(rejections[0]).toMatchObject({ loop: "advisor", modelId, rawTextLength: expect.any(Number) });
        // The raw text is the answer or the tool call's arguments; a tool's name is in the error.
        expect(`${rejections[0]?.rawText} ${rejections[0]?.error}`).toContain(marker);
        expect(rejections[0]?.error).toMatch(/model/i);
        expect(Array.isArray(rejections[0]?.issues)).toBe(true);
        expect(verification.ok).toBe(true);
        expect(metrics.rejectedAnswers).toBe(1);
        expect(metrics.modelRequests).toBe(replies.length);
        expect(metrics.failedRuns).toBe(catchInRun ? 0 : 1);
        if (!catchInRun) expect(ModelOutputError.isInstance(errors[0])).toBe(true);
      });
    }
  }

  it("a valid answer leaves no rejection record", async () => {
    const { records, metrics } = await runLoopWith([{ content: '{"speed": 1100, "why": "low pressure"}' }], false);
    expect(records.filter((record) => record.type === "rejection")).toEqual([]);
    expect(metrics.rejectedAnswers).toBe(0);
    expect(metrics.failedRuns).toBe(0);
  });
});
