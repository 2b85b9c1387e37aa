/**
 * What reliability tests share: cleanups run after each test (last registered first), and the unhandled rejections
 * seen during it, which a test asserts to be none.
 */
import { ConfigError } from "plantwire";
import { afterEach, beforeEach, expect } from "vitest";

/** Registers the hooks in the calling test file; returns the lists the tests fill and read. */
export function trackCleanupsAndRejections(): {
  cleanups: (() => Promise<void> | void)[];
  unhandled: unknown[];
} {
  const cleanups: (() => Promise<void> | void)[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on("unhandledRejection", onUnhandled);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    process.off("unhandledRejection", onUnhandled);
  });
  return { cleanups, unhandled };
}

/** The ConfigError a promise rejects with; fails the test when it resolves or rejects with anything else. */
export async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(ConfigError.isInstance(error), String(error)).toBe(true);
  return error as ConfigError;
}
