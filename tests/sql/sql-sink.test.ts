/**
 * Sinks: batched inserts in one transaction per batch; a batch that fails midway leaves no partial rows and is
 * retried whole; rows are checked before they are queued.
 */
import { ConnectionError, ValidationError } from "plantwire";
import { createPlantwireSchema, plantwireEventsTemplate, sql } from "plantwire/sql";
import { waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execRaw, testDatabases, uniqueSuffix } from "./sql-databases.js";

const databases = await testDatabases();

for (const database of databases) {
  describe.skipIf(database.skipReason !== undefined)(`sql sinks on ${database.label}`, () => {
    const prefix = `pws_${uniqueSuffix()}`;
    const events = plantwireEventsTemplate(prefix);
    const lateTable = `${prefix}_late`;
    const db = sql({
      url: database.url,
      name: "sinks",
      templates: { events, late: { table: lateTable, columns: ["n"] } },
    });
    const raw = (text: string) => execRaw(database.dialect, db.getInstance(), text);
    const count = async (table: string) =>
      Number(Object.values((await raw(`SELECT COUNT(*) AS c FROM ${table}`))[0] as object)[0]);
    const event = (index: number) => ({
      time: new Date(Date.UTC(2026, 0, 1) + index),
      kind: "result",
      message: `row ${index}`,
    });

    beforeAll(async () => {
      await createPlantwireSchema({ url: database.url, prefix });
      await db.connect();
    });
    afterAll(async () => {
      for (const table of [`${prefix}_samples`, events.table, lateTable]) await raw(`DROP TABLE IF EXISTS ${table}`);
      await db.close();
    });

    it("writes batches of batchSize in transactions, on flush and on its timer", async () => {
      await raw(`DELETE FROM ${events.table}`);
      const sink = db.sink("events", { batchSize: 500, flushIntervalMs: 20 });
      for (let index = 0; index < 1200; index++) sink.push(event(index));
      expect(await waitFor(() => sink.written === 1200, 10_000)).toBe(true);
      expect(sink.pending).toBe(0);
      sink.push(event(5000));
      await sink.close();
      expect(sink.written).toBe(1201);
      expect(await count(events.table)).toBe(1201);
      expect(() => sink.push(event(1))).toThrow(/closed/);
    });

    it("leaves no partial rows when a batch fails midway, and keeps the batch", async () => {
      await raw(`DELETE FROM ${events.table}`);
      const errors: unknown[] = [];
      const sink = db.sink("events", {
        batchSize: 5000,
        flushIntervalMs: 60_000,
        onError: (error) => errors.push(error),
      });
      // 1500 good rows, then one that breaks NOT NULL on "kind": the first INSERT statement of the batch has
      // already run inside the transaction when the second fails.
      for (let index = 0; index < 1500; index++) sink.push(event(index));
      sink.push({ time: new Date(), kind: null, message: "breaks NOT NULL" });
      for (let index = 1500; index < 1600; index++) sink.push(event(index));
      await expect(sink.flush()).rejects.toThrow();
      expect(await count(events.table)).toBe(0);
      expect(sink.pending).toBe(1601);
      expect(sink.failedFlushes).toBe(1);
      await expect(sink.flush()).rejects.toThrow();
      expect(await count(events.table)).toBe(0);
      await sink.close().catch(() => {});
      expect(errors).toEqual([]);
    });

    it("retries a failed batch whole on the next flush: every row exactly once", async () => {
      const sink = db.sink("late", { batchSize: 100, flushIntervalMs: 60_000, onError: () => {} });
      for (let n = 0; n < 250; n++) sink.push({ n });
      await expect(sink.flush()).rejects.toThrow();
      expect(sink.pending).toBe(250);
      await raw(`CREATE TABLE ${lateTable} (n INTEGER NOT NULL)`);
      await sink.flush();
      expect(sink.pending).toBe(0);
      expect(await count(lateTable)).toBe(250);
      const distinct = await raw(`SELECT COUNT(DISTINCT n) AS c FROM ${lateTable}`);
      expect(Number(Object.values(distinct[0] as object)[0])).toBe(250);
      await sink.close();
    });

    it("flushes open sinks when the adapter closes", async () => {
      const own = sql({ url: database.url, name: "closing", templates: { events } });
      await own.connect();
      await raw(`DELETE FROM ${events.table}`);
      const sink = own.sink("events", { batchSize: 1000, flushIntervalMs: 60_000 });
      for (let index = 0; index < 10; index++) sink.push(event(index));
      await own.close();
      expect(sink.written).toBe(10);
      expect(await count(events.table)).toBe(10);
      expect(() => sink.push(event(11))).toThrow(/closed/);
    });

    it("insert() writes all rows or none", async () => {
      await raw(`DELETE FROM ${events.table}`);
      await db.insert("events", [event(1), event(2), event(3)]);
      expect(await count(events.table)).toBe(3);
      await expect(db.insert("events", [event(4), { time: new Date(), kind: null }])).rejects.toThrow();
      expect(await count(events.table)).toBe(3);
    });

    it("checks rows before queueing them", () => {
      const sink = db.sink("events", { flushIntervalMs: 60_000 });
      expect(() => sink.push({ time: new Date(), kind: "x", nope: 1 } as never)).toThrow(ValidationError);
      expect(() => sink.push({ time: new Date(), kind: "x", message: Number.NaN as never })).toThrow(ValidationError);
      expect(() => sink.push({ time: new Date(), kind: "x", data: { a: 1 } as never })).toThrow(ValidationError);
      expect(() => db.sink("nope" as never)).toThrow(ValidationError);
      expect(sink.pending).toBe(0);
    });

    it("refuses rows beyond maxPendingRows instead of growing without bound", async () => {
      const full = db.sink("events", { batchSize: 2, maxPendingRows: 2, flushIntervalMs: 60_000 });
      full.push(event(1));
      full.push(event(2));
      // The background flush of the full batch has not run yet (it is asynchronous), so the buffer is at its cap.
      expect(() => full.push(event(3))).toThrow(ConnectionError);
      await full.close();
      expect(full.pending).toBe(0);
    });
  });
}
