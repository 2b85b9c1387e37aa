/**
 * What listens on this machine, read from the kernel's own tables (/proc/net/tcp and tcp6 on Linux), so a test sees
 * the address a server really bound, not the one it claims.
 */
import { existsSync, readFileSync } from "node:fs";

/** True where the tables can be read (Linux); elsewhere tests that need them skip with this reason. */
export const socketTablesReadable = existsSync("/proc/net/tcp");

/** Why tests that inspect listening sockets skip, or undefined when they can run. */
export const socketTablesSkipReason = socketTablesReadable
  ? undefined
  : "/proc/net/tcp is not readable here (not Linux): cannot see what listens";

const listenState = "0A";

function ipv4(hex: string): string {
  // Each 32-bit word is in the host's byte order (little-endian on the machines we run on).
  const bytes = Buffer.from(hex, "hex").reverse();
  return [...bytes].join(".");
}

function ipv6(hex: string): string {
  const words: string[] = [];
  for (let index = 0; index < 32; index += 8) {
    const word = Buffer.from(hex.slice(index, index + 8), "hex")
      .reverse()
      .toString("hex");
    words.push(word.slice(0, 4), word.slice(4, 8));
  }
  const text = words.map((group) => group.replace(/^0{1,3}/, "")).join(":");
  if (text === "0:0:0:0:0:0:0:0") return "::";
  if (text === "0:0:0:0:0:0:0:1") return "::1";
  const mapped = /^0:0:0:0:0:ffff:([0-9a-f]+):([0-9a-f]+)$/.exec(text);
  if (mapped) {
    const value = (Number.parseInt(mapped[1] as string, 16) << 16) | Number.parseInt(mapped[2] as string, 16);
    return `::ffff:${[value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join(".")}`;
  }
  return text;
}

/** Every address with a socket listening on TCP `port`, e.g. ["127.0.0.1"], or ["::"] for every interface. */
export function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const [file, decode] of [
    ["/proc/net/tcp", ipv4],
    ["/proc/net/tcp6", ipv6],
  ] as const) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== listenState) continue;
      const [address, portHex] = local.split(":");
      if (address && portHex && Number.parseInt(portHex, 16) === port) found.push(decode(address));
    }
  }
  return found;
}
