/**
 * The device identity of a Modbus tag, for the guard's one-writer-per-device locks: the unit behind a TCP endpoint or
 * on a serial line.
 */
import { realpathSync } from "node:fs";
import { deviceAuthority } from "../../src/guard/device-locks.js";
import type { ModbusAddress } from "./modbus-address.js";
import type { ResolvedModbusOptions } from "./modbus-config.js";

/**
 * `modbus-tcp://<host>:<port>/unit/<unit>`, or `modbus-rtu://<serial path>/unit/<unit>` on a serial line. RTU frames
 * over TCP (a serial gateway) count as TCP: the gateway's host, port and the unit name the device whatever the
 * framing. A serial path is resolved through links (/dev/serial/by-id/… and /dev/ttyUSB0 are one line).
 */
export function modbusDevice(settings: ResolvedModbusOptions, address: ModbusAddress): string {
  if (settings.kind === "rtu") {
    let path = settings.serial.path;
    try {
      path = realpathSync(path);
    } catch {
      // Not a file here (a Windows COM port, a line not plugged in): the configured name is the identity.
    }
    return `modbus-rtu://${path}/unit/${address.unit}`;
  }
  return `modbus-tcp://${deviceAuthority(settings.host, settings.port)}/unit/${address.unit}`;
}
