/**
 * Output channels: where a guarded output (a message or a row a model produced) goes. An adapter makes the channel
 * and knows its protocol; the write guard holds it and is the only caller of `send`, so model text leaves the process
 * only with the guard's checks, limits and audit record. Protocol-free on purpose: the core never imports adapters.
 */

/** Where a guarded output goes: a message topic or a table. Made by an adapter; sent only by the write guard. */
export interface OutputChannel<TItem = unknown> {
  /** A message (MQTT topic) or a row (SQL table). */
  readonly kind: "message" | "row";
  /** What it is, for people and the audit, e.g. "mqtt bus → plantwire/pump-station/alarm-explanations". */
  readonly label: string;
  /** The device identity it lands on (for one-writer locks), e.g. "mqtt://127.0.0.1:1884/<topic>". */
  readonly device: string;
  /** Problems with an item (wrong shape, a topic outside the allowed ones, an unknown column): [] when fine. */
  check(item: unknown): string[];
  /** The size in bytes the item will have on the wire (payload bytes; a row's JSON). */
  size(item: TItem): number;
  /** Sends it once. Resolves when the peer acknowledged (QoS 1 / committed), rejects otherwise. Never retries. */
  send(item: TItem): Promise<void>;
}

/** True for something shaped like an {@link OutputChannel} (for checking options that come from untyped code). */
export function isOutputChannel(value: unknown): value is OutputChannel {
  if (typeof value !== "object" || value === null) return false;
  const channel = value as Record<string, unknown>;
  return (
    (channel.kind === "message" || channel.kind === "row") &&
    typeof channel.label === "string" &&
    typeof channel.device === "string" &&
    typeof channel.check === "function" &&
    typeof channel.size === "function" &&
    typeof channel.send === "function"
  );
}
