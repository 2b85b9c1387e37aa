/**
 * T5 for the other decoders that take outside bytes or text: the simulator's frame parser (a hostile client) and
 * config-file sources (arbitrary YAML values).
 */
import net from "node:net";
import fc from "fast-check";
import { ConfigError, integer } from "plantwire";
import { type ModbusAddress, modbus, startModbusSimulator } from "plantwire/modbus";
import { describe, expect, it } from "vitest";

function send(port: number, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port }, () => socket.end(Buffer.from(bytes)));
    socket.on("data", () => {});
    socket.on("error", () => resolve());
    socket.on("close", () => resolve());
  });
}

describe("T5: fuzzing Modbus inputs", () => {
  for (const framing of ["tcp", "rtu"] as const) {
    it(`the simulator survives random ${framing} frames and keeps serving`, async () => {
      const simulator = await startModbusSimulator({ framing });
      try {
        const header = fc.tuple(
          fc.integer({ min: 0, max: 65535 }),
          fc.constantFrom(0, 0, 7),
          fc.integer({ min: 0, max: 300 }),
        );
        const frames = fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc
            .tuple(header, fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 260 }))
            .map(([[id, protocol, length], unit, pdu]) => {
              const frame = Buffer.alloc(7 + pdu.length);
              frame.writeUInt16BE(id, 0);
              frame.writeUInt16BE(protocol, 2);
              frame.writeUInt16BE(length, 4);
              frame[6] = unit;
              Buffer.from(pdu).copy(frame, 7);
              return new Uint8Array(frame);
            }),
        );
        await fc.assert(
          fc.asyncProperty(frames, (bytes) => send(simulator.port, bytes)),
          { numRuns: 150 },
        );
        const drive = modbus({ url: simulator.url, timeoutMs: 500 });
        const tag = integer({ source: drive.holding(3) });
        simulator.setTag(tag.source.address as ModbusAddress, 99);
        await drive.connect();
        const [sample] = await drive.read([
          { name: "t", definition: tag, address: tag.source.address as ModbusAddress },
        ]);
        expect(sample?.value).toBe(99);
        await drive.close();
      } finally {
        await simulator.close();
      }
    });
  }

  it("config-file sources: any input gives a source or a ConfigError, nothing else", () => {
    const drive = modbus({ url: "modbus+tcp://127.0.0.1:1", name: "drive" });
    const keys = [
      "holding",
      "input",
      "coil",
      "discrete",
      "register",
      "dataType",
      "wordOrder",
      "unit",
      "scale",
      "offset",
      "registers",
      "bit",
      "other",
    ];
    const values = fc.oneof(
      fc.integer({ min: -10, max: 70000 }),
      fc.double(),
      fc.string({ maxLength: 8 }),
      fc.constantFrom("float32", "string", "bool", "CDAB", "40001", "465536", null, true),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...keys), values, { maxKeys: 5 }), (raw) => {
        try {
          const source = drive.parseSource?.(raw);
          expect(source?.adapter).toBe(drive);
        } catch (error) {
          expect(ConfigError.isInstance(error), String(error)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
