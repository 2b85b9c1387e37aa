/**
 * The probe's ranking: how plausible each 32-bit decoding of each register pair is as a plant value, and the set of
 * non-overlapping pairs that explains a range best. A random bit pattern read as float32 lands in an ordinary
 * magnitude about one time in eight, and two neighbouring floats read across their boundary often do too, so single
 * values are ranked first and then chosen together: each register belongs to one value, and a device mostly uses one
 * word order.
 */
import { decodeRegisters, type WordOrder, wordOrders } from "./modbus-codec.js";

/** The 32-bit types the ranking weighs. */
export type RankedType = "float32" | "int32" | "uint32";

/** One decoding of one register pair, with how plausible it looks (0 = not a plant value, 1 = entirely ordinary). */
export interface RankedDecoding {
  /** Register index of the pair's first register within the range read. */
  readonly index: number;
  readonly type: RankedType;
  readonly order: WordOrder;
  readonly value: number;
  readonly score: number;
  /** Why the score, in a few words ("ordinary magnitude", "a 16-bit value beside a zero register" …). */
  readonly why: string;
}

const smallestNormalFloat32 = 1.1754943508222875e-38;
/** Below this a decoding is not offered as plausible at all. */
export const plausibleScore = 0.5;

/** True when a float32 is the nearest float to a short decimal (23.7, 6.25, -1500.5), as people write setpoints. */
function shortDecimal(value: number): boolean {
  return Math.fround(Number(value.toPrecision(5))) === value;
}

/** True when a 16-bit word reads as the upper half of a float of ordinary magnitude (1e-2 to 1e6, either sign). */
function looksLikeUpperWord(word: number): boolean {
  const exponent = (word >> 7) & 0xff; // sign 1 bit, exponent 8 bits, then 7 mantissa bits
  return exponent >= 120 && exponent <= 146;
}

/** Scores one decoding of canonical bits `high`:`low` (the pair in the order the type reads it). */
export function scoreDecoding(
  type: RankedType,
  value: number,
  high: number,
  low: number,
): { score: number; why: string } {
  const bits = high * 0x10000 + low;
  if (bits === 0) return { score: 0, why: "all bits zero" };
  if (bits === 0xffffffff) return { score: 0, why: "all bits one" };
  const magnitude = Math.abs(value);
  if (type === "float32") {
    if (!Number.isFinite(value)) return { score: 0, why: "not finite" };
    if (magnitude < smallestNormalFloat32) return { score: 0, why: "denormal or zero" };
    const short = shortDecimal(value) ? 0.1 : 0;
    // Two neighbouring floats read across their boundary put one float's upper word where the lower belongs.
    if (magnitude >= 1e-2 && magnitude <= 1e6 && looksLikeUpperWord(low) && !short) {
      return { score: 0.8, why: "ordinary magnitude, but its lower word looks like another float's upper word" };
    }
    if (magnitude >= 1e-2 && magnitude <= 1e6) return { score: 0.9 + short, why: "ordinary magnitude" };
    if (magnitude >= 1e-4 && magnitude <= 1e9) return { score: 0.4 + short, why: "unusual magnitude" };
    return { score: 0, why: "extreme magnitude" };
  }
  // An integer whose upper word only extends its lower one is a 16-bit value beside a zero (or 0xFFFF) register:
  // the 16-bit table already shows it, and a float's low word swapped to the front looks just like it.
  if (high === 0 || (type === "int32" && high === 0xffff && value < 0)) {
    return { score: 0.1, why: "a 16-bit value beside a zero register" };
  }
  if (magnitude <= 1e6) return { score: 0.7, why: "ordinary integer" };
  if (magnitude <= 1e8) return { score: 0.3, why: "large integer" };
  return { score: 0, why: "beyond usual counters" };
}

/** Every float32, int32 and uint32 decoding of every register pair in `registers`, scored. */
export function rankDecodings(registers: Buffer): RankedDecoding[] {
  const count = registers.length / 2;
  const ranked: RankedDecoding[] = [];
  const canonical = Buffer.alloc(4);
  for (let index = 0; index + 2 <= count; index++) {
    for (const order of wordOrders) {
      for (const type of ["float32", "int32", "uint32"] as const) {
        const value = decodeRegisters(registers, index, type, order) as number;
        // The type's own reading of the bits, as high and low words, whatever the order on the wire.
        canonical.writeUInt32BE(decodeRegisters(registers, index, "uint32", order) as number, 0);
        const { score, why } = scoreDecoding(type, value, canonical.readUInt16BE(0), canonical.readUInt16BE(2));
        ranked.push({ index, type, order, value, score, why });
      }
    }
  }
  return ranked.sort((a, b) => b.score - a.score || a.index - b.index);
}

/** What a register is worth standing alone: a small signed or unsigned number reads like a 16-bit plant value. */
function sixteenBitWorth(word: number): number {
  return (word >= 1 && word <= 9999) || (word <= -1 && word >= -999) ? 0.4 : 0;
}

/**
 * The best set of plausible decodings in which no register is used twice: most total plausibility, and on a tie the
 * device's dominant word order. A register left out of every pair still counts when it reads as an ordinary 16-bit
 * value (1200 rpm, 44.4 °C × 10), so a pair is not formed by taking it from a neighbour. Returned in address order.
 */
export function bestLayout(ranked: readonly RankedDecoding[], registers: Buffer): RankedDecoding[] {
  const count = registers.length / 2;
  const candidates = ranked.filter((decoding) => decoding.score >= plausibleScore);
  const weightByOrder = new Map<WordOrder, number>();
  for (const decoding of candidates)
    weightByOrder.set(decoding.order, (weightByOrder.get(decoding.order) ?? 0) + decoding.score);
  const dominant = [...weightByOrder].sort((a, b) => b[1] - a[1])[0]?.[0];
  const worth = (decoding: RankedDecoding) => decoding.score + (decoding.order === dominant ? 0.05 : 0);
  // best[i]: the most worth from register i on; a plain dynamic programme over the registers.
  const best: number[] = new Array(count + 2).fill(0);
  const choice: (RankedDecoding | undefined)[] = new Array(count + 2).fill(undefined);
  const byIndex = new Map<number, RankedDecoding[]>();
  for (const decoding of candidates) {
    const list = byIndex.get(decoding.index) ?? [];
    list.push(decoding);
    byIndex.set(decoding.index, list);
  }
  for (let index = count - 1; index >= 0; index--) {
    best[index] = (best[index + 1] as number) + sixteenBitWorth(registers.readInt16BE(index * 2));
    choice[index] = undefined;
    for (const decoding of byIndex.get(index) ?? []) {
      const total = worth(decoding) + (best[index + 2] as number);
      if (total > (best[index] as number) + 1e-9) {
        best[index] = total;
        choice[index] = decoding;
      }
    }
  }
  const layout: RankedDecoding[] = [];
  for (let index = 0; index < count; ) {
    const picked = choice[index];
    if (picked) {
      layout.push(picked);
      index += 2;
    } else index += 1;
  }
  return layout;
}
