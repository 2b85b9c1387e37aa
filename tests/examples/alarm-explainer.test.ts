/**
 * The alarm explainer end to end against the plant simulator: the OPC UA alarm bit comes on after a cavitation fault,
 * the model (the real openai client against the local test server) is sent the compact window of related signals,
 * and its explanation arrives on the simulator's MQTT broker and as a shift-log row in SQLite. Nothing is written to
 * the plant.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { CONTEXT_PREAMBLE, encodeWindow, goodSample, loadTagMap, openaiModel, type Sample, Window } from "plantwire";
import { eventMessageSchema } from "plantwire/mqtt";
import { opcua } from "plantwire/opcua";
import { startOpenAITestServer, waitFor } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import { AlarmExplanation, startAlarmExplainer } from "../../examples/alarm-explainer.js";
import { alarmStandIn } from "../../examples/station-demo-parts.js";
import { startPlantSimulator } from "../../src/sim/plant-simulator.js";
import { stationTagMapFile } from "../../src/sim/station-tag-map-files.js";
import { rawClient } from "../mqtt/mqtt-fixture.js";

const answer = {
  cause: "cavitation at the pump inlet",
  evidence: ["vibration rose above 7 mm/s", "flow fell"],
  action: "check the suction side",
};

describe("alarm-explainer against the simulator", () => {
  it("explains the alarm from a window of related signals, publishes it on MQTT and logs it in SQL", async () => {
    const folder = mkdtempSync(join(tmpdir(), "plantwire-alarm-explainer-"));
    const simulator = await startPlantSimulator({
      modbus: false,
      opcua: { port: 0 },
      mqtt: { port: 0 },
      historian: false,
      tickMs: 100,
      speedup: 5,
    });
    const setpointBefore = simulator.model.values.speedSetpoint;
    const server = await startOpenAITestServer({ replies: () => ({ content: JSON.stringify(answer) }) });
    const subscriber = await rawClient(simulator.urls.mqtt!);
    const messages: unknown[] = [];
    subscriber.on("message", (_topic, payload) => messages.push(JSON.parse(payload.toString("utf8"))));
    await subscriber.subscribeAsync("plantwire/pump-station/alarm-explanations", { qos: 1 });
    const shiftLogFile = join(folder, "shift-log.db");
    const lines: string[] = [];
    const explainer = await startAlarmExplainer({
      opcuaUrl: simulator.urls.opcua,
      pkiFolder: join(folder, "pki"),
      mqttUrl: simulator.urls.mqtt,
      shiftLogUrl: `sqlite:${shiftLogFile}`,
      model: openaiModel({ baseURL: server.baseURL, apiKey: "test", model: "scripted" }),
      audit: join(folder, "explainer-audit.jsonl"),
      log: (line) => lines.push(line),
    });
    try {
      // The related signals are being watched (OPC UA reports them past their deadbands) and the alarm bit has been
      // seen off, so its coming on is a rising edge.
      expect(
        await waitFor(
          () => explainer.plant.history("vibration").length >= 1 && explainer.plant.history("alarm").length >= 1,
          10_000,
        ),
      ).toBe(true);
      expect(explainer.plant.history("alarm").at(-1)?.value).toBe(false);
      expect(server.requests).toHaveLength(0);

      await simulator.setFault("cavitation", true);
      expect(await waitFor(() => messages.length >= 1, 15_000)).toBe(true);

      // The model was sent the compact context: the tag header of the related signals in the system message, the
      // window with its summaries in the user message, the alarm words fenced as plant data.
      expect(server.requests).toHaveLength(1); // one explanation per alarm episode
      const [system, user] = server.requests[0]!.body.messages as { role: string; content: string }[];
      const header = system!.content.slice(system!.content.indexOf(CONTEXT_PREAMBLE));
      expect(header.startsWith(CONTEXT_PREAMBLE)).toBe(true);
      const body = user!.content.slice(0, user!.content.lastIndexOf("\n\n"));
      const related = ["vibration", "bearingTemperature", "pressure", "flow", "speed", "motorCurrent", "level"];
      for (const name of [...related, "alarmText"]) expect(header).toMatch(new RegExp(`^${name}\\b`, "m"));
      expect(header).not.toMatch(/^speedSetpoint\b/m);
      const vibration = /^vibration n=\d+ .*\bmax=([\d.]+)/m.exec(body);
      expect(Number(vibration?.[1])).toBeGreaterThan(6);
      // Columns shown with decimals are written in whole steps (`vibration*10`).
      const columns = [...related, "alarmText"].map((name) => `${name}(\\*10+)?`).join("\\|");
      expect(body).toMatch(new RegExp(`^t\\|${columns}$`, "m"));
      expect(body).toContain("«High vibration");
      expect(body).not.toContain("speedSetpoint");

      const event = eventMessageSchema.parse(messages[0]);
      expect(event).toMatchObject({ type: "alarm.explanation", severity: "alarm", message: answer.cause });
      expect(event.data).toMatchObject({ ...answer, model: "openai:scripted" });
      expect(event.data?.alarmText).toMatch(/High vibration/);

      expect(await waitFor(() => lines.length >= 1)).toBe(true);
      const database = new Database(shiftLogFile, { readonly: true });
      const rows = database
        .prepare("SELECT source, kind, tag, message, data FROM plantwire_events WHERE kind = 'alarm-explanation'")
        .all() as { source: string; tag: string; message: string; data: string }[];
      database.close();
      expect(rows.length).toBeGreaterThanOrEqual(1);
      expect(rows[0]).toMatchObject({ source: "alarm-explainer", tag: "alarm" });
      expect(rows[0]!.message).toMatch(/^High vibration .*: cavitation at the pump inlet$/);
      expect(JSON.parse(rows[0]!.data)).toMatchObject(answer);

      // It only reads and reports: the setpoint is where it was.
      expect(simulator.model.values.speedSetpoint).toBe(setpointBefore);
      // The model's text left only as guarded outputs, each on the audit before it was sent, and after it.
      const records = readFileSync(join(folder, "explainer-audit.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line) as { type: string; output?: string; tag?: string; write?: string });
      const attempts = records.filter((record) => record.type === "attempt").map((record) => record.output);
      expect(attempts.slice(0, 2)).toEqual(["explanation", "shiftLog"]);
      const outcomes = records.filter((record) => record.type === "outcome").slice(0, 2);
      expect(outcomes.map((record) => [record.tag, record.write])).toEqual([
        ["output:explanation", "written"],
        ["output:shiftLog", "written"],
      ]);
    } finally {
      await explainer.loop.stop();
      await explainer.guard.close();
      await explainer.plant.close();
      await explainer.bus.close();
      await explainer.shiftLog.close();
      await subscriber.endAsync();
      await server.close();
      await simulator.close();
    }
  });

  it("the stand-in answers in the explainer's schema, from the alarm words and the window's trends", async () => {
    const plc = opcua({ endpoint: "opc.tcp://127.0.0.1:1", name: "placeholder" }); // never connects
    const tags = await loadTagMap(stationTagMapFile("opcua"), { adapters: { plc } });
    const start = Date.now() - 60_000;
    const explain = (bearingTemperatures: number[]) => {
      const series = new Map<string, Sample[]>([
        ["vibration", [1.8, 2.1, 8.4, 8.1].map((value, index) => goodSample(value, start + index * 10_000))],
        ["bearingTemperature", bearingTemperatures.map((value, index) => goodSample(value, start + index * 10_000))],
        ["alarmText", [goodSample("", start), goodSample("High vibration 8.4 mm/s", start + 20_000)]],
      ]);
      const window = new Window(tags, series, start, start + 40_000);
      const context = encodeWindow(window, { tags: ["vibration", "bearingTemperature", "alarmText"], summaries: true });
      return alarmStandIn.generate({ instructions: "Explain", context, output: AlarmExplanation });
    };
    const steady = await explain([45.2, 45.1, 45.1, 45.0]);
    expect(steady.cause).toMatch(/^cavitation/);
    expect(steady.evidence).toHaveLength(2);
    expect(steady.evidence[0]).toMatch(/^vibration 1\.8\.\.8\.4\b/);
    expect(steady.evidence[1]).toMatch(/^bearingTemperature 45(\.0)?\.\.45\.2\b/);
    const heating = await explain([45, 48, 52, 57]);
    expect(heating.cause).toMatch(/^bearing wear/);
  });
});
