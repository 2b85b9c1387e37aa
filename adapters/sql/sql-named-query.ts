/**
 * Named queries and insert templates: the integrator writes the SQL once, in config; a model or a payload may only
 * pick a name and give parameters, which zod validates and which travel as bound parameters, never as SQL text.
 */
import type { z } from "zod";
import { ConfigError, ValidationError } from "../../src/index.js";
import { isIdentifier, type SqlDialect } from "./sql-dialect.js";

/** A named, parameterised query declared in config. Parameters are written `:name` in the SQL text. */
export interface NamedQueryDefinition<
  TParameters extends z.ZodType = z.ZodType,
  TColumns extends z.ZodType = z.ZodType,
> {
  /** One SELECT statement with `:name` placeholders, e.g. `SELECT value FROM lab WHERE line = :line`. */
  readonly sql: string;
  /** A zod object schema of the parameters, e.g. `z.object({ line: z.number().int() })`. */
  readonly parameters: TParameters;
  /** A zod schema of one result row, e.g. `z.object({ value: z.number() })`. */
  readonly columns: TColumns;
  /** What the query answers, in plain words (shown to a model choosing a query). */
  readonly description?: string;
}

/** A named insert template for sinks: a table and the columns a row may fill. */
export interface InsertTemplate {
  readonly table: string;
  readonly columns: readonly string[];
}

/** A named query with its placeholders resolved to parameter order. */
export interface CompiledQuery {
  readonly name: string;
  readonly definition: NamedQueryDefinition;
  /** The SQL split at its placeholders (one more segment than placeholders), joined per dialect by {@link queryText}. */
  readonly segments: readonly string[];
  /** Parameter names in placeholder order (a name may repeat). */
  readonly order: readonly string[];
}

/**
 * Finds `:name` placeholders outside quotes and comments, skipping PostgreSQL `::type` casts. Hand-written because
 * no small library does this for three dialects; it only tokenises, it never interprets values.
 */
export function compileNamedQuery(name: string, given: NamedQueryDefinition): CompiledQuery {
  // Each field read once into a frozen copy: the SQL compiled here is the SQL run, and a caller who later changes
  // the object they passed changes nothing (the zod schemas themselves are the caller's, as zod objects are).
  const { sql, parameters, columns, description } = given;
  if (typeof sql !== "string") {
    throw new ConfigError([{ path: `queries.${name}.sql`, message: "not text", fix: "write one SELECT statement" }]);
  }
  const definition: NamedQueryDefinition = Object.freeze({
    sql,
    parameters,
    columns,
    ...(description === undefined ? {} : { description }),
  });
  const source = sql.trim().replace(/;\s*$/, "");
  const order: string[] = [];
  const segments: string[] = [];
  let template = "";
  let index = 0;
  while (index < source.length) {
    const character = source[index] as string;
    if (character === "'" || character === '"' || character === "`") {
      const end = source.indexOf(character, index + 1);
      const stop = end === -1 ? source.length : end + 1;
      template += source.slice(index, stop);
      index = stop;
    } else if (character === "-" && source[index + 1] === "-") {
      const end = source.indexOf("\n", index);
      const stop = end === -1 ? source.length : end;
      template += source.slice(index, stop);
      index = stop;
    } else if (character === ":" && source[index + 1] === ":") {
      template += "::";
      index += 2;
    } else if (character === ":" && /[A-Za-z_]/.test(source[index + 1] ?? "")) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(index + 1));
      const parameter = match?.[0] as string;
      order.push(parameter);
      segments.push(template);
      template = "";
      index += 1 + parameter.length;
    } else {
      template += character;
      index++;
    }
  }
  const shape = (definition.parameters as { shape?: Record<string, unknown> }).shape;
  const unknown = shape ? order.filter((parameter) => !(parameter in shape)) : [];
  if (unknown.length > 0) {
    throw new ConfigError([
      {
        path: `queries.${name}.sql`,
        message: `placeholder ${unknown.map((parameter) => `:${parameter}`).join(", ")} is not in the parameters schema`,
        fix: "add it to parameters: z.object({ ... }) or correct the placeholder's spelling",
      },
    ]);
  }
  segments.push(template);
  return Object.freeze({ name, definition, segments: Object.freeze(segments), order: Object.freeze(order) });
}

/** A query that already ends in its own LIMIT (a number or a placeholder, maybe with OFFSET). */
const ownLimit = /\blimit\s+(\d+|\$\d+|\?)(\s*(,|offset)\s*(\d+|\$\d+|\?))?\s*$/i;

/**
 * The query's SQL in a dialect, capped at `rowLimit` rows. The cap is appended as a LIMIT, which keeps the query's
 * ORDER BY (MariaDB ignores an ORDER BY inside a derived table that has no LIMIT of its own); a query with its own
 * LIMIT is wrapped as a derived table instead.
 */
export function queryText(compiled: CompiledQuery, dialect: SqlDialect, rowLimit: number): string {
  const text = compiled.segments
    .map((segment, index) => (index === 0 ? segment : `${dialect.placeholder(index)}${segment}`))
    .join("");
  const limit = Math.trunc(rowLimit);
  if (ownLimit.test(text)) return `SELECT * FROM (${text}) AS plantwire_capped LIMIT ${limit}`;
  // On its own line, so a trailing -- comment cannot swallow it.
  return `${text}\nLIMIT ${limit}`;
}

/** Validates parameters with the query's schema and returns them in placeholder order. */
export function queryParameters(compiled: CompiledQuery, parameters: unknown): unknown[] {
  const parsed = compiled.definition.parameters.safeParse(parameters ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".") || "(parameters)"}: ${issue.message}`);
    throw new ValidationError(`named query "${compiled.name}": invalid parameters: ${problems.join("; ")}`, {
      field: compiled.name,
    });
  }
  const values = parsed.data as Record<string, unknown>;
  return compiled.order.map((parameter) => values[parameter]);
}

/** Validates result rows with the query's column schema. */
export function queryRows(compiled: CompiledQuery, rows: readonly unknown[]): unknown[] {
  return rows.map((row, position) => {
    const parsed = compiled.definition.columns.safeParse(row);
    if (parsed.success) return parsed.data;
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ValidationError(
      `named query "${compiled.name}": row ${position} does not match its columns schema: ${problems.join("; ")}. Fix: correct the columns schema or the SQL`,
      { field: compiled.name },
    );
  });
}

/**
 * Checks an insert template's table and column names and returns a frozen copy of it, each field read once. The
 * copy is what is written through: the caller's object may change later (or be a getter or Proxy answering
 * differently each time), and the table that was checked, audited and locked must stay the table that is written.
 */
export function checkedTemplate(name: string, given: InsertTemplate): InsertTemplate {
  const { table, columns: givenColumns } = given;
  const columns: unknown[] = Array.isArray(givenColumns) ? [...givenColumns] : [];
  const issues = [];
  if (typeof table !== "string" || !isIdentifier(table, true)) {
    issues.push({
      path: `templates.${name}.table`,
      message: "not a plain SQL identifier",
      fix: "use letters, digits, _",
    });
  }
  if (columns.length === 0) {
    issues.push({ path: `templates.${name}.columns`, message: "empty", fix: "list the columns a row fills" });
  }
  for (const [position, column] of columns.entries()) {
    if (typeof column !== "string" || !isIdentifier(column)) {
      issues.push({
        path: `templates.${name}.columns.${position}`,
        message: `"${String(column)}" is not a plain SQL identifier`,
        fix: "use letters, digits and underscores only",
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({ table: table as string, columns: Object.freeze(columns as string[]) });
}
