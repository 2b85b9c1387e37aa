/**
 * The SQL adapter: historian tables (narrow and wide) and named queries read as tags and windows; events, model
 * results and samples written as rows through named templates. No SQL text ever comes from a model or a payload.
 */
import {
  ADAPTER_CONTRACT_VERSION,
  type BoundTag,
  ConfigError,
  ConnectionError,
  MissingDependencyError,
  StatusTracker,
  TimeoutError,
  ValidationError,
  type WriteResult,
} from "../../src/index.js";
import type { SqlAdapter } from "./sql-adapter-types.js";
import {
  type NarrowTableMapping,
  parseOrThrow,
  type SqlAddress,
  type SqlOptions,
  sqlSchemas,
  type WideTableMapping,
} from "./sql-config.js";
import { dialectOf, openSqlConnection } from "./sql-connect.js";
import { sqlDeviceOf } from "./sql-device.js";
import { isIdentifier, type SqlConnection } from "./sql-dialect.js";
import { isConnectionFailure } from "./sql-errors.js";
import { readHistory } from "./sql-history.js";
import {
  type CompiledQuery,
  checkTemplate,
  compileNamedQuery,
  type InsertTemplate,
  type NamedQueryDefinition,
  queryParameters,
  queryRows,
  queryText,
} from "./sql-named-query.js";
import { createRowOutput, WritableTables } from "./sql-output.js";
import { readLatest } from "./sql-read.js";
import { createSink, rowValues, type SqlSink } from "./sql-sink.js";
import { insertStatement, rowsPerInsert } from "./sql-statements.js";
import type { SqlValue } from "./sql-values.js";
import { writeSample } from "./sql-write.js";

function configIssue(path: string, message: string, fix: string): ConfigError {
  return new ConfigError([{ path, message, fix }]);
}

/** Creates a SQL adapter. Nothing connects until `connect()` (or the plant's first read). */
export function sql<
  const TQueries extends Record<string, NamedQueryDefinition> = Record<string, NamedQueryDefinition>,
  const TTemplates extends Record<string, InsertTemplate> = Record<string, InsertTemplate>,
>(options: SqlOptions<TQueries, TTemplates>): SqlAdapter<TQueries, TTemplates> {
  const name = options.name ?? "sql";
  const dialect = dialectOf(options);
  if (options.writeUrl !== undefined && dialectOf({ url: options.writeUrl }) !== dialect) {
    throw configIssue("writeUrl", "speaks another dialect than url", "point writeUrl at the same database");
  }
  const poolSize = options.poolSize ?? 4;
  const timeoutMs = options.statementTimeoutMs ?? 10_000;
  const rowCap = options.rowCap ?? 100_000;
  if (!Number.isInteger(poolSize) || poolSize < 1) throw configIssue("poolSize", "not a positive integer", "e.g. 4");
  if (!(timeoutMs > 0)) throw configIssue("statementTimeoutMs", "must be positive", "e.g. 10000");
  if (!Number.isInteger(rowCap) || rowCap < 1) throw configIssue("rowCap", "not a positive integer", "e.g. 100000");
  const timeType = options.timeType ?? (dialect === "sqlite" ? "epochMilliseconds" : "timestamp");
  const queries = new Map<string, CompiledQuery>(
    Object.entries(options.queries ?? {}).map(([queryName, definition]) => [
      queryName,
      compileNamedQuery(queryName, definition),
    ]),
  );
  const templates = options.templates ?? ({} as TTemplates);
  for (const [templateName, template] of Object.entries(templates)) checkTemplate(templateName, template);

  const status = new StatusTracker();
  let reader: SqlConnection | undefined;
  let writer: SqlConnection | undefined;
  let opening: Promise<void> | undefined;
  let lastWriteTime = 0;
  const sinks = new Set<SqlSink>();
  // The tables of writable tag sources: the general insert and sinks refuse them (a row there is a tag write).
  const writableTables = new WritableTables(dialect, name);

  const connected = (): { reader: SqlConnection; writer: SqlConnection } => {
    if (!reader || !writer || status.get().state === "disconnected") {
      throw new ConnectionError(`sql adapter "${name}" is not connected. Fix: call connect() first`);
    }
    return { reader, writer };
  };
  const noteSuccess = () => {
    if (status.get().state === "degraded") status.set("connected");
  };
  const noteFailure = (error: unknown) => {
    if (isConnectionFailure(error) || TimeoutError.isInstance(error)) {
      status.set("degraded", error instanceof Error ? error.message : String(error));
    }
  };
  const compiledQuery = (queryName: string): CompiledQuery => {
    const compiled = Object.hasOwn(options.queries ?? {}, queryName) ? queries.get(queryName) : undefined;
    if (!compiled) {
      throw new ValidationError(
        `sql adapter "${name}": no named query "${queryName}". Fix: use one of ${[...queries.keys()].join(", ") || "(none declared)"}`,
        { field: "query" },
      );
    }
    return compiled;
  };
  const templateOf = (templateName: string): InsertTemplate => {
    const template = Object.hasOwn(templates, templateName) ? templates[templateName] : undefined;
    if (!template) {
      throw new ValidationError(
        `sql adapter "${name}": no insert template "${templateName}". Fix: use one of ${Object.keys(templates).join(", ") || "(none declared)"}`,
        { field: "template" },
      );
    }
    return template;
  };
  const insertRows = async (template: InsertTemplate, rows: readonly (readonly SqlValue[])[]) => {
    if (rows.length === 0) return;
    const connection = connected().writer;
    const size = rowsPerInsert(template.columns.length);
    await connection.transaction(async (run) => {
      for (let start = 0; start < rows.length; start += size) {
        const statement = insertStatement(
          connection.dialect,
          template.table,
          template.columns,
          rows.slice(start, start + size),
        );
        await run(statement.text, statement.parameters);
      }
    });
  };

  const adapter: SqlAdapter<TQueries, TTemplates> = {
    contractVersion: ADAPTER_CONTRACT_VERSION,
    kind: "sql",
    name,
    dialect,
    capabilities: { subscribe: false, write: true },
    async connect() {
      if (reader && status.get().state !== "disconnected") return;
      opening ??= (async () => {
        status.set("connecting");
        const common = { dialect, poolSize, timeoutMs, adapterName: name };
        let opened: SqlConnection[] = [];
        try {
          const read = await openSqlConnection({ ...common, url: options.url, client: options.client });
          opened = [read];
          const separate = options.writeUrl !== undefined || options.writeClient !== undefined;
          const write = separate
            ? await openSqlConnection({
                ...common,
                url: options.writeUrl ?? options.url,
                client: options.writeClient ?? (options.writeUrl === undefined ? options.client : undefined),
              })
            : read;
          if (separate) opened.push(write);
          await read.run("SELECT 1 AS pw_probe", []);
          if (separate) await write.run("SELECT 1 AS pw_probe", []);
          reader = read;
          writer = write;
          status.set("connected");
        } catch (error) {
          await Promise.allSettled(opened.map((connection) => connection.close()));
          const message = error instanceof Error ? error.message : String(error);
          status.set("disconnected", message);
          const passThrough =
            ConnectionError.isInstance(error) ||
            ConfigError.isInstance(error) ||
            MissingDependencyError.isInstance(error);
          throw passThrough
            ? error
            : new ConnectionError(`sql adapter "${name}" could not connect: ${message}`, { cause: error });
        }
      })().finally(() => {
        opening = undefined;
      });
      return opening;
    },
    async close() {
      // Sinks get their last flush while the connection is still there; rows they cannot write stay counted in
      // their `pending`.
      await Promise.allSettled([...sinks].map((sink) => sink.close()));
      sinks.clear();
      const open = [reader, writer].filter(
        (connection, index, all): connection is SqlConnection =>
          connection !== undefined && all.indexOf(connection) === index,
      );
      reader = undefined;
      writer = undefined;
      await Promise.allSettled(open.map((connection) => connection.close()));
      status.set("disconnected", "closed");
    },
    async read(tags: readonly BoundTag<SqlAddress>[]) {
      writableTables.addTags(tags);
      const { reader: connection } = connected();
      try {
        const samples = await readLatest({ connection, timeType, queries }, tags, noteFailure);
        noteSuccess();
        return samples;
      } catch (error) {
        noteFailure(error);
        throw error;
      }
    },
    async write(tag: BoundTag<SqlAddress>, value: unknown): Promise<WriteResult> {
      writableTables.addTags([tag]);
      let connection: SqlConnection;
      try {
        connection = connected().writer;
      } catch (error) {
        return { outcome: "failed", error: error as Error, time: Date.now() };
      }
      // Strictly increasing times, so the row just written is the latest one even within one millisecond.
      lastWriteTime = Math.max(Date.now(), lastWriteTime + 1);
      const result = await writeSample({ connection, adapterName: name, timeType, time: lastWriteTime }, tag, value);
      if (result.error) noteFailure(result.error);
      return result;
    },
    status: () => status.get(),
    onStatus: (listener) => status.on(listener),
    parseSource(raw) {
      const parsed = parseOrThrow(sqlSchemas().source, raw);
      if ("narrow" in parsed) return adapter.narrow(parsed.narrow, parsed.tag);
      if ("wide" in parsed) return adapter.wide(parsed.wide, parsed.column);
      if (!queries.has(parsed.query)) {
        throw configIssue(
          "query",
          `no named query "${parsed.query}"`,
          `declare it in sql({ queries }) or use one of ${[...queries.keys()].join(", ")}`,
        );
      }
      return adapter.fromQuery(parsed.query, (parsed.parameters ?? {}) as never, parsed.column);
    },
    deviceOf: sqlDeviceOf(options, dialect, name),
    getInstance: () => reader?.instance,
    narrow(mapping, tag) {
      const checked = parseOrThrow(sqlSchemas().narrow, mapping, "narrow") as NarrowTableMapping;
      const label = `${name}:${checked.table}[${tag}]`;
      writableTables.add(checked.table, label);
      return { adapter, address: { kind: "narrow", mapping: checked, tag }, label };
    },
    wide(mapping, column) {
      const checked = parseOrThrow(sqlSchemas().wide, mapping, "wide") as WideTableMapping;
      if (!isIdentifier(column))
        throw configIssue("column", `"${column}" is not a plain SQL identifier`, "letters, digits, _");
      return {
        adapter,
        address: { kind: "wide", mapping: checked, column },
        label: `${name}:${checked.table}.${column}`,
      };
    },
    fromQuery(queryName, parameters, column) {
      const compiled = compiledQuery(queryName);
      queryParameters(compiled, parameters);
      return {
        adapter,
        address: { kind: "query", query: queryName, parameters: parameters as Record<string, unknown>, column },
        label: `${name}:query ${queryName}.${column}`,
      };
    },
    history(tags, from, to, historyOptions) {
      return readHistory({ adapter, connection: connected().reader, rowCap, timeType }, tags, from, to, historyOptions);
    },
    async query(queryName, parameters) {
      const compiled = compiledQuery(queryName);
      const values = queryParameters(compiled, parameters);
      const { reader: connection } = connected();
      const rows = await connection.run(queryText(compiled, connection.dialect, rowCap + 1), values);
      if (rows.length > rowCap) {
        throw new ValidationError(
          `named query "${queryName}" returned more than the row cap of ${rowCap} rows. Fix: narrow the query or raise rowCap`,
          { field: queryName },
        );
      }
      return queryRows(compiled, rows) as never;
    },
    describeQueries() {
      return [...queries.values()].map((compiled) => ({
        name: compiled.name,
        description: compiled.definition.description,
        parameters: (compiled.definition.parameters as { toJSONSchema?: () => unknown }).toJSONSchema?.(),
      }));
    },
    async insert(templateName, rows) {
      const template = templateOf(templateName);
      writableTables.assertInsertable(templateName, template);
      await insertRows(
        template,
        rows.map((row) => rowValues(templateName, template, row as Record<string, unknown>)),
      );
    },
    sink(templateName, sinkOptions) {
      const template = templateOf(templateName);
      const insertBatch = writableTables.guardBatches(templateName, template, (rows) => insertRows(template, rows));
      const sink = createSink(templateName, template, insertBatch, sinkOptions);
      sinks.add(sink);
      return sink;
    },
    rowOutput(templateName) {
      const template = templateOf(templateName);
      writableTables.assertInsertable(templateName, template);
      // The identity a tag on the same table gets (sql-device.ts), so a guard locking either locks the same table.
      const table = { kind: "wide", mapping: { table: template.table, timeColumn: "" }, column: "" } as const;
      const device = adapter.deviceOf?.({ address: table } as BoundTag<SqlAddress>) ?? `${name}/${template.table}`;
      const insert = (values: readonly SqlValue[]) => insertRows(template, [values]);
      return createRowOutput({ adapterName: name, templateName, template, device, writableTables, insert });
    },
  };
  return adapter;
}
