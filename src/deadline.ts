/** Races work against a deadline, the one way every part of plantwire bounds a wait. */

/**
 * Resolves with `work`, or rejects with `timeoutError()` once `ms` pass. The factory runs only on timeout, so it can
 * also abort what is still running (e.g. `() => { controller.abort(); return new TimeoutError(...) }`).
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
