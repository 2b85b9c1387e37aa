/**
 * Sinks: rows (events, model results, samples) pushed into a named insert template, written in batches. Each batch
 * is one transaction; a batch that fails is rolled back whole and stays at the front of the queue for the next
 * flush, so a table never holds half a batch and no row is lost while the buffer has room.
 */
import { ConnectionError, ValidationError } from "../../src/index.js";
import { type Logger, logFailure, resolveLogger } from "../../src/logger.js";
import type { InsertTemplate } from "./sql-named-query.js";
import { assertSqlValue, type SqlValue } from "./sql-values.js";

/** Options of `adapter.sink()`. */
export interface SqlSinkOptions {
  /** Rows per transaction; a flush starts as soon as this many wait. @default 500 */
  batchSize?: number;
  /** Waiting rows are flushed at least this often. @default 1000 */
  flushIntervalMs?: number;
  /** Most rows kept while the database does not take them; `push()` throws beyond it. @default 100000 */
  maxPendingRows?: number;
  /** Hears failed background flushes (the rows stay queued). @default one error line on the adapter's logger */
  onError?: (error: unknown) => void;
}

/** A row for a template: its columns by name (missing ones are NULL). */
export type SinkRow<TColumns extends string = string> = Partial<Record<TColumns, SqlValue | undefined>>;

/** A batching writer for one insert template. */
export interface SqlSink<TColumns extends string = string> {
  /** Queues a row; throws a ValidationError for unknown columns or unstorable values, a ConnectionError when full. */
  push(row: SinkRow<TColumns>): void;
  /** Writes every queued row now, batch by batch; rejects on the first failed batch (which stays queued). */
  flush(): Promise<void>;
  /** Stops the timer and flushes what is queued. */
  close(): Promise<void>;
  /** Rows queued and not yet committed. */
  readonly pending: number;
  /** Rows committed so far. */
  readonly written: number;
  /** Flushes that failed so far. */
  readonly failedFlushes: number;
  /** The latest flush error, if any. */
  readonly lastError: unknown;
}

/** Writes rows (each in column order) in one transaction. */
export type InsertBatch = (rows: readonly (readonly SqlValue[])[]) => Promise<void>;

/** Turns a row object into values in the template's column order, checking names and values. */
export function rowValues(templateName: string, template: InsertTemplate, row: Record<string, unknown>): SqlValue[] {
  for (const key of Object.keys(row)) {
    if (!template.columns.includes(key)) {
      throw new ValidationError(
        `template "${templateName}": unknown column "${key}". Fix: use one of ${template.columns.join(", ")}`,
        { field: key },
      );
    }
  }
  return template.columns.map((column) => assertSqlValue(row[column], `${templateName}.${column}`));
}

/** Creates a sink over `insertBatch`. */
export function createSink<TColumns extends string>(
  templateName: string,
  template: InsertTemplate,
  insertBatch: InsertBatch,
  options: SqlSinkOptions = {},
  logger?: Logger,
): SqlSink<TColumns> {
  const batchSize = Math.max(1, options.batchSize ?? 500);
  const maxPending = Math.max(batchSize, options.maxPendingRows ?? 100_000);
  const onError =
    options.onError ?? ((error: unknown) => logFailure(resolveLogger(logger), `sink "${templateName}" flush`, error));
  const queue: SqlValue[][] = [];
  let written = 0;
  let failedFlushes = 0;
  let lastError: unknown;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const drain = async () => {
    while (queue.length > 0) {
      const batch = queue.slice(0, batchSize);
      try {
        await insertBatch(batch);
      } catch (error) {
        failedFlushes++;
        lastError = error;
        throw error;
      }
      // Only a committed batch leaves the queue; rows pushed meanwhile were appended behind it.
      queue.splice(0, batch.length);
      written += batch.length;
    }
  };
  const flush = () => {
    const next = running.then(drain);
    running = next.catch(() => {});
    return next;
  };
  let scheduled = false;
  const background = () => {
    if (scheduled) return;
    scheduled = true;
    void flush()
      .catch(onError)
      .finally(() => {
        scheduled = false;
      });
  };

  return {
    push(row) {
      if (closed) throw new ValidationError(`sink "${templateName}" is closed`, { field: templateName });
      const values = rowValues(templateName, template, row as Record<string, unknown>);
      if (queue.length >= maxPending) {
        throw new ConnectionError(
          `sink "${templateName}": ${queue.length} rows are waiting and the database is not taking them (${String(lastError)}). Fix: restore the database or raise maxPendingRows`,
        );
      }
      queue.push(values);
      if (!timer) {
        timer = setInterval(background, options.flushIntervalMs ?? 1000);
        timer.unref();
      }
      if (queue.length >= batchSize) background();
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      timer = undefined;
      await flush();
    },
    get pending() {
      return queue.length;
    },
    get written() {
      return written;
    },
    get failedFlushes() {
      return failedFlushes;
    },
    get lastError() {
      return lastError;
    },
  };
}
