/** The device identity of an OPC UA tag, for the guard's one-writer-per-device locks: the server's endpoint. */
import { deviceAuthority } from "../../src/guard/device-locks.js";

/** The port an opc.tcp endpoint without one listens on. */
const defaultPort = 4840;

/**
 * The endpoint URL, normalised so that every spelling of one server gives one identity: the host lower-cased, the
 * default port 4840 written out, no trailing slash, no query, no user. The path keeps its case (servers may tell paths apart).
 * The whole server is one device: every node a guard writes on it is covered by one lock.
 */
export function opcuaDevice(endpoint: string): string {
  const match = /^opc\.tcp:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^/:?#@]+)(?::(\d+))?([^?#]*)/i.exec(endpoint.trim());
  if (!match) return endpoint.trim();
  const [, host = "", port, path = ""] = match;
  return `opc.tcp://${deviceAuthority(host, port ? Number(port) : defaultPort)}${path.replace(/\/+$/, "")}`;
}
