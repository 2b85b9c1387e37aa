/** What the plant simulator needs of each protocol view it serves. */

/** The station's values by signal name, as one view receives them. */
export type StationValues = Readonly<Record<string, unknown>>;

/**
 * One protocol view of the station: takes every new value, reports client writes, and shuts down. A view is given
 * the station's current values when it is started, and serves them from the first connection it accepts.
 */
export interface SimulatorView {
  /** Where the view is served (a URL clients connect to). */
  readonly url: string;
  /** Serves the station's new values, all taken at `time` (ms since the epoch). */
  publish(values: StationValues, time: number): void | Promise<void>;
  /** The setpoints written by clients since the last call, if any. */
  written?(): Partial<Record<"speedSetpoint" | "mode", number>>;
  /** Stops answering (true) or answers again (false): the "comms-loss" fault. */
  suspend?(active: boolean): Promise<void>;
  close(): Promise<void>;
}
