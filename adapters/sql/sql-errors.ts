/**
 * Turns driver errors (pg SQLSTATE codes, mysql2 errno, better-sqlite3 codes, socket errors) into plantwire's typed
 * errors, with a message naming the adapter.
 */
import {
  ConnectionError,
  PlantwireError,
  ProtocolError,
  TimeoutError,
  withDeadline as withCoreDeadline,
} from "../../src/index.js";

interface DriverError {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
}

const connectionCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "PROTOCOL_CONNECTION_LOST",
  "SQLITE_CANTOPEN",
]);

/** True when the driver error says the statement timeout cut the statement. */
function isStatementTimeout(error: DriverError): boolean {
  // 57014 query_canceled (PostgreSQL statement_timeout); 1969 MariaDB max_statement_time; 3024 MySQL
  // max_execution_time; SQLITE_BUSY when the busy timeout ran out waiting for a lock.
  return (
    error.code === "57014" ||
    error.errno === 1969 ||
    error.errno === 3024 ||
    error.code === "SQLITE_BUSY" ||
    error.code === "PROTOCOL_SEQUENCE_TIMEOUT"
  );
}

/** True when the error came from losing (or never having) the connection rather than from the statement. */
export function isConnectionFailure(error: unknown): boolean {
  const driver = error as DriverError | undefined;
  if (ConnectionError.isInstance(error)) return true;
  if (typeof driver?.code !== "string") return false;
  return connectionCodes.has(driver.code) || driver.code.startsWith("08") || driver.code === "57P01";
}

/** Wraps a driver error in the matching plantwire error. Plantwire errors pass through unchanged. */
export function toPlantwireError(error: unknown, adapterName: string, timeoutMs: number): PlantwireError {
  if (PlantwireError.isInstance(error)) return error;
  const driver = (error ?? {}) as DriverError;
  const text = typeof driver.message === "string" ? driver.message : String(error);
  if (isStatementTimeout(driver)) {
    return new TimeoutError(
      `sql adapter "${adapterName}": the statement ran past the statement timeout of ${timeoutMs} ms and was cancelled (${text}). Fix: narrow the query (a shorter window, a larger bucket) or raise statementTimeoutMs`,
      timeoutMs,
      { cause: error },
    );
  }
  if (isConnectionFailure(error)) {
    return new ConnectionError(
      `sql adapter "${adapterName}": ${text}. Fix: check the URL and that the database is up`,
      {
        cause: error,
      },
    );
  }
  const code = typeof driver.code === "string" ? ` [${driver.code}]` : "";
  return new ProtocolError(`sql adapter "${adapterName}": the database refused the statement${code}: ${text}`, {
    cause: error,
  });
}

/**
 * Races a driver call against a client-side deadline. The server-side statement timeout normally fires first; this
 * one catches a hung socket or a client passed in without a server-side limit.
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number, adapterName: string): Promise<T> {
  return withCoreDeadline(
    work,
    timeoutMs,
    () =>
      new TimeoutError(
        `sql adapter "${adapterName}": no answer within ${timeoutMs} ms. Fix: check the database load or raise statementTimeoutMs`,
        timeoutMs,
      ),
  );
}
