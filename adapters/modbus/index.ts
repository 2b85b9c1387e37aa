/** plantwire/modbus: placeholder entry until the modbus adapter lands. */
export const adapterKind = "modbus" as const;
