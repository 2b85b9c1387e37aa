import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPlant, defineTags, float, integer } from "plantwire";
import {
  type ModbusAdapter,
  type ModbusAddress,
  type ModbusSimulator,
  modbus,
  startModbusSimulator,
} from "plantwire/modbus";
import { describe, expect, it } from "vitest";
import { waitFor } from "../../src/testing/index.js";
import { servicesRequired } from "../support/services.js";

/** A serial line needs a pseudo-terminal pair; socat makes one and bridges it to the simulator's RTU framing. */
function socatSkipReason(): string | undefined {
  if (spawnSync("socat", ["-V"], { stdio: "ignore" }).status === 0) return undefined;
  const reason = "socat is not installed (it bridges a pseudo-terminal to the simulator)";
  if (servicesRequired) throw new Error(`${reason}, and PLANTWIRE_REQUIRE_SERVICES=1 requires it`);
  return `${reason}: skipping`;
}
const socatSkip = socatSkipReason();

/** Reads a scaled float and writes a signed register through `drive` (unit 7), and checks the simulator saw one write. */
async function readAndWrite(drive: ModbusAdapter, simulator: ModbusSimulator): Promise<void> {
  const tags = defineTags({
    level: float({ resolution: 0.01, source: drive.input(4, "float32", { wordOrder: "CDAB" }) }),
    setpoint: integer({ source: drive.holding(2, "int16"), write: {} }),
  });
  simulator.setTag(tags.level.source.address as ModbusAddress, 3.75);
  const plant = createPlant({ tags, onError: () => {} });
  try {
    expect((await plant.read()).value("level")).toBe(3.75);
    const bound = {
      name: "setpoint",
      definition: tags.setpoint,
      address: tags.setpoint.source.address as ModbusAddress,
    };
    expect((await drive.write(bound, -12)).outcome).toBe("written");
    expect((await plant.read()).value("setpoint")).toBe(-12);
    expect(simulator.store.writesAt(7, "holding", 2)).toBe(1);
  } finally {
    await plant.close();
  }
}

describe("modbus RTU framing over TCP (modbus+rtu+tcp://, serial gateways)", () => {
  it("reads and writes through RTU frames with CRC", async () => {
    const simulator = await startModbusSimulator({ framing: "rtu" });
    const drive = modbus({ url: simulator.url, unit: 7, name: "rtu", timeoutMs: 500 });
    expect(drive.settings.kind).toBe("rtu-over-tcp");
    try {
      await readAndWrite(drive, simulator);
    } finally {
      await simulator.close();
    }
  });

  it.skipIf(socatSkip !== undefined)(
    `reads and writes over a serial line: serialport on a pseudo-terminal${socatSkip ? ` (${socatSkip})` : ""}`,
    async () => {
      const simulator = await startModbusSimulator({ framing: "rtu" });
      const folder = mkdtempSync(join(tmpdir(), "plantwire-rtu-"));
      const tty = join(folder, "ttyV0");
      const bridge = spawn("socat", [`pty,raw,echo=0,link=${tty}`, `tcp:127.0.0.1:${simulator.port}`], {
        stdio: "ignore",
      });
      const drive = modbus({ url: `modbus+rtu://${tty}?baudRate=19200&parity=even`, unit: 7, timeoutMs: 500 });
      try {
        expect(await waitFor(() => existsSync(tty), 5000)).toBe(true);
        expect(drive.settings.kind).toBe("rtu");
        await readAndWrite(drive, simulator);
      } finally {
        await drive.close();
        bridge.kill();
        await simulator.close();
        rmSync(folder, { recursive: true, force: true });
      }
    },
  );

  it("validates serial settings; a missing serial device fails with a typed connection error", async () => {
    const serial = modbus({ url: "modbus+rtu:///dev/plantwire-no-such-port?baudRate=19200&parity=odd&stopBits=2" });
    expect(serial.settings.serial).toMatchObject({
      path: "/dev/plantwire-no-such-port",
      baudRate: 19200,
      parity: "odd",
      stopBits: 2,
    });
    const error = await serial.connect().catch((caught: unknown) => caught);
    expect((error as { code?: string }).code).toMatch(/PW_CONNECTION|PW_MISSING_DEPENDENCY/);
    await serial.close();
  });
});
