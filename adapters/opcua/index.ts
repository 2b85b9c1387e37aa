/** plantwire/opcua: placeholder entry until the opcua adapter lands. */
export const adapterKind = "opcua" as const;
