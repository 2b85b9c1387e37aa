/**
 * plantwire/sql: historian tables and named queries read as tags and windows, events and results written as rows,
 * on SQLite (better-sqlite3), PostgreSQL (pg) and MariaDB/MySQL (mysql2). Drivers load only when a connection opens.
 */
export { sql } from "./sql-adapter.js";
export type { QueryDescription, SqlAdapter } from "./sql-adapter-types.js";
export { type SqlAuditAnchorOptions, sqlAuditAnchor } from "./sql-audit-anchor.js";
export type {
  NarrowTableMapping,
  PartitionMapping,
  SqlAddress,
  SqlClient,
  SqlOptions,
  TagTableMapping,
  WideTableMapping,
} from "./sql-config.js";
export type { SqlDialectName, SqlTimeType } from "./sql-dialect.js";
export type { MysqlClientShape } from "./sql-dialect-mysql.js";
export type { PostgresClientShape } from "./sql-dialect-postgres.js";
export type { SqliteDatabaseShape } from "./sql-dialect-sqlite.js";
export type { HistoryOptions } from "./sql-history.js";
export type { InsertTemplate, NamedQueryDefinition } from "./sql-named-query.js";
export { defaultQuality, type QualityMatch, type QualityRule } from "./sql-quality.js";
export {
  createPlantwireSchema,
  type PlantwireSchemaOptions,
  plantwireEventsTemplate,
  plantwireHistorian,
} from "./sql-schema.js";
export type { SinkRow, SqlSink, SqlSinkOptions } from "./sql-sink.js";
export type { SqlAggregate } from "./sql-statements.js";
export type { SqlValue } from "./sql-values.js";
