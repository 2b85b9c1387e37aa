import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { mqtt, startBroker } from "plantwire/mqtt";
import { waitFor } from "plantwire/testing";
import { afterAll, describe, expect, it } from "vitest";
import { startFaultProxy } from "../support/fault-proxy.js";
import { rawClient, uniquePrefix } from "./mqtt-fixture.js";

const folder = mkdtempSync(join(tmpdir(), "plantwire-outbox-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("store-and-forward", () => {
  it("survives a process restart with the disk queue: replayed in order, expired messages dropped", async () => {
    const file = join(folder, "restart.jsonl");
    const topic = `${uniquePrefix("outbox")}/data`;
    const child = fileURLToPath(new URL("./outbox-child.ts", import.meta.url));
    const output = execFileSync(process.execPath, ["--import", "tsx", child, file, topic], { encoding: "utf8" });
    expect(JSON.parse(output)).toMatchObject({ queuedNow: 4 });
    expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(4);

    const broker = await startBroker({ port: 0 });
    const consumer = await rawClient(broker.url);
    const received: string[] = [];
    consumer.on("message", (_, payload) => received.push(payload.toString()));
    await consumer.subscribeAsync(topic, { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 5)); // let the 1 ms expiry pass
    const bus = mqtt({ url: broker.url, outbox: { file } });
    expect(bus.stats().queuedNow).toBe(4);
    await bus.connect();
    expect(await waitFor(() => received.length === 3)).toBe(true);
    expect(received).toEqual(["message 1", "message 2", "message 3"]);
    expect(bus.stats()).toMatchObject({ expired: 1, queuedNow: 0 });
    expect(readFileSync(file, "utf8")).toBe("");
    await bus.close();
    await consumer.endAsync();
    await broker.close();
  });

  it("is bounded (oldest dropped and counted) and skips corrupt lines of its file", async () => {
    const file = join(folder, "bounded.jsonl");
    writeFileSync(file, 'not json\n{"topic":"a","payload":"eA==","qos":1,"retain":false}\n');
    const bus = mqtt({ url: "mqtt://127.0.0.1:1", outbox: { file, maxMessages: 2 } });
    expect(bus.stats().queuedNow).toBe(1);
    await bus.publish("a", "2");
    await bus.publish("a", "3");
    expect(bus.stats()).toMatchObject({ queuedNow: 2, overflowed: 1 });
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines.map((line) => Buffer.from(JSON.parse(line).payload, "base64").toString())).toEqual(["2", "3"]);
  });
});

describe("a dead link (blackhole)", () => {
  it("close() returns even with unacknowledged QoS 1 messages, and keeps them queued", async () => {
    const broker = await startBroker({ port: 0 });
    const proxy = await startFaultProxy({ port: broker.port });
    const bus = mqtt({ url: `mqtt://127.0.0.1:${proxy.port}`, keepaliveSeconds: 60 });
    await bus.connect();
    proxy.setMode({ kind: "blackhole" });
    const receipt = bus.publish("blackhole/x", "1", { qos: 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    await bus.close();
    expect(await receipt).toBe("queued");
    expect(bus.stats().queuedNow).toBe(1);
    await proxy.close();
    await broker.close();
  });
});
