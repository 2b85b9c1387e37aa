/**
 * What model-produced rows may and may not reach. The tables behind writable tag sources (narrow historian tables:
 * a new row there is a tag write) are refused to the general insert and sinks, so such a value goes only through
 * the write guard; and row outputs are the channel through which the guard alone inserts model-produced rows into
 * other tables, one committed row per send.
 */
import { type BoundTag, ConfigError, type OutputChannel, ValidationError } from "../../src/index.js";
import type { SqlAddress } from "./sql-config.js";
import type { SqlDialectName } from "./sql-dialect.js";
import { checkedTemplate, type InsertTemplate } from "./sql-named-query.js";
import { type InsertBatch, rowValues } from "./sql-sink.js";
import type { SqlValue } from "./sql-values.js";

const fixWord = "propose the value through the write guard (guard.propose), which checks, audits and writes it";

/** A table name split into an optional schema and the table, folded the way the dialect compares them. */
interface TableKey {
  readonly schema: string | undefined;
  readonly table: string;
}

/**
 * How a dialect tells tables apart. plantwire always quotes identifiers, so on PostgreSQL case counts. SQLite
 * compares ASCII names case-insensitively; MySQL and MariaDB do or do not by `lower_case_table_names` and the file
 * system, so both are folded (a refusal too many beats a write around the guard). A name without a schema may mean
 * any schema on the search path (or the attached databases of SQLite), so it matches the same table in any schema.
 */
export function tableKey(dialect: SqlDialectName, name: string): TableKey {
  const folded = dialect === "postgres" ? name : name.toLowerCase();
  const parts = folded.split(".");
  const table = parts.pop() ?? folded;
  return { schema: parts.length > 0 ? parts.join(".") : undefined, table };
}

/** True when two table names may name the same table in a dialect. */
export function sameTable(dialect: SqlDialectName, first: string, second: string): boolean {
  const a = tableKey(dialect, first);
  const b = tableKey(dialect, second);
  return a.table === b.table && (a.schema === undefined || b.schema === undefined || a.schema === b.schema);
}

/** The tables of one adapter that back writable tag sources, and the check every general insert passes. */
export class WritableTables {
  readonly #dialect: SqlDialectName;
  readonly #adapterName: string;
  /** Table name → the first writable source seen on it (its label). */
  readonly #tables = new Map<string, string>();

  constructor(dialect: SqlDialectName, adapterName: string) {
    this.#dialect = dialect;
    this.#adapterName = adapterName;
  }

  /** Remembers a table that backs a writable source (a narrow historian tag). */
  add(table: string, source: string): void {
    if (!this.#tables.has(table)) this.#tables.set(table, source);
  }

  /** Remembers the tables of the narrow tags among bound tags (sources built by hand, not by `narrow()`). */
  addTags(tags: readonly BoundTag<SqlAddress>[]): void {
    for (const tag of tags) if (tag.address.kind === "narrow") this.add(tag.address.mapping.table, `"${tag.name}"`);
  }

  /** Why a template may not be written through the general path, or undefined when it may. */
  refusal(template: InsertTemplate): string | undefined {
    for (const [table, source] of this.#tables) {
      if (!sameTable(this.#dialect, table, template.table)) continue;
      const same = table === template.table ? "" : ` (the same table as "${table}" in ${this.#dialect})`;
      return `table "${template.table}"${same} backs the writable tag source ${source}: a row there is a tag write`;
    }
    return undefined;
  }

  /** Throws a ConfigError naming the table when a template writes into a writable tag's table. */
  assertInsertable(templateName: string, template: InsertTemplate): void {
    const refusal = this.refusal(template);
    if (refusal === undefined) return;
    throw new ConfigError([
      {
        path: `templates.${templateName}.table`,
        message: `sql adapter "${this.#adapterName}" refused template "${templateName}": ${refusal}; nothing was written`,
        fix: `${fixWord}; getInstance() is the documented way around this promise`,
      },
    ]);
  }

  /**
   * A sink's batch writer that checks at creation and again before every batch (a writable source may be declared
   * on the table after the sink was made: the batch then stays queued and its flush rejects).
   */
  guardBatches(templateName: string, template: InsertTemplate, insertBatch: InsertBatch): InsertBatch {
    this.assertInsertable(templateName, template);
    return async (rows) => {
      this.assertInsertable(templateName, template);
      await insertBatch(rows);
    };
  }
}

/** What a row output needs from its adapter. */
export interface RowOutputContext {
  readonly adapterName: string;
  readonly templateName: string;
  readonly template: InsertTemplate;
  /** The device identity of a table, for one-writer locks. */
  readonly deviceOf: (table: string) => string;
  /** Checked at creation and again on every send: a writable source may have been declared on the table since. */
  readonly writableTables: WritableTables;
  /** Inserts one row (values in column order) through a template in its own transaction; resolves once committed. */
  readonly insert: (template: InsertTemplate, values: readonly SqlValue[]) => Promise<void>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** The row as JSON (bigints as text, dates as ISO 8601), for its size. */
function rowJson(row: Record<string, SqlValue>): string {
  return JSON.stringify(row, (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}

/**
 * Builds a row output; throws a ConfigError when the template writes a writable tag's table. It keeps its own frozen
 * copy of the table and columns, made once here, and takes its check, label, device and every insert from that copy:
 * what the guard audited and locked is what is written, whatever later happens to the object it was given.
 */
export function createRowOutput(context: RowOutputContext): OutputChannel<Record<string, SqlValue>> {
  const { adapterName, templateName } = context;
  const template = checkedTemplate(templateName, context.template);
  context.writableTables.assertInsertable(templateName, template);
  const device = context.deviceOf(template.table);
  const check = (item: unknown): string[] => {
    if (!isPlainObject(item)) return [`a row is an object of columns (${template.columns.join(", ")})`];
    const problems = Object.keys(item)
      .filter((key) => !template.columns.includes(key))
      .map((key) => `unknown column "${key}": template "${templateName}" has ${template.columns.join(", ")}`);
    for (const column of template.columns) {
      if (!Object.hasOwn(item, column)) continue;
      try {
        rowValues(templateName, { table: template.table, columns: [column] }, { [column]: item[column] });
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
    const refusal = context.writableTables.refusal(template);
    if (refusal !== undefined) problems.push(refusal);
    return problems;
  };
  return Object.freeze({
    kind: "row" as const,
    label: `sql ${adapterName} → ${template.table} (template ${templateName})`,
    device,
    check,
    size: (item: Record<string, SqlValue>) => Buffer.byteLength(rowJson(item)),
    async send(item: Record<string, SqlValue>): Promise<void> {
      const problems = check(item);
      if (problems.length > 0) {
        throw new ValidationError(
          `sql adapter "${adapterName}": the row for template "${templateName}" was not written: ${problems.join("; ")}`,
          { field: templateName },
        );
      }
      await context.insert(template, rowValues(templateName, template, item));
    },
  });
}
