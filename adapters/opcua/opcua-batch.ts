/**
 * Splitting work at a server's operation limits and running it with bounded concurrency. Written by hand: it is a
 * dozen lines, and a library for it would cost more to load than it saves.
 */

/** Splits `items` into consecutive chunks of at most `size` (size ≤ 0 means one chunk). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (size <= 0 || items.length <= size) return items.length === 0 ? [] : [[...items]];
  const chunks: T[][] = [];
  for (let start = 0; start < items.length; start += size) chunks.push(items.slice(start, start + size));
  return chunks;
}

/** Maps `items` through `task` with at most `concurrency` tasks in flight, keeping the order of results. */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
  return results;
}

/** Runs `task` on each chunk of `items` (bounded concurrency) and flattens the results in order. */
export async function mapChunks<T, R>(
  items: readonly T[],
  size: number,
  concurrency: number,
  task: (part: T[]) => Promise<R[]>,
): Promise<R[]> {
  const parts = await mapBounded(chunk(items, size), concurrency, task);
  return parts.flat();
}
