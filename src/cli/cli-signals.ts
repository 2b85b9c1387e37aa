/**
 * When a long-running command (`watch`, `mqtt watch`, `mqtt broker`, `sim`, `serve`) stops: on Ctrl+C (SIGINT), on
 * SIGTERM (what systemd, containers and `kill` send), and when its output is closed (piped into `head`, which exits
 * after the lines it wants). Every such command waits with {@link untilStopped}, so they all stop the same way and
 * close their devices before they exit.
 */
import { EventEmitter } from "node:events";

const signals = ["SIGINT", "SIGTERM"] as const;

/** Why a command was asked to stop. */
export type StopReason = (typeof signals)[number] | "output-closed";

const outputEvents = new EventEmitter();
let outputClosed = false;

/**
 * Says that the command's output is gone (EPIPE on standard output): what it prints is dropped from now on, and a
 * running command stops as if interrupted. Called once by the `plantwire` executable.
 */
export function markOutputClosed(): void {
  if (outputClosed) return;
  outputClosed = true;
  outputEvents.emit("closed");
}

/** True once standard output has been closed by its reader. */
export function isOutputClosed(): boolean {
  return outputClosed;
}

/** A wait for the command to be stopped; `cancel` removes its listeners when the command ends for another reason. */
export interface StopWait {
  readonly stopped: Promise<StopReason>;
  cancel(): void;
}

/** Resolves on the first SIGINT, SIGTERM or closed output. Always `cancel()` (or let it resolve) when done. */
export function untilStopped(): StopWait {
  let finish: (reason: StopReason) => void = () => {};
  const stopped = new Promise<StopReason>((resolve) => {
    finish = resolve;
  });
  const handlers = signals.map((signal) => [signal, () => done(signal)] as const);
  const onClosed = () => done("output-closed");
  const cancel = () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
    outputEvents.off("closed", onClosed);
  };
  const done = (reason: StopReason) => {
    cancel();
    finish(reason);
  };
  for (const [signal, handler] of handlers) process.on(signal, handler);
  outputEvents.on("closed", onClosed);
  if (outputClosed) done("output-closed");
  return { stopped, cancel };
}
