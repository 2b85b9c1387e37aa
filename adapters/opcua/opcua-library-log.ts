/**
 * What node-opcua prints, through plantwire's loggers at debug. node-opcua writes its warnings and errors (the
 * CVE-2023-46809 notice on load, a rejected certificate in base64, operation limits it could not read, broken
 * sequence numbers on a cut link) with console.log, through hooks of its own logging module (node-opcua-debug,
 * re-exported by node-opcua as setWarningLogger/setErrorLogger/setDebugLogger). Those hooks are process-wide, so the
 * lines go to the loggers of the OPC UA parts open at the time (adapters, browse, trust), else to the environment's
 * logger: silent unless PLANTWIRE_LOG=debug or the CLI's --verbose. No console is wrapped.
 */
import { format, stripVTControlCharacters } from "node:util";
import { environmentLogger, type Logger } from "../../src/logger.js";
import type { NodeOpcua } from "./opcua-codec.js";

/** Loggers that want the library's lines, with how many open parts use each. */
const listeners = new Map<Logger, number>();
let installed = false;

/** A logger that can name where its lines go now (a plantwire SwitchableLogger), so that shared targets get a line once. */
type Targeted = Logger & { target?: () => Logger };

function forward(kind: "warning" | "error" | "debug") {
  return (context: unknown, ...args: unknown[]) => {
    const where = context as { filename?: unknown; callerline?: unknown } | undefined;
    const origin = typeof where?.filename === "string" ? ` (${where.filename}:${String(where.callerline ?? "?")})` : "";
    const text = stripVTControlCharacters(format(...args)).trimEnd();
    const line = `node-opcua ${kind}${origin}: ${text}`;
    const targets = new Set<Logger>();
    for (const listener of listeners.keys()) targets.add((listener as Targeted).target?.() ?? listener);
    if (targets.size === 0) targets.add(environmentLogger());
    for (const target of targets) {
      try {
        target.debug(line);
      } catch {
        // A failing logger must not break node-opcua's own code path that logged.
      }
    }
  };
}

/**
 * Points node-opcua's log hooks at plantwire's loggers, once per process. Called right after node-opcua loads:
 * its load-time check of RSA PKCS#1 v1.5 prints asynchronously, after this has run.
 */
export function routeLibraryLog(ua: NodeOpcua): void {
  if (installed) return;
  installed = true;
  ua.setWarningLogger(forward("warning"));
  ua.setErrorLogger(forward("error"));
  ua.setDebugLogger(forward("debug"));
}

/** Sends node-opcua's lines to `logger` (at debug) until the returned function is called. */
export function hearLibraryLog(logger: Logger): () => void {
  listeners.set(logger, (listeners.get(logger) ?? 0) + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const count = (listeners.get(logger) ?? 1) - 1;
    if (count <= 0) listeners.delete(logger);
    else listeners.set(logger, count);
  };
}
