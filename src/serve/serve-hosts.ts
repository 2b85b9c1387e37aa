/**
 * Which Host headers `plantwire serve` answers to, against DNS rebinding: a web page on a domain its owner points at
 * 127.0.0.1 (or a plant LAN address) runs in the page's own origin, so the browser lets it read the answers; only the
 * Host header it sends still names the foreign domain. The serve answers its listen address, localhost, 127.0.0.1,
 * [::1], any IP literal (a browser sends an IP as Host only when the address typed is that IP, which no rebinding can
 * produce) and the names in the site's `serve.hosts`; any other Host is refused before anything is read.
 */
import { isIP } from "node:net";

/** What a refused Host is answered with: status, code, message and fix. */
export interface HostRefusal {
  readonly status: 421;
  readonly code: "host-not-allowed";
  readonly error: string;
  readonly fix: string;
}

/** Lower case, without a trailing dot and without IPv6 brackets: the form names are compared in. */
const canonical = (name: string): string =>
  name
    .trim()
    .toLowerCase()
    .replace(/\.$/, "")
    .replace(/^\[(.*)\]$/, "$1");

/** "name:port", "[v6]:port" or "name" → its name and port (port undefined when absent); undefined when malformed. */
export function splitHost(header: string): { name: string; port?: number } | undefined {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]+))(?::(\d{1,5}))?$/.exec(header.trim());
  if (!match) return undefined;
  const name = canonical((match[1] ?? match[2]) as string);
  return match[3] === undefined ? { name } : { name, port: Number(match[3]) };
}

/**
 * The Host check of one server.
 * @param listenHost the host of `serve.listen` (a name or address)
 * @param port the port the server listens on (after a port 0 is chosen)
 * @param hosts the site's `serve.hosts`
 * @returns a function answering undefined for an allowed Host header, else the refusal to send
 */
export function hostCheck(
  listenHost: string,
  port: number,
  hosts: readonly string[] = [],
): (header: string | undefined) => HostRefusal | undefined {
  const allowed = new Set(["localhost", "127.0.0.1", "::1", canonical(listenHost), ...hosts.map(canonical)]);
  const refuse = (shown: string): HostRefusal => ({
    status: 421,
    code: "host-not-allowed",
    error: `this console does not answer to the Host ${shown}`,
    fix: `to reach it by that name, add the name to serve.hosts in the site file (e.g. hosts: [console.plant.lan]) and restart plantwire serve`,
  });
  return (header) => {
    const shown = JSON.stringify((header ?? "").slice(0, 100));
    if (!header) return refuse("(none)");
    const parts = splitHost(header);
    if (!parts) return refuse(shown);
    // The port is the served one or absent (a default port 80/443 is not sent); any other is another service's.
    if (parts.port !== undefined && parts.port !== port) return refuse(shown);
    return allowed.has(parts.name) || isIP(parts.name) !== 0 ? undefined : refuse(shown);
  };
}
