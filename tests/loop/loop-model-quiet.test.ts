/**
 * A loop whose model cannot be reached logs ONE error line naming the endpoint, the cause and the fix; the stack and
 * the nested causes go to debug only. A real socket: a loopback port that was just free (connection refused).
 */
import { createServer } from "node:net";
import { createLoop, createPlant, defineTags, float, type Logger, onEvent, openaiModel } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { unreachableMessage } from "../../src/model/model-errors.js";

/** A loopback port nobody listens on: bound by us, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function runOnceAgainst(baseURL: string) {
  const lines: { level: keyof Logger; message: string }[] = [];
  const at = (level: keyof Logger) => (message: string) => void lines.push({ level, message });
  const logger: Logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
  const plant = createPlant({
    tags: defineTags({
      pressure: float({ unit: "bar", range: [0, 16], source: memoryAdapter({ values: { p: 6 } }).key("p") }),
    }),
    logger,
  });
  const model = openaiModel({ baseURL, apiKey: "test", model: "advisor", maxRetries: 0, timeoutMs: 5000 });
  const loop = createLoop(plant, {
    name: "advisor",
    trigger: onEvent("manual only", () => () => {}),
    model,
    async run({ model: budgeted, snapshot }) {
      await budgeted?.generate({ instructions: "Advise.", context: snapshot, output: z.object({ speed: z.number() }) });
    },
  });
  await loop.start();
  loop.trigger();
  await loop.idle();
  await loop.stop();
  await plant.close();
  const of = (level: keyof Logger) => lines.filter((line) => line.level === level).map((line) => line.message);
  return { of, metrics: loop.metrics() };
}

describe("a loop that cannot reach its model", () => {
  it("logs one line with the endpoint, ECONNREFUSED and the fix; the stack only at debug", async () => {
    const baseURL = `http://127.0.0.1:${await closedPort()}/v1`;
    const { of, metrics } = await runOnceAgainst(baseURL);
    expect(metrics.failedRuns).toBe(1);
    const errors = of("error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBe(
      `loop "advisor": model ${baseURL} unreachable (ECONNREFUSED): start the model server or fix baseURL (OPENAI_BASE_URL) [PW_CONNECTION]`,
    );
    expect(of("warn")).toEqual([]);
    const debug = of("debug").join("\n");
    // The detail is still there for whoever asks for it: the nested causes and a stack.
    expect(debug).toMatch(/fetch failed/);
    expect(debug).toMatch(/ECONNREFUSED/);
    expect(debug).toMatch(/\n\s+at /);
  });

  it("names the fix for each kind of network failure behind the openai client's error", () => {
    // Shaped like the openai client's APIConnectionError → TypeError("fetch failed") → the socket error, built here
    // because a test may not ask a name server: the refused port above is the real-socket case.
    const chain = (code: string) =>
      new Error("Connection error.", {
        cause: new TypeError("fetch failed", { cause: Object.assign(new Error(`${code} x`), { code }) }),
      });
    const endpoint = "http://model:8000/v1";
    expect(unreachableMessage(endpoint, chain("ENOTFOUND"))).toBe(
      "model http://model:8000/v1 unreachable (ENOTFOUND): fix the host name in baseURL (OPENAI_BASE_URL)",
    );
    expect(unreachableMessage(endpoint, chain("ETIMEDOUT"))).toMatch(/\(ETIMEDOUT\): check the network path/);
    expect(unreachableMessage(endpoint, chain("ECONNRESET"))).toMatch(/OpenAI-compatible server/);
    expect(unreachableMessage(endpoint, chain("DEPTH_ZERO_SELF_SIGNED_CERT"))).toMatch(
      /certificate this machine trusts/,
    );
    const both = new AggregateError([Object.assign(new Error("a"), { code: "ECONNREFUSED" })], "connect failed");
    expect(unreachableMessage(endpoint, new Error("Connection error.", { cause: both }))).toMatch(/\(ECONNREFUSED\)/);
    // Without a code, the message stands in, without doubling its full stop.
    expect(unreachableMessage(endpoint, new Error("Connection error."))).toBe(
      "model http://model:8000/v1 unreachable (Connection error): start the model server or fix baseURL (OPENAI_BASE_URL)",
    );
  });
});
