/**
 * `mqtt watch --count N` prints exactly N messages, even when more arrive at once (retained messages come in a burst
 * on subscribe): over the embedded broker, and over Mosquitto when the machine has it.
 */
import { randomUUID } from "node:crypto";
import { startBroker } from "plantwire/mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { captureIo } from "../support/capture-io.js";
import { serviceSkipReason, services } from "../support/services.js";

async function publishRetained(url: string, prefix: string, count: number) {
  const { connectAsync } = await import("mqtt");
  const client = await connectAsync(url);
  for (let index = 0; index < count; index++) {
    await client.publishAsync(`${prefix}/m${index}`, `value ${index}`, { qos: 1, retain: true });
  }
  return async () => {
    // Retained messages outlive the test on a shared broker: an empty retained payload clears each.
    for (let index = 0; index < count; index++) {
      await client.publishAsync(`${prefix}/m${index}`, "", { qos: 1, retain: true });
    }
    await client.endAsync();
  };
}

async function watchCount(url: string, prefix: string, count: number) {
  const io = captureIo();
  const code = await runCli(["mqtt", "watch", url, `${prefix}/#`, "--count", String(count)], io);
  return { code, lines: io.stdout.split("\n").filter(Boolean), stderr: io.stderr };
}

describe("mqtt watch --count over the embedded broker", () => {
  let broker: Awaited<ReturnType<typeof startBroker>>;
  beforeAll(async () => {
    broker = await startBroker({ port: 0 });
  });
  afterAll(async () => {
    await broker?.close();
  });

  it("prints exactly --count lines when 13 retained messages arrive at once", async () => {
    const prefix = `plantwire-count-${randomUUID()}`;
    const clear = await publishRetained(broker.url, prefix, 13);
    try {
      for (const count of [1, 3, 13]) {
        const run = await watchCount(broker.url, prefix, count);
        expect(run.code).toBe(0);
        expect(run.lines, `--count ${count}`).toHaveLength(count);
        for (const line of run.lines) expect(line).toMatch(new RegExp(`^${prefix}/m\\d+ {2}value \\d+$`));
      }
    } finally {
      await clear();
    }
  });
});

const mosquittoSkip = await serviceSkipReason("mosquitto");

describe.skipIf(mosquittoSkip !== undefined)(
  `mqtt watch --count over Mosquitto${mosquittoSkip ? ` (${mosquittoSkip})` : ""}`,
  () => {
    it("prints exactly 3 lines of 13 retained messages", async () => {
      const prefix = `plantwire-test/count-${randomUUID()}`;
      const clear = await publishRetained(services.mosquitto.url, prefix, 13);
      try {
        const run = await watchCount(services.mosquitto.url, prefix, 3);
        expect(run.code).toBe(0);
        expect(run.lines).toHaveLength(3);
      } finally {
        await clear();
      }
    });
  },
);
