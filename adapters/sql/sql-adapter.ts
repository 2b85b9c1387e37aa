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
import { isLogger, switchableLogger } from "../../src/logger.js";
import type { SqlAdapter } from "./sql-adapter-types.js";
import {
  type NarrowTableMapping,
  parseOrThrow,
  type SqlAddress,
  type SqlOptions,
  sqlSchemas,
  type TagTableMapping,
  tagQualityColumnOf,
  type WideTableMapping,
} from "./sql-config.js";
import { dialectOf, openReadWrite } from "./sql-connect.js";
import { sqlDeviceOf } from "./sql-device.js";
import { isIdentifier, type SqlConnection } from "./sql-dialect.js";
import { isConnectionFailure } from "./sql-errors.js";
import { TagResolver } from "./sql-historian.js";
import { readHistory } from "./sql-history.js";
import {
  type CompiledQuery,
  checkedTemplate,
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
>(given: SqlOptions<TQueries, TTemplates>): SqlAdapter<TQueries, TTemplates> {
  // Every option read once, at creation, into frozen copies (templates and query definitions deeply): where rows go
  // is decided here, so a caller who changes the object later cannot move a write the guard audited and locked.
  const options: Readonly<SqlOptions<TQueries, TTemplates>> = Object.freeze({ ...given });
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
  const queries: ReadonlyMap<string, CompiledQuery> = new Map(
    Object.entries(options.queries ?? {}).map(([queryName, definition]) => [
      queryName,
      compileNamedQuery(queryName, definition),
    ]),
  );
  const templates: ReadonlyMap<string, InsertTemplate> = new Map(
    Object.entries(options.templates ?? {}).map(([templateName, template]) => [
      templateName,
      checkedTemplate(templateName, template),
    ]),
  );

  if (options.logger !== undefined && !isLogger(options.logger)) {
    throw configIssue("logger", "must have debug, info, warn and error methods", "pass console, pino or winston");
  }
  const logger = switchableLogger(options.logger);
  const status = new StatusTracker();
  status.on((now) => logger.debug(`SQL adapter "${name}": ${now.state}${now.reason ? ` (${now.reason})` : ""}`));
  const resolver = new TagResolver();
  // The tag paths of every narrow source with a tag table, resolved to ids at connect.
  const pathsByTagTable = new Map<string, [TagTableMapping, Set<string | number>]>();
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
    const compiled = queries.get(queryName);
    if (!compiled) {
      throw new ValidationError(
        `sql adapter "${name}": no named query "${queryName}". Fix: use one of ${[...queries.keys()].join(", ") || "(none declared)"}`,
        { field: "query" },
      );
    }
    return compiled;
  };
  const templateOf = (templateName: string): InsertTemplate => {
    const template = templates.get(templateName);
    if (!template) {
      throw new ValidationError(
        `sql adapter "${name}": no insert template "${templateName}". Fix: use one of ${[...templates.keys()].join(", ") || "(none declared)"}`,
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
    useLogger: (plantLogger) => logger.adopt(plantLogger),
    async connect() {
      if (reader && status.get().state !== "disconnected") return;
      opening ??= (async () => {
        status.set("connecting");
        try {
          const pair = await openReadWrite(options, { dialect, poolSize, timeoutMs, adapterName: name });
          // Tag paths resolved now, so a wrong tag table fails connect() rather than the first read.
          resolver.clear();
          try {
            for (const [tagTable, paths] of pathsByTagTable.values())
              await resolver.resolve(pair.reader, tagTable, [...paths]);
          } catch (error) {
            await Promise.allSettled([...new Set([pair.reader, pair.writer])].map((connection) => connection.close()));
            throw error;
          }
          reader = pair.reader;
          writer = pair.writer;
          status.set("connected");
        } catch (error) {
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
        const samples = await readLatest({ connection, timeType, queries, resolver }, tags, noteFailure);
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
      // zod's parse is a copy; frozen, so the table remembered as writable is the table the tag writes.
      const checked = Object.freeze(parseOrThrow(sqlSchemas().narrow, mapping, "narrow")) as NarrowTableMapping;
      const label = `${name}:${checked.table}[${tag}]`;
      if (checked.tagTable) {
        const key = JSON.stringify(checked.tagTable);
        const entry = pathsByTagTable.get(key) ?? [checked.tagTable, new Set<string | number>()];
        entry[1].add(tag);
        pathsByTagTable.set(key, entry);
      }
      writableTables.add(checked.table, label);
      return { adapter, address: { kind: "narrow", mapping: checked, tag }, label };
    },
    wide(mapping, column) {
      const checked = Object.freeze(parseOrThrow(sqlSchemas().wide, mapping, "wide")) as WideTableMapping;
      if (!isIdentifier(column))
        throw configIssue("column", `"${column}" is not a plain SQL identifier`, "letters, digits, _");
      const qualityColumn = tagQualityColumnOf(checked, column);
      if (qualityColumn !== undefined && !isIdentifier(qualityColumn))
        throw configIssue(
          "wide.tagQualityColumn",
          `"${qualityColumn}" is not a plain SQL identifier`,
          "a shorter name",
        );
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
      const connection = connected().reader;
      return readHistory({ adapter, connection, rowCap, timeType, resolver }, tags, from, to, historyOptions);
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
      const sink = createSink(templateName, template, insertBatch, sinkOptions, logger);
      sinks.add(sink);
      return sink;
    },
    rowOutput(templateName) {
      // The identity a tag on the same table gets (sql-device.ts), so a guard locking either locks the same table.
      const deviceOf = (table: string) =>
        adapter.deviceOf?.({
          address: { kind: "wide", mapping: { table, timeColumn: "" }, column: "" },
        } as BoundTag<SqlAddress>) ?? `${name}/${table}`;
      const insert = (template: InsertTemplate, values: readonly SqlValue[]) => insertRows(template, [values]);
      const template = templateOf(templateName);
      return createRowOutput({ adapterName: name, templateName, template, deviceOf, writableTables, insert });
    },
  };
  return adapter;
}
