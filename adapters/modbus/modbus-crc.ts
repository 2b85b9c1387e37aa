/**
 * The Modbus RTU CRC-16 (polynomial 0xA001 reflected, initial 0xFFFF), for the simulator's RTU framing. Hand-written
 * so the simulator needs no protocol library: modbus-serial has one, but the simulator must load without it.
 */

const table = new Uint16Array(256);
for (let index = 0; index < 256; index++) {
  let value = index;
  for (let bit = 0; bit < 8; bit++) value = value & 1 ? (value >>> 1) ^ 0xa001 : value >>> 1;
  table[index] = value;
}

/** The CRC of `bytes`, to be written little-endian after the frame. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0xffff;
  for (const byte of bytes) crc = (crc >>> 8) ^ (table[(crc ^ byte) & 0xff] as number);
  return crc;
}
