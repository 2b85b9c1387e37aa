/** T11 (encoder part): injection strings in descriptions, alarm text and payload strings stay inside their delimiters. */
import { badSample, defineTags, float, goodSample, type Sample, Snapshot, text, Window } from "plantwire";
import { memoryAdapter } from "plantwire/testing";
import { describe, expect, it } from "vitest";
import {
  CONTEXT_PREAMBLE,
  decodeContext,
  encodeSnapshot,
  encodeWindow,
  quoteUntrusted,
} from "../../src/context/index.js";
import { injectionStrings, spans } from "./context-injection-strings.js";

const base = injectionStrings;
const payloads = [...base, ...base.map((payload) => `alarm 42: ${payload} (end)`)];

const memory = memoryAdapter();

function tagsWith(description: string) {
  return defineTags({
    speed: float({ unit: "rpm", range: [0, 1800], resolution: 1, description, source: memory.key("speed") }),
    alarm: text({ maxLength: 10_000, description, source: memory.key("alarm") }),
    // Shares unit and range with speed: the two are grouped under one "# rpm ..1800" line, with their descriptions.
    standby: float({ unit: "rpm", range: [0, 1800], resolution: 1, description, source: memory.key("standby") }),
  });
}

describe("T11: untrusted plant strings stay inside their delimiters and are capped", () => {
  it("has about 50 payloads", () => {
    // About 50 distinct strings, each also inside an ordinary alarm text.
    expect(new Set(base).size).toBeGreaterThanOrEqual(50);
    expect(payloads.length).toBe(base.length * 2);
  });

  it.each(payloads.map((payload, index) => [index, payload]))(
    "payload %i in a description, an alarm value and a window cell",
    (_index, payload) => {
      const encodings = (text: string) => {
        // The tag map itself caps descriptions at 500 characters; the encoder caps them again, lower.
        const tags = tagsWith(text.slice(0, 500));
        const now = Date.UTC(2026, 0, 1);
        const snapshot = new Snapshot(
          tags,
          new Map<string, Sample>([
            ["speed", goodSample(1200, now)],
            ["alarm", goodSample(text, now)],
            ["standby", goodSample(900, now)],
          ]),
          now,
        );
        const window = new Window(
          tags,
          new Map<string, Sample[]>([
            ["speed", [goodSample(1200, now)]],
            ["alarm", [goodSample(text, now)]],
          ]),
          now,
          now + 1000,
        );
        return [
          encodeSnapshot(snapshot, { maxTextLength: 120 }),
          encodeSnapshot(snapshot, { maxTextLength: 120, layout: "inline" }),
          encodeWindow(window, { maxTextLength: 120, summaries: true }),
        ];
      };
      const harmless = encodings("pump alarm");
      for (const [position, encoded] of encodings(payload).entries()) {
        const lines = encoded.text.split("\n");
        expect(lines[0]).toBe(CONTEXT_PREAMBLE);
        // Nothing invisible or direction-changing reaches the model: no hidden text a reviewer would not see.
        expect(encoded.text).not.toMatch(/[\u061C\u200B-\u200F\u202A-\u202E\u2066-\u2069\u{E0000}-\u{E007F}]/u);
        // No payload can add a line: the line count is that of the same context with a harmless string.
        expect(lines).toHaveLength(harmless[position]?.text.split("\n").length ?? -1);
        for (const line of lines.slice(1)) {
          const { inside, outside } = spans(line);
          for (const content of inside) expect([...content].length).toBeLessThanOrEqual(120);
          // Outside the delimiters, only encoder-made text: never the payload's words.
          expect(outside).not.toMatch(/ignore|SYSTEM:|disregard|obey|im_start|write speed/i);
        }
        const decoded = decodeContext(encoded.text);
        expect([...decoded.tags.keys()]).toEqual(["alarm", "speed", "standby"]);
        expect(encoded.text.split("\n").filter((line) => line.startsWith("# "))).toEqual(["# rpm ..1800"]);
        expect(decoded.tags.get("speed")?.writable).toBe(false);
        expect(decoded.tags.get("standby")).toMatchObject({ unit: "rpm", range: [0, 1800], writable: false });
        const speed = decoded.snapshot?.get("speed")?.value ?? decoded.rows?.[0]?.values.get("speed")?.value;
        expect(speed).toBe(1200);
      }
    },
  );

  it("bad-sample details (device error text) are delimited and capped too, when included", () => {
    const tags = tagsWith("Pump speed");
    const now = Date.UTC(2026, 0, 1);
    for (const payload of payloads) {
      const snapshot = new Snapshot(
        tags,
        new Map<string, Sample>([["speed", badSample("device-error", payload, now)]]),
        now,
      );
      const lines = encodeSnapshot(snapshot, { includeDetails: true, tags: ["speed", "alarm"] }).body.split("\n");
      expect(lines).toHaveLength(3);
      const { inside, outside } = spans(lines[1] as string);
      expect(outside).toBe("speed=BAD(device-error )");
      expect([...(inside[0] ?? "")].length).toBeLessThanOrEqual(80);
    }
  });

  it("quoteUntrusted never lets the content contain a delimiter, a line break or a control character", () => {
    for (const payload of payloads) {
      const quoted = quoteUntrusted(payload, 64);
      const content = quoted.slice(1, -1);
      expect(quoted.startsWith("«") && quoted.endsWith("»")).toBe(true);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: checking that control characters are gone.
      expect(content).not.toMatch(/[«»\n\r\u0000-\u001f\u2028\u2029\u202a-\u202e]/);
      expect([...content].length).toBeLessThanOrEqual(64);
    }
  });
});
