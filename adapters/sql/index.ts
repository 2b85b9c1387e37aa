/** plantwire/sql: placeholder entry until the sql adapter lands. */
export const adapterKind = "sql" as const;
