/**
 * T11 through the real sources: the injection strings arrive as MQTT payloads (the embedded broker and the MQTT
 * adapter) and as SQL rows (SQLite through the SQL adapter), are read into a snapshot like any plant text, and the
 * encoded context keeps every one inside its delimiters, capped, with nothing invisible left in it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { createPlant, defineTags, text } from "plantwire";
import { mqtt, startBroker } from "plantwire/mqtt";
import { sql } from "plantwire/sql";
import { describe, expect, it } from "vitest";
import { decodeContext, encodeSnapshot } from "../../src/context/index.js";
import { rawClient, uniquePrefix } from "../mqtt/mqtt-fixture.js";
import { injectionStrings, spans } from "./context-injection-strings.js";

const payloadWords = /ignore|SYSTEM:|disregard|obey|im_start|write speed|propose_write|APPROVED/i;

/** Every «…» span on every line is closed, capped, and the text outside them is the encoder's own. */
function expectContained(textOfContext: string, cap: number) {
  expect(textOfContext).not.toMatch(/[\u061C\u200B-\u200F\u202A-\u202E\u2066-\u2069\u{E0000}-\u{E007F}]/u);
  for (const line of textOfContext.split("\n").slice(1)) {
    const { inside, outside } = spans(line);
    for (const content of inside) expect([...content].length).toBeLessThanOrEqual(cap);
    expect(outside).not.toMatch(payloadWords);
  }
}

describe("T11: injection strings from MQTT payloads and SQL rows stay inside their delimiters", () => {
  it(`${injectionStrings.length} MQTT payloads`, async () => {
    const broker = await startBroker({ port: 0 });
    const prefix = uniquePrefix("t11");
    const publisher = await rawClient(broker.url);
    const bus = mqtt({ url: broker.url, name: "bus", initialValueWaitMs: 2000 });
    const definitions: Record<string, ReturnType<typeof text>> = {};
    for (const [index, payload] of injectionStrings.entries()) {
      await publisher.publishAsync(`${prefix}/alarm/${index}`, payload, { qos: 1, retain: true });
      definitions[`alarm${index}`] = text({ maxLength: 10_000, source: bus.topic(`${prefix}/alarm/${index}`) });
    }
    const plant = createPlant({ tags: defineTags(definitions) });
    const snapshot = await plant.read();
    const good = snapshot.entries().filter(([, sample]) => sample.quality === "good");
    expect(good).toHaveLength(injectionStrings.length);
    const encoded = encodeSnapshot(snapshot, { maxTextLength: 120 });
    expectContained(encoded.text, 120);
    expect([...(decodeContext(encoded.text).snapshot?.keys() ?? [])]).toEqual(Object.keys(definitions));
    for (const index of injectionStrings.keys())
      await publisher.publishAsync(`${prefix}/alarm/${index}`, "", { retain: true });
    await publisher.endAsync();
    await plant.close();
    await broker.close();
  });

  it(`${injectionStrings.length} SQL rows`, async () => {
    const file = join(mkdtempSync(join(tmpdir(), "plantwire-t11-sql-")), "plant.db");
    const database = new Database(file);
    database.exec("CREATE TABLE events (tag TEXT NOT NULL, time INTEGER NOT NULL, value TEXT)");
    const insert = database.prepare("INSERT INTO events (tag, time, value) VALUES (?, ?, ?)");
    for (const [index, payload] of injectionStrings.entries()) insert.run(`alarm.${index}`, Date.now(), payload);
    database.close();
    const historian = sql({ url: `sqlite:${file}`, name: "historian" });
    const events = { table: "events", tagColumn: "tag", timeColumn: "time", valueColumn: "value" };
    const definitions: Record<string, ReturnType<typeof text>> = {};
    for (const index of injectionStrings.keys())
      definitions[`alarm${index}`] = text({ maxLength: 10_000, source: historian.narrow(events, `alarm.${index}`) });
    const plant = createPlant({ tags: defineTags(definitions) });
    const snapshot = await plant.read();
    const good = snapshot.entries().filter(([, sample]) => sample.quality === "good");
    expect(good).toHaveLength(injectionStrings.length);
    for (const layout of ["header", "inline"] as const) {
      const encoded = encodeSnapshot(snapshot, { maxTextLength: 120, layout });
      expectContained(encoded.text, 120);
    }
    await plant.close();
  });
});
