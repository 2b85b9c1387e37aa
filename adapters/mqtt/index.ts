/** plantwire/mqtt: placeholder entry until the mqtt adapter lands. */
export const adapterKind = "mqtt" as const;
