/**
 * The adapter conformance suite: one set of vitest tests that every adapter runs against its simulator (and, where
 * the machine has one, a real peer). It checks the contract, not the protocol: connect, read, subscribe, write,
 * status, bad quality on failure, and that close() leaves no handles or listeners behind.
 *
 * ```ts
 * await describeAdapterConformance("modbus", async () => {
 *   const simulator = await startSimulator();
 *   return { adapter, tags, values, setValue: ..., breakPeer: ..., restorePeer: ..., dispose: () => simulator.close() };
 * });
 * ```
 */
import type { Adapter, AdapterStatus } from "../adapter.js";
import { PlantwireError } from "../errors.js";
import { createPlant } from "../plant.js";
import type { Sample } from "../sample.js";
import type { TagDefinitions } from "../tags.js";

/** What an adapter's test gives the conformance suite. */
export interface ConformanceFixture {
  /** A fresh, unconnected adapter. */
  adapter: Adapter;
  /** Tags whose sources belong to `adapter` (two or more, of the types the adapter supports). */
  tags: TagDefinitions;
  /** Two different values per tag name: the suite sets the first, reads it, sets the second, reads it. */
  values: Readonly<Record<string, readonly [unknown, unknown]>>;
  /** Sets a tag's value on the peer's side (the simulator), as the device would. */
  setValue(name: string, value: unknown): void | Promise<void>;
  /** A tag and a value for the write test, when the adapter writes. */
  write?: { name: string; value: unknown };
  /** Makes the peer unreachable (stop the simulator, cut the proxy). */
  breakPeer?(): void | Promise<void>;
  /** Makes the peer reachable again. */
  restorePeer?(): void | Promise<void>;
  /** Frees what the fixture started (simulators, proxies). */
  dispose?(): void | Promise<void>;
  /** Longest wait for pushed samples or a reconnection, in ms. @default 5000 */
  patienceMs?: number;
}

function same(expected: unknown, actual: unknown): boolean {
  if (typeof expected === "number" && typeof actual === "number") {
    return Math.abs(expected - actual) <= Math.max(1e-9, Math.abs(expected) * 1e-6);
  }
  return Object.is(expected, actual);
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  stepMs = 20,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, stepMs));
  }
  return check();
}

function boundTags(fixture: ConformanceFixture) {
  return Object.entries(fixture.tags).map(([name, definition]) => ({
    name,
    definition,
    address: definition.source.address,
  }));
}

async function setAll(fixture: ConformanceFixture, index: 0 | 1): Promise<void> {
  for (const [name, pair] of Object.entries(fixture.values)) await fixture.setValue(name, pair[index]);
}

function resourceCount(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind !== "TTYWrap").length;
}

/**
 * Registers the conformance tests for one adapter; call it at the top level of a vitest file with `await`.
 * `setup` runs before each test and must return a fresh fixture. vitest is imported here on call, so that
 * `plantwire/testing` can also be loaded with `require` (vitest itself cannot).
 */
export async function describeAdapterConformance(
  label: string,
  setup: () => Promise<ConformanceFixture>,
): Promise<void> {
  const { afterEach, beforeEach, describe, expect, it } = await import("vitest");
  describe(`adapter conformance: ${label}`, () => {
    let fixture: ConformanceFixture;
    let patience = 5000;

    beforeEach(async () => {
      fixture = await setup();
      patience = fixture.patienceMs ?? 5000;
    });
    afterEach(async () => {
      await fixture.adapter.close();
      await fixture.dispose?.();
    });

    it("declares contract version 1, a kind, a name and capabilities", () => {
      expect(fixture.adapter.contractVersion).toBe(1);
      expect(fixture.adapter.kind).toMatch(/\S/);
      expect(fixture.adapter.name).toMatch(/\S/);
      expect(typeof fixture.adapter.capabilities.subscribe).toBe("boolean");
      expect(typeof fixture.adapter.capabilities.write).toBe("boolean");
      expect(typeof fixture.adapter.subscribe === "function").toBe(fixture.adapter.capabilities.subscribe);
      expect(typeof fixture.adapter.write === "function").toBe(fixture.adapter.capabilities.write);
      expect(Object.keys(fixture.tags).length).toBeGreaterThanOrEqual(2);
    });

    it("connects, reports status changes, and exposes the raw client", async () => {
      const seen: AdapterStatus[] = [];
      const stop = fixture.adapter.onStatus((status) => seen.push(status));
      await fixture.adapter.connect();
      expect(fixture.adapter.status().state).toBe("connected");
      expect(seen.map((status) => status.state)).toContain("connected");
      expect(fixture.adapter.getInstance()).toBeDefined();
      stop();
    });

    it("reads every tag in order with good quality and the values the peer holds", async () => {
      await fixture.adapter.connect();
      for (const index of [0, 1] as const) {
        await setAll(fixture, index);
        const before = Date.now();
        const samples = await fixture.adapter.read(boundTags(fixture));
        expect(samples).toHaveLength(Object.keys(fixture.tags).length);
        Object.keys(fixture.tags).forEach((name, position) => {
          const sample = samples[position] as Sample;
          expect(sample.quality, `${name}: ${sample.reason} ${sample.detail}`).toBe("good");
          const expected = fixture.values[name]?.[index];
          expect(
            same(expected, sample.value),
            `${name}: expected ${String(expected)}, got ${String(sample.value)}`,
          ).toBe(true);
          expect(sample.receivedTime).toBeGreaterThanOrEqual(before - 1);
        });
      }
    });

    it("pushes changed values to subscribers (when it can subscribe)", async (context) => {
      if (!fixture.adapter.capabilities.subscribe || !fixture.adapter.subscribe) {
        context.skip("this adapter cannot subscribe; the core polls it");
        return;
      }
      await setAll(fixture, 0);
      await fixture.adapter.connect();
      const latest = new Map<string, unknown>();
      const subscription = await fixture.adapter.subscribe(boundTags(fixture), (name, sample) =>
        latest.set(name, sample.value),
      );
      await setAll(fixture, 1);
      const arrived = await waitFor(
        () => Object.entries(fixture.values).every(([name, pair]) => same(pair[1], latest.get(name))),
        patience,
      );
      await subscription.close();
      expect(arrived, `latest pushed values: ${JSON.stringify([...latest])}`).toBe(true);
    });

    it("writes once and reads the value back (when it can write)", async (context) => {
      const target = fixture.write;
      if (!fixture.adapter.capabilities.write || !fixture.adapter.write || !target) {
        context.skip("this adapter does not write");
        return;
      }
      await fixture.adapter.connect();
      const tag = boundTags(fixture).find((bound) => bound.name === target.name);
      expect(tag, `write tag ${target.name} is not in the fixture's tags`).toBeDefined();
      const result = await fixture.adapter.write(tag!, target.value);
      expect(result.outcome, result.error?.message).toBe("written");
      const [sample] = await fixture.adapter.read([tag!]);
      expect(same(target.value, sample?.value)).toBe(true);
    });

    it("marks its tags bad when the peer is unreachable, and recovers", async (context) => {
      if (!fixture.breakPeer || !fixture.restorePeer) {
        context.skip("the fixture cannot break its peer");
        return;
      }
      await setAll(fixture, 0);
      const plant = createPlant({ tags: fixture.tags, readTimeoutMs: patience, onError: () => {} });
      const first = await plant.read();
      for (const name of first.names) expect(first.sample(name).quality).toBe("good");
      await fixture.breakPeer();
      const broken = await plant.read();
      for (const name of broken.names) {
        expect(broken.sample(name).quality).toBe("bad");
        expect(() => broken.value(name)).toThrow(PlantwireError);
      }
      await fixture.restorePeer();
      const recovered = await waitFor(async () => {
        const snapshot = await plant.read();
        return snapshot.names.every((name) => snapshot.sample(name).quality === "good");
      }, patience * 2);
      expect(recovered).toBe(true);
      await plant.close();
    });

    it("closes cleanly: disconnected, idempotent, no leaked handles or listeners", async () => {
      const before = resourceCount();
      const stop = fixture.adapter.onStatus(() => {});
      await fixture.adapter.connect();
      await fixture.adapter.read(boundTags(fixture));
      await fixture.adapter.close();
      await fixture.adapter.close();
      stop();
      expect(fixture.adapter.status().state).toBe("disconnected");
      const settled = await waitFor(() => resourceCount() <= before, patience);
      expect(settled, `active resources: ${process.getActiveResourcesInfo().join(", ")}`).toBe(true);
      // After close, a read either rejects with a typed error or answers with bad samples: never good data, never a hang.
      const afterClose = await fixture.adapter.read(boundTags(fixture)).then(
        (samples) => samples.every((sample) => sample.quality === "bad"),
        (error: unknown) => PlantwireError.isInstance(error),
      );
      expect(afterClose).toBe(true);
    });
  });
}
