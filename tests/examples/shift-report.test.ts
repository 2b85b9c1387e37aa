/**
 * The shift report end to end against the plant simulator's SQLite historian: after a cavitation fault, the cron
 * trigger fires, the model (the real openai client against the local test server) is sent the shift's bucketed
 * window with summaries, and its handover lands as a shift-log row and a Markdown file. Nothing is written to the
 * plant.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { CONTEXT_PREAMBLE, loadTagMap, openaiModel } from "plantwire";
import { type SqlAdapter, sql } from "plantwire/sql";
import { startOpenAITestServer, waitFor } from "plantwire/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ShiftSummary, startShiftReport } from "../../examples/shift-report.js";
import { shiftReportStandIn } from "../../examples/station-demo-parts.js";
import { type PlantSimulator, startPlantSimulator } from "../../src/sim/plant-simulator.js";
import { stationTagMapFile } from "../../src/sim/station-tag-map-files.js";

const answer = {
  summary: "Pump 7 ran at 1200 rpm until cavitation set in.",
  concerns: ["vibration near 8 mm/s since the fault"],
  handover: "check the suction side before raising the speed",
};

function shiftLogRows(file: string) {
  const database = new Database(file, { readonly: true });
  try {
    return database
      .prepare("SELECT source, kind, message, data FROM plantwire_events WHERE kind = 'shift-report' ORDER BY id")
      .all() as { source: string; kind: string; message: string; data: string }[];
  } finally {
    database.close();
  }
}

describe("shift-report against the simulator's historian", () => {
  const folder = mkdtempSync(join(tmpdir(), "plantwire-shift-report-"));
  let simulator: PlantSimulator;
  let historian: SqlAdapter;
  let setpointBefore: number;

  beforeAll(async () => {
    simulator = await startPlantSimulator({
      modbus: false,
      opcua: false,
      mqtt: false,
      historian: { file: join(folder, "historian.db") },
      tickMs: 100,
      speedup: 10,
    });
    setpointBefore = simulator.model.values.speedSetpoint;
    historian = sql({ url: simulator.urls.historian!, name: "reader" });
    await historian.connect();
    await simulator.setFault("cavitation", true);
    // Enough of the fault is in the historian (it writes a batch a second) for the averages to show it.
    const { vibration } = await loadTagMap(stationTagMapFile("historian"), { adapters: { historian } });
    expect(vibration?.type).toBe("float");
    const cavitating = async () => {
      const window = await historian.history({ vibration: vibration! }, Date.now() - 60_000, Date.now() + 1000);
      const high = window.series("vibration").filter(({ value }) => typeof value === "number" && value > 6);
      return high.length >= 30;
    };
    expect(await waitFor(cavitating, 15_000, 200)).toBe(true);
  });

  afterAll(async () => {
    await historian.close();
    await simulator.close();
  });

  it("on its cron schedule, sends the shift's window to the model and writes the handover to SQL and Markdown", async () => {
    const server = await startOpenAITestServer({ replies: () => ({ content: JSON.stringify(answer) }) });
    const shiftLogFile = join(folder, "shift-log.db");
    const reports = join(folder, "reports");
    const report = await startShiftReport({
      historianUrl: simulator.urls.historian,
      shiftLogUrl: `sqlite:${shiftLogFile}`,
      folder: reports,
      schedule: "* * * * * *", // every second, so the test sees the cron trigger fire
      shiftMs: 60_000,
      model: openaiModel({ baseURL: server.baseURL, apiKey: "test", model: "scripted" }),
      audit: join(folder, "report-audit.jsonl"),
      log: () => {},
    });
    try {
      expect(await waitFor(() => shiftLogRows(shiftLogFile).length >= 1, 10_000)).toBe(true);
      await report.loop.stop();

      // The compact context: the historian's tags once in the header, the bucketed window with summaries.
      const [system, user] = server.requests[0]!.body.messages as { role: string; content: string }[];
      const header = system!.content.slice(system!.content.indexOf(CONTEXT_PREAMBLE));
      expect(header.startsWith(CONTEXT_PREAMBLE)).toBe(true);
      for (const name of ["level", "speed", "pressure", "flow", "bearingTemperature", "vibration"])
        expect(header).toMatch(new RegExp(`^${name}\\b`, "m"));
      expect(header).not.toMatch(/^(alarm|alarmText|mode|running)\b/m); // not in the historian
      const body = user!.content;
      expect(body).toMatch(/^WINDOW .* time=\S+\+t\*1250ms\b/m); // a minute's shift in buckets of 1/48
      expect(body).toMatch(/^SUMMARY over /m);
      expect(Number(/^vibration n=\d+ .*\bmax=([\d.]+)/m.exec(body)?.[1])).toBeGreaterThan(6);

      const [row] = shiftLogRows(shiftLogFile);
      expect(row).toMatchObject({ source: "shift-report", message: answer.summary });
      const data = JSON.parse(row!.data) as { file: string; from: number; to: number; model: string };
      expect(data).toMatchObject({ ...answer, model: "openai:scripted" });
      expect(data.to - data.from).toBe(60_000);

      expect(existsSync(data.file)).toBe(true);
      expect(data.file.startsWith(reports)).toBe(true);
      const markdown = readFileSync(data.file, "utf8");
      expect(markdown).toMatch(/^# Shift report/);
      expect(markdown).toContain(answer.summary);
      expect(markdown).toContain(`- ${answer.concerns[0]}`);
      expect(markdown).toContain(answer.handover);
      expect(markdown).toMatch(/^vibration n=\d+ /m); // the data behind it
      expect(simulator.model.values.speedSetpoint).toBe(setpointBefore); // reads and reports only
      // The row left as a guarded output: on the audit before and after it was written.
      const audit = readFileSync(join(folder, "report-audit.jsonl"), "utf8");
      expect(audit).toContain('"output":"shiftLog"');
      expect(audit).toMatch(/"type":"outcome"[^\n]*"write":"written"|"write":"written"[^\n]*"type":"outcome"/);
    } finally {
      await report.loop.stop();
      await report.guard.close();
      await report.plant.close();
      await report.shiftLog.close();
      await server.close();
    }
  });

  it("runs once at start when asked, and the stand-in answers in the report's schema", async () => {
    const shiftLogFile = join(folder, "stand-in-log.db");
    const report = await startShiftReport({
      historianUrl: simulator.urls.historian,
      shiftLogUrl: `sqlite:${shiftLogFile}`,
      folder: join(folder, "stand-in-reports"),
      schedule: "0 0 1 1 *", // once a year: only the run at start happens here
      shiftMs: 60_000,
      runNow: true,
      model: shiftReportStandIn,
      audit: join(folder, "stand-in-audit.jsonl"),
      log: () => {},
    });
    try {
      expect(await waitFor(() => shiftLogRows(shiftLogFile).length === 1, 10_000)).toBe(true);
      const data = JSON.parse(shiftLogRows(shiftLogFile)[0]!.data) as Record<string, unknown>;
      const summary = ShiftSummary.parse({ summary: data.summary, concerns: data.concerns, handover: data.handover });
      expect(summary.summary).toMatch(/^Pump 7 averaged \d+ rpm/);
      expect(summary.concerns.some((concern) => concern.startsWith("vibration reached"))).toBe(true);
      expect(readFileSync(data.file as string, "utf8")).toContain("Written by function:shift report rule.");
    } finally {
      await report.loop.stop();
      await report.guard.close();
      await report.plant.close();
      await report.shiftLog.close();
    }
  });
});
