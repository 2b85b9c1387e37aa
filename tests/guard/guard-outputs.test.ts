/**
 * T20, the guard's side: model-produced messages and rows leave only as guarded, audited outputs — on the real
 * Mosquitto and the real PostgreSQL. Each item is checked (shape, allowed topic, size, rate), recorded before it is
 * sent, held for a person where the policy says so, and sent once.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGuard, createPlant, defineTags, float, verifyAuditLog } from "plantwire";
import { mqtt } from "plantwire/mqtt";
import { sql } from "plantwire/sql";
import { memoryAdapter, waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { rawClient, uniquePrefix } from "../mqtt/mqtt-fixture.js";
import { serviceSkipReason, services } from "../support/services.js";

const mosquittoSkip = await serviceSkipReason("mosquitto");
const postgresSkip = await serviceSkipReason("postgres");
const skip = mosquittoSkip ?? postgresSkip;

function records(file: string) {
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe.skipIf(skip !== undefined)(`guarded outputs on Mosquitto and PostgreSQL${skip ? ` (${skip})` : ""}`, () => {
  it("sends checked, audited messages and rows; refuses the rest with their codes", async () => {
    const prefix = uniquePrefix("guard-outputs");
    const table = `pw_notes_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
    const drive = memoryAdapter({ name: "drive", values: { pressure: 6 } });
    const plant = createPlant({ tags: defineTags({ pressure: float({ source: drive.key("pressure") }) }) });
    const bus = mqtt({ url: services.mosquitto.url, name: "bus" });
    const historian = sql({
      url: services.postgres.url,
      name: "historian",
      templates: { notes: { table, columns: ["source", "message"] } },
    });
    const consumer = await rawClient(services.mosquitto.url);
    const received: { topic: string; payload: string }[] = [];
    consumer.on("message", (topic, payload) => received.push({ topic, payload: payload.toString("utf8") }));
    await consumer.subscribeAsync(`${prefix}/#`, { qos: 1 });
    await Promise.all([bus.connect(), historian.connect()]);
    const setup = sql({ url: services.postgres.url, name: "setup", templates: {} });
    await setup.connect();
    const pool = setup.getInstance() as { query(text: string): Promise<{ rows: { count: string }[] }> };
    await pool.query(`CREATE TABLE ${table} (source text, message text)`);
    const audit = join(mkdtempSync(join(tmpdir(), "plantwire-outputs-")), "audit.jsonl");
    const guard = createGuard({
      plant,
      audit,
      writable: [],
      allowSameProcessApproval: true,
      outputs: {
        notes: { channel: bus.messageOutput({ topics: [`${prefix}/notes`] }), maxBytes: 200, perMinute: 2 },
        log: { channel: historian.rowOutput("notes"), approval: "required" },
      },
    });
    try {
      const origin = { reason: "explains the alarm", loop: "explainer", modelId: "scripted" };
      const sent = await guard.send("notes", { topic: `${prefix}/notes`, payload: "cavitation at the inlet" }, origin);
      expect(sent).toMatchObject({ state: "executed", outcome: { write: "written" } });
      expect(await waitFor(() => received.length === 1)).toBe(true);
      expect(received[0]).toEqual({ topic: `${prefix}/notes`, payload: "cavitation at the inlet" });

      const codes = async (output: string, item: unknown) =>
        (await guard.send(output, item, origin)).verdicts
          .filter((verdict) => !verdict.passed)
          .map((verdict) => verdict.code);
      expect(await codes("notes", { topic: `${prefix}/other`, payload: "x" })).toEqual(["invalid-value"]);
      expect(await codes("notes", { topic: `${prefix}/notes`, payload: "x".repeat(500) })).toEqual(["too-large"]);
      expect(await codes("shout", { topic: `${prefix}/notes`, payload: "x" })).toEqual(["unknown-output"]);
      expect((await guard.send("notes", { topic: `${prefix}/notes`, payload: "second" }, origin)).state).toBe(
        "executed",
      );
      expect(await codes("notes", { topic: `${prefix}/notes`, payload: "third" })).toEqual(["rate-too-high"]);

      const row = await guard.send("log", { source: "explainer", message: "cavitation" }, origin);
      expect(row.state).toBe("pending");
      const count = async () => Number((await pool.query(`SELECT COUNT(*) AS count FROM ${table}`)).rows[0]?.count);
      expect(await count()).toBe(0);
      expect((await guard.approve(row.id, { by: "alice" })).outcome).toMatchObject({ write: "written" });
      expect(await count()).toBe(1);
      expect(await codes("log", { source: "explainer", nope: 1 })).toEqual(["invalid-value"]);

      // Sentinel: everything published before it has arrived; only the two allowed messages did.
      await bus.publish(`${prefix}/sentinel`, "end");
      expect(await waitFor(() => received.some((message) => message.topic.endsWith("/sentinel")))).toBe(true);
      expect(received.filter((message) => message.topic.endsWith("/notes")).map((message) => message.payload)).toEqual([
        "cavitation at the inlet",
        "second",
      ]);

      await guard.close();
      const kept = records(audit);
      const attempts = kept.filter((record) => record.type === "attempt");
      expect(attempts.map((record) => record.output)).toEqual(["notes", "notes", "log"]);
      const proposals = kept.filter((record) => record.type === "proposal");
      expect(proposals).toHaveLength(8);
      expect(proposals[0]).toMatchObject({ tag: "output:notes", loop: "explainer", modelId: "scripted" });
      expect(verifyAuditLog(audit).ok).toBe(true);
    } finally {
      await guard.close();
      await pool.query(`DROP TABLE IF EXISTS ${table}`);
      await Promise.all([bus.close(), historian.close(), setup.close(), plant.close()]);
      await consumer.endAsync();
    }
  });

  it("checks, audits and sends the same item: a getter cannot show the checks one topic and the broker another", async () => {
    const prefix = uniquePrefix("guard-outputs-sly");
    const drive = memoryAdapter({ name: "drive", values: { pressure: 6 } });
    const plant = createPlant({ tags: defineTags({ pressure: float({ source: drive.key("pressure") }) }) });
    const bus = mqtt({ url: services.mosquitto.url, name: "bus" });
    const consumer = await rawClient(services.mosquitto.url);
    const received: string[] = [];
    consumer.on("message", (topic) => received.push(topic));
    await consumer.subscribeAsync(`${prefix}/#`, { qos: 1 });
    await bus.connect();
    const audit = join(mkdtempSync(join(tmpdir(), "plantwire-outputs-")), "audit.jsonl");
    const guard = createGuard({
      plant,
      audit,
      writable: [],
      outputs: { notes: { channel: bus.messageOutput({ topics: [`${prefix}/notes`] }) } },
    });
    try {
      let reads = 0;
      const sly = {
        get topic() {
          reads++;
          return reads === 1 ? `${prefix}/notes` : `${prefix}/elsewhere`;
        },
        payload: "sly",
      };
      const sent = await guard.send("notes", sly, { reason: "r" });
      expect(sent.state).toBe("executed");
      expect(reads).toBe(1);
      await bus.publish(`${prefix}/sentinel`, "end");
      expect(await waitFor(() => received.includes(`${prefix}/sentinel`))).toBe(true);
      expect(received).toEqual([`${prefix}/notes`, `${prefix}/sentinel`]);
      const attempt = records(audit).find((record) => record.type === "attempt");
      expect(attempt?.value).toEqual({ topic: `${prefix}/notes`, payload: "sly" });
    } finally {
      await guard.close();
      await Promise.all([bus.close(), plant.close()]);
      await consumer.endAsync();
    }
  });
});
