/** What the plant simulator needs of each protocol view it serves. */

/** One protocol view of the station: takes every new value, reports client writes, and shuts down. */
export interface SimulatorView {
  /** Where the view is served (a URL clients connect to). */
  readonly url: string;
  /** Serves the station's new values, all taken at `time` (ms since the epoch). */
  publish(values: Readonly<Record<string, unknown>>, time: number): void | Promise<void>;
  /** The setpoints written by clients since the last call, if any. */
  written?(): Partial<Record<"speedSetpoint" | "mode", number>>;
  /** Stops answering (true) or answers again (false): the "comms-loss" fault. */
  suspend?(active: boolean): Promise<void>;
  /** Writes out anything buffered (the historian's batch). */
  flush?(): Promise<void>;
  close(): Promise<void>;
}
