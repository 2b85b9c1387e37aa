/**
 * The subscriptions a connection holds, reference-counted by filter. After a new session (sessionPresent false)
 * every filter is marked unacknowledged and restored in one SUBSCRIBE; with a resumed session the broker still has
 * them, so only filters added while offline (or whose SUBACK the dropped link swallowed) are sent. Each filter is
 * thus subscribed once per session.
 */
import type { MqttClient } from "mqtt";
import { ConnectionError } from "../../src/errors.js";
import type { QoS } from "./mqtt-config.js";

interface Pending {
  readonly promise: Promise<void>;
  cancel(error: Error): void;
}

interface Entry {
  qos: QoS;
  count: number;
  acknowledged: boolean;
  /** The SUBSCRIBE in flight, so a second user of the filter waits for it instead of sending another. */
  pending: Pending | undefined;
}

/** Subscriptions by filter. */
export class SubscriptionRegistry {
  readonly #entries = new Map<string, Entry>();

  #send(client: MqttClient, filters: Record<string, { qos: QoS }>): Pending {
    let cancel: (error: Error) => void = () => {};
    const promise = new Promise<void>((resolve, reject) => {
      cancel = reject;
      client.subscribeAsync(filters).then(() => {
        for (const filter of Object.keys(filters)) {
          const entry = this.#entries.get(filter);
          if (entry?.pending?.promise !== promise) continue;
          entry.acknowledged = true;
          entry.pending = undefined;
        }
        resolve();
      }, reject);
    });
    promise.catch(() => {});
    return { promise, cancel };
  }

  /** Adds a reference; sends SUBSCRIBE when connected and the broker does not have it yet. */
  async add(filter: string, qos: QoS, client: MqttClient | undefined): Promise<void> {
    let entry = this.#entries.get(filter);
    if (entry) entry.count++;
    else {
      entry = { qos, count: 1, acknowledged: false, pending: undefined };
      this.#entries.set(filter, entry);
    }
    if (entry.acknowledged || !client?.connected) return;
    entry.pending ??= this.#send(client, { [filter]: { qos: entry.qos } });
    await entry.pending.promise;
  }

  /** Drops a reference; returns true when it was the last (the caller unsubscribes). */
  remove(filter: string): boolean {
    const entry = this.#entries.get(filter);
    if (!entry || --entry.count > 0) return false;
    this.#entries.delete(filter);
    return true;
  }

  /** The link dropped: SUBSCRIBEs in flight will never be answered on it. Their waiters get a ConnectionError. */
  linkLost(): void {
    for (const [filter, entry] of this.#entries) {
      entry.pending?.cancel(
        new ConnectionError(`the link dropped before the broker confirmed the subscription to ${filter}`),
      );
      entry.pending = undefined;
    }
  }

  /** After a new session the broker holds none of them. */
  forgetAcknowledged(): void {
    for (const entry of this.#entries.values()) entry.acknowledged = false;
  }

  /** Sends one SUBSCRIBE for every filter the broker does not hold. */
  restore(client: MqttClient): void {
    const missing: Record<string, { qos: QoS }> = {};
    for (const [filter, entry] of this.#entries) if (!entry.acknowledged) missing[filter] = { qos: entry.qos };
    if (Object.keys(missing).length === 0) return;
    const pending = this.#send(client, missing);
    for (const filter of Object.keys(missing)) {
      const entry = this.#entries.get(filter);
      if (entry) entry.pending = pending;
    }
  }
}
