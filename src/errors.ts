/**
 * Errors thrown by plantwire. Every error has a stable `code` that scripts can switch on, an optional `cause`,
 * and a message that names the tag or adapter involved and the fix.
 *
 * `instanceof` fails when two copies of plantwire are installed side by side (a common sight in integrator
 * projects that pull adapters from different places), so each class carries a global Symbol marker and a static
 * `isInstance()` that checks the marker instead of the prototype chain.
 */

import type { AuditFailure } from "./audit/audit-failure.js";

const baseMarker = Symbol.for("plantwire.error");

/** Stable error codes. New codes may be added; existing ones never change meaning. */
export type PlantwireErrorCode =
  | "PW_CONFIG"
  | "PW_MISSING_DEPENDENCY"
  | "PW_CONNECTION"
  | "PW_TIMEOUT"
  | "PW_PROTOCOL"
  | "PW_VALIDATION"
  | "PW_UNSUPPORTED"
  | "PW_DATA_QUALITY"
  | "PW_APPROVAL"
  | "PW_BUDGET"
  | "PW_AUDIT";

/** Options common to every plantwire error. */
export interface PlantwireErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown;
}

function markerFor(code: PlantwireErrorCode): symbol {
  return Symbol.for(`plantwire.error.${code}`);
}

/**
 * Messages are joined from parts ("<what failed>: <the library's message>. Fix: <fix>"), and a library's message often
 * ends with its own full stop ("Connection error."): a doubled stop at the end of a sentence is dropped here, once for
 * all.
 */
function joinedSentences(message: string): string {
  return message.replace(/(?<!\.)([.!?])\.(?=\s|$)/g, "$1"); // an ellipsis ("...") stays
}

/** Base class of every error plantwire throws. */
export class PlantwireError extends Error {
  /** Stable, machine-readable code. */
  readonly code: PlantwireErrorCode;

  constructor(code: PlantwireErrorCode, message: string, options: PlantwireErrorOptions = {}) {
    super(joinedSentences(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    Object.defineProperty(this, baseMarker, { value: true });
    Object.defineProperty(this, markerFor(code), { value: true });
  }

  /** True for any plantwire error, even one created by another installed copy of plantwire. */
  static isInstance(error: unknown): error is PlantwireError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[baseMarker] === true;
  }
}

function hasCode(error: unknown, code: PlantwireErrorCode): boolean {
  return PlantwireError.isInstance(error) && (error as unknown as Record<symbol, unknown>)[markerFor(code)] === true;
}

/** One problem found in a configuration (a tag map, an adapter's options, a site file). */
export interface ConfigIssue {
  /** Dotted path of the offending field, e.g. `tags.speed.range`. */
  path: string;
  /** What is wrong. */
  message: string;
  /** How to fix it. */
  fix: string;
}

/** A configuration is wrong: a tag map, adapter options or a config file. Lists every issue found, not just the first. */
export class ConfigError extends PlantwireError {
  /** Every problem found, each naming its field. */
  readonly issues: readonly ConfigIssue[];
  /** The file the configuration came from, when it came from a file. */
  readonly file: string | undefined;

  constructor(issues: readonly ConfigIssue[], options: PlantwireErrorOptions & { file?: string } = {}) {
    const where = options.file ? ` in ${options.file}` : "";
    const lines = issues.map((issue) => `  - ${issue.path}: ${issue.message}. Fix: ${issue.fix}`);
    const count = issues.length === 1 ? "1 problem" : `${issues.length} problems`;
    super("PW_CONFIG", `Invalid configuration${where} (${count}):\n${lines.join("\n")}`, options);
    this.issues = issues;
    this.file = options.file;
  }

  /** True for a configuration error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is ConfigError {
    return hasCode(error, "PW_CONFIG");
  }
}

/** Options of a {@link MissingDependencyError}. */
export interface MissingDependencyErrorOptions extends PlantwireErrorOptions {
  /** The one command that installs every missing package. @default "npm i <names>" */
  install?: string;
  /** What needs each package, by package name, when several parts need different ones (shown beside each name). */
  neededBy?: Readonly<Record<string, string>>;
}

/**
 * One or more optional peer dependencies (protocol clients, database drivers) are not installed. A command that needs
 * several checks them all first and throws one error naming every missing one, with one install line.
 */
export class MissingDependencyError extends PlantwireError {
  /** The (first) npm package to install. */
  readonly packageName: string;
  /** Every missing package. */
  readonly packageNames: readonly string[];
  /** The one command that installs them all, e.g. "npm i node-opcua@^2.182.0 aedes@^1.2.0". */
  readonly install: string;

  constructor(packageName: string | readonly string[], usedBy: string, options: MissingDependencyErrorOptions = {}) {
    const names = typeof packageName === "string" ? [packageName] : [...packageName];
    const install = options.install ?? `npm i ${names.join(" ")}`;
    const why = (name: string) => (options.neededBy?.[name] ? ` (${options.neededBy[name]})` : "");
    super(
      "PW_MISSING_DEPENDENCY",
      names.length === 1
        ? `${usedBy} needs the package "${names[0]}"${why(names[0] ?? "")}, which is not installed. Fix: ${install}`
        : `${usedBy} needs ${names.length} packages that are not installed: ${names.map((name) => `${name}${why(name)}`).join(", ")}. Fix: ${install}`,
      options,
    );
    this.packageName = names[0] ?? "";
    this.packageNames = names;
    this.install = install;
  }

  /** True for a missing-dependency error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is MissingDependencyError {
    return hasCode(error, "PW_MISSING_DEPENDENCY");
  }
}

/** A connection could not be made, or was lost. */
export class ConnectionError extends PlantwireError {
  constructor(message: string, options: PlantwireErrorOptions = {}) {
    super("PW_CONNECTION", message, options);
  }

  /** True for a connection error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is ConnectionError {
    return hasCode(error, "PW_CONNECTION");
  }
}

/** An operation did not complete within its timeout. */
export class TimeoutError extends PlantwireError {
  /** The timeout that elapsed, in milliseconds. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number, options: PlantwireErrorOptions = {}) {
    super("PW_TIMEOUT", message, options);
    this.timeoutMs = timeoutMs;
  }

  /** True for a timeout error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is TimeoutError {
    return hasCode(error, "PW_TIMEOUT");
  }
}

/** A peer sent something the protocol does not allow, or answered with an exception. */
export class ProtocolError extends PlantwireError {
  constructor(message: string, options: PlantwireErrorOptions = {}) {
    super("PW_PROTOCOL", message, options);
  }

  /** True for a protocol error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is ProtocolError {
    return hasCode(error, "PW_PROTOCOL");
  }
}

/** A value failed validation against a tag's type or a schema (a payload, a model answer, a write). */
export class ValidationError extends PlantwireError {
  /** The tag or field that failed, when known. */
  readonly field: string | undefined;

  constructor(message: string, options: PlantwireErrorOptions & { field?: string } = {}) {
    super("PW_VALIDATION", message, options);
    this.field = options.field;
  }

  /** True for a validation error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is ValidationError {
    return hasCode(error, "PW_VALIDATION");
  }
}

/** The adapter or peer cannot do what was asked (e.g. subscribe on a poll-only protocol). */
export class UnsupportedError extends PlantwireError {
  constructor(message: string, options: PlantwireErrorOptions = {}) {
    super("PW_UNSUPPORTED", message, options);
  }

  /** True for an unsupported-operation error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is UnsupportedError {
    return hasCode(error, "PW_UNSUPPORTED");
  }
}

/** A value was asked for as current, but its sample is bad, stale or missing. */
export class DataQualityError extends PlantwireError {
  /** The tag whose value is not usable. */
  readonly tag: string;

  constructor(tag: string, message: string, options: PlantwireErrorOptions = {}) {
    super("PW_DATA_QUALITY", message, options);
    this.tag = tag;
  }

  /** True for a data-quality error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is DataQualityError {
    return hasCode(error, "PW_DATA_QUALITY");
  }
}

/** An approval or rejection cannot be applied: the proposal is unknown, already decided, or expired. */
export class ApprovalError extends PlantwireError {
  /** The proposal concerned. */
  readonly proposalId: string;

  constructor(proposalId: string, message: string, options: PlantwireErrorOptions = {}) {
    super("PW_APPROVAL", message, options);
    this.proposalId = proposalId;
  }

  /** True for an approval error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is ApprovalError {
    return hasCode(error, "PW_APPROVAL");
  }
}

/** A loop's budget (model calls per hour, tokens per day) would be exceeded; the loop pauses instead. */
export class BudgetExceededError extends PlantwireError {
  /** When the budget frees up again (ms since the epoch). */
  readonly resumesAt: number;

  constructor(message: string, resumesAt: number, options: PlantwireErrorOptions = {}) {
    super("PW_BUDGET", message, options);
    this.resumesAt = resumesAt;
  }

  /** True for a budget error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is BudgetExceededError {
    return hasCode(error, "PW_BUDGET");
  }
}

/**
 * The audit log could not store a record (disk full, read-only, permission, size limit, I/O error). The log is then
 * failed for good in this process: every later append throws this error at once, and nothing is written to a device.
 */
export class AuditError extends PlantwireError {
  /** The cause, its plain-words message and when it happened. */
  readonly failure: AuditFailure;

  constructor(failure: AuditFailure, options: PlantwireErrorOptions = {}) {
    super("PW_AUDIT", failure.message, options);
    this.failure = failure;
  }

  /** True for an audit error from any installed copy of plantwire. */
  static override isInstance(error: unknown): error is AuditError {
    return hasCode(error, "PW_AUDIT");
  }
}
