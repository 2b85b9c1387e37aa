/**
 * How the CLI finds a running `plantwire serve`: the server writes `<approvals folder>.serve.json` (its address, pid
 * and site) when it listens and removes it when it stops. The CLI reads it for the approvals folder it is given, and
 * believes it only while that process is alive, and only when the file belongs to the approvals folder's owner (or
 * root) and nobody else can write it: the CLI sends the person's API token to the address in it, so a file planted
 * by another local user must not be able to send that token to a server of theirs.
 */
import { existsSync, lstatSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { isRunningHere } from "../os-process.js";
import type { ServeDiscovery } from "./api-types.js";

/** The discovery file of an approvals folder. */
export function discoveryFile(approvals: string): string {
  return join(dirname(approvals), `${basename(approvals)}.serve.json`);
}

/** Writes the discovery file (atomically: a reader sees the old or the new one, never half). */
export function announceServe(approvals: string, discovery: ServeDiscovery): void {
  const file = discoveryFile(approvals);
  const temporary = `${file}.${process.pid}.tmp`;
  // "wx": never through a link or file someone left at the temporary name; a stale one of ours is removed first.
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${JSON.stringify(discovery, null, 2)}\n`, { mode: 0o644, flag: "wx" });
  renameSync(temporary, file);
}

/** Removes the discovery file if it is still this process's. */
export function withdrawServe(approvals: string): void {
  const found = readDiscovery(approvals);
  if (found && found.pid === process.pid) rmSync(discoveryFile(approvals), { force: true });
}

/**
 * Whether the discovery file can be believed: a plain file (no link) owned by the approvals folder's owner or root,
 * that no group or other user can write. Where the OS has no owners (Windows), only the link check applies.
 */
function trusted(file: string, approvals: string): boolean {
  const stats = lstatSync(file);
  if (!stats.isFile()) return false;
  if (process.platform === "win32") return true;
  const owner = statSync(approvals, { throwIfNoEntry: false })?.uid;
  if (stats.uid !== 0 && stats.uid !== owner) return false;
  return (stats.mode & 0o022) === 0;
}

/** The file's content, if there is one that parses and can be trusted. */
function readDiscovery(approvals: string): ServeDiscovery | undefined {
  const file = discoveryFile(approvals);
  if (!existsSync(file)) return undefined;
  try {
    if (!trusted(file, approvals)) return undefined;
    const content = JSON.parse(readFileSync(file, "utf8")) as Partial<ServeDiscovery>;
    if (typeof content.url !== "string" || !Number.isInteger(content.pid)) return undefined;
    if (!/^https?:\/\//.test(content.url)) return undefined;
    return content as ServeDiscovery;
  } catch {
    return undefined;
  }
}

/** The running serve that holds `approvals`, or undefined (none announced, or its process is gone). */
export function findServe(approvals: string): ServeDiscovery | undefined {
  const found = readDiscovery(approvals);
  return found && isRunningHere(found.pid) ? found : undefined;
}
