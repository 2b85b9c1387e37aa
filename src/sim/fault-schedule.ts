/**
 * Faults switched on (and, if asked, off again) at set times of a running simulator, as `plantwire sim --fault-at`
 * gives them: `cavitation@30` switches cavitation on 30 s after start, `cavitation@30-90` also switches it off at
 * 90 s. Times are real seconds since the schedule started, whatever the simulator's speedup.
 */
import { isPumpFault, type PumpFault, pumpFaults } from "./pump-station-model.js";

/** One fault's time window, in real seconds after start. */
export interface FaultWindow {
  readonly fault: PumpFault;
  /** When the fault switches on. */
  readonly startSeconds: number;
  /** When it switches off again; absent: it stays on. */
  readonly endSeconds?: number;
}

/** One switch still to come. */
export interface PendingFaultSwitch {
  readonly fault: PumpFault;
  readonly active: boolean;
  /** Real seconds after start. */
  readonly atSeconds: number;
}

/** A running schedule. */
export interface FaultSchedule {
  /** The switches not yet made, earliest first. */
  pending(): PendingFaultSwitch[];
  /** Drops the switches not yet made. */
  cancel(): void;
}

/** The longest wait a timer can keep (about 24.8 days); later times would fire at once. */
export const latestFaultSeconds = Math.floor((2 ** 31 - 1) / 1000);

const examples = "e.g. cavitation@30 (on 30 s after start) or cavitation@30-90 (on from 30 s to 90 s)";

/**
 * Reads one `<fault>@<seconds>` or `<fault>@<start>-<end>` window. Returns the window, or a message that says what is
 * wrong with the text and how to write it (without naming the flag, which the caller adds).
 */
export function parseFaultWindow(text: string): FaultWindow | { error: string } {
  const at = text.indexOf("@");
  if (at < 0) return { error: `"${text}" has no time; write <fault>@<seconds> or <fault>@<start>-<end>, ${examples}` };
  const fault = text.slice(0, at);
  if (!isPumpFault(fault)) {
    return { error: `"${text}" names an unknown fault "${fault}"; use one of: ${pumpFaults.join(", ")}` };
  }
  const times = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(text.slice(at + 1));
  if (!times) {
    return {
      error: `"${text}" has no valid time; give seconds after start as a number, or two joined by "-", ${examples}`,
    };
  }
  const startSeconds = Number(times[1]);
  const endSeconds = times[2] === undefined ? undefined : Number(times[2]);
  const last = endSeconds ?? startSeconds;
  if (last > latestFaultSeconds) {
    return { error: `"${text}" is too late; times go up to ${latestFaultSeconds} seconds after start` };
  }
  if (endSeconds !== undefined && endSeconds <= startSeconds) {
    return {
      error: `"${text}" ends before it starts; give the end after the start, e.g. ${fault}@${startSeconds}-${startSeconds + 60}`,
    };
  }
  return endSeconds === undefined ? { fault, startSeconds } : { fault, startSeconds, endSeconds };
}

/** How a window reads to a person: "on at 30 s" or "on at 30 s, off at 90 s". */
export function describeFaultWindow(window: FaultWindow): string {
  const on = `${window.fault} on at ${window.startSeconds} s`;
  return window.endSeconds === undefined ? on : `${on}, off at ${window.endSeconds} s`;
}

/**
 * Starts the timers of `windows`: each switch calls `setFault`, then `onSwitch` with the outcome (an error when the
 * switch failed). Times count from this call.
 */
export function scheduleFaults(
  windows: readonly FaultWindow[],
  setFault: (fault: PumpFault, active: boolean) => Promise<void>,
  onSwitch: (change: PendingFaultSwitch, error?: unknown) => void,
): FaultSchedule {
  const switches: PendingFaultSwitch[] = windows
    .flatMap((window) => [
      { fault: window.fault, active: true, atSeconds: window.startSeconds },
      ...(window.endSeconds === undefined
        ? []
        : [{ fault: window.fault, active: false, atSeconds: window.endSeconds }]),
    ])
    .sort((a, b) => a.atSeconds - b.atSeconds);
  const waiting = new Map<PendingFaultSwitch, NodeJS.Timeout>();
  for (const change of switches) {
    const timer = setTimeout(() => {
      waiting.delete(change);
      setFault(change.fault, change.active).then(
        () => onSwitch(change),
        (error: unknown) => onSwitch(change, error),
      );
    }, change.atSeconds * 1000);
    waiting.set(change, timer);
  }
  return {
    pending: () => [...waiting.keys()],
    cancel() {
      for (const timer of waiting.values()) clearTimeout(timer);
      waiting.clear();
    },
  };
}
