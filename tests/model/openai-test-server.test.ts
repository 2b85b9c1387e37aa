import { describe, expect, it } from "vitest";
import { startOpenAITestServer } from "../../src/testing/openai-test-server.js";

// biome-ignore lint/suspicious/noExplicitAny: the test reads the JSON answers loosely.
type Json = any;

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("the OpenAI-compatible test server", () => {
  it("answers from its script, records requests, simulates a prompt cache, and refuses what it does not speak", async () => {
    const server = await startOpenAITestServer({ replies: [{ content: "{}" }, { content: "{}" }] });
    try {
      expect(server.baseURL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      const messages = [{ role: "system", content: "x".repeat(400) }];
      const first = (await (await post(`${server.baseURL}/chat/completions`, { model: "m", messages })).json()) as Json;
      expect(first.choices[0].message).toMatchObject({ role: "assistant", content: "{}" });
      expect(first.usage.prompt_tokens_details.cached_tokens).toBe(0);
      const stream = await post(`${server.baseURL}/chat/completions`, { model: "m", messages, stream: true });
      expect(stream.status).toBe(400);
      const second = (await (
        await post(`${server.baseURL}/chat/completions`, { model: "m", messages })
      ).json()) as Json;
      expect(second.usage.prompt_tokens_details.cached_tokens).toBe(second.usage.prompt_tokens);
      const exhausted = await post(`${server.baseURL}/chat/completions`, { model: "m", messages });
      expect(exhausted.status).toBe(500);
      expect(((await exhausted.json()) as Json).error.message).toMatch(/no reply #3/);
      expect((await post(`${server.baseURL}/embeddings`, {})).status).toBe(404);
      expect(server.requests.map((request) => request.path)).toEqual([
        "/v1/chat/completions",
        "/v1/chat/completions",
        "/v1/chat/completions",
        "/v1/chat/completions",
        "/v1/embeddings",
      ]);
    } finally {
      await server.close();
    }
  });
});
