/**
 * Graceful shutdown on SIGINT/SIGTERM: stop the loops (finishing or abandoning the current run), close the guard
 * (which flushes and closes the audit log), close the adapters. A second signal exits at once.
 */
import type { WriteGuard } from "../guard/write-guard.js";
import { type Logger, logFailure, resolveLogger } from "../logger.js";
import type { Plant } from "../plant.js";
import type { TagDefinitions } from "../tags.js";
import type { Loop } from "./loop-runner.js";

/** What to shut down, in order. */
export interface ShutdownOptions<TTags extends TagDefinitions> {
  loops: readonly Loop[];
  guard?: WriteGuard<TTags>;
  plant: Plant<TTags>;
  /** Anything else to close last (a metrics server, an MQTT publisher). */
  also?: readonly { close(): unknown }[];
  /** How long a current run may take to finish before it is abandoned. @default 10000 */
  abandonAfterMs?: number;
  /** @default ["SIGINT", "SIGTERM"] */
  signals?: readonly NodeJS.Signals[];
  /** Told what is happening. @default the logger's info */
  log?: (line: string) => void;
  /** Where shutdown is reported (at info) and its errors (at error). @default the plant's logger */
  logger?: Logger;
}

/** The line sink of a shutdown: its `log` option, else its logger's (or the plant's) info. */
function lineSink<TTags extends TagDefinitions>(options: Omit<ShutdownOptions<TTags>, "signals">) {
  if (options.log) return options.log;
  const logger = resolveLogger(options.logger ?? options.plant.logger);
  return (line: string) => logger.info(line);
}

/** Shuts everything down once, in order. Safe to call directly (e.g. at the end of a script). */
export async function shutdown<TTags extends TagDefinitions>(
  options: Omit<ShutdownOptions<TTags>, "signals">,
): Promise<void> {
  const log = lineSink(options);
  // Each step runs even when an earlier one failed: a half-done shutdown would leave adapters connected.
  const failures: unknown[] = [];
  const settle = async (steps: (() => unknown)[]) => {
    for (const result of await Promise.allSettled(steps.map((step) => Promise.resolve().then(step)))) {
      if (result.status === "rejected") failures.push(result.reason);
    }
  };
  await settle(options.loops.map((loop) => () => loop.stop({ abandonAfterMs: options.abandonAfterMs ?? 10_000 })));
  await settle([() => options.guard?.close()]);
  await settle([() => options.plant.close()]);
  await settle((options.also ?? []).map((item) => () => item.close()));
  if (failures.length > 0) {
    log(`stopped with ${failures.length} error(s) during shutdown`);
    throw new AggregateError(failures, "shutdown finished with errors");
  }
  log("stopped: loops finished, audit closed, adapters closed");
}

/** Installs signal handlers that run {@link shutdown}; returns a function that removes them. */
export function shutdownOnSignals<TTags extends TagDefinitions>(options: ShutdownOptions<TTags>): () => void {
  const signals = options.signals ?? ["SIGINT", "SIGTERM"];
  let stopping = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    lineSink(options)(`${signal}: stopping (send again to exit at once)`);
    shutdown(options).then(
      () => {
        remove();
        process.exitCode = 0;
      },
      (error: unknown) => {
        logFailure(resolveLogger(options.logger ?? options.plant.logger), "shutdown", error);
        process.exitCode = 1;
      },
    );
  };
  const remove = () => {
    for (const signal of signals) process.off(signal, handler);
  };
  for (const signal of signals) process.on(signal, handler);
  return remove;
}
