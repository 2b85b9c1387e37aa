/**
 * The request planner: coalesces the tags of each unit and area into as few block reads as the protocol limits
 * (125 registers, 2000 bits per request) and the device allow, reading across small gaps between tags. A plan is
 * computed once per tag list and reused on every poll.
 */
import { isBitArea, type ModbusAddress, type ModbusArea } from "./modbus-address.js";
import { type HoleRegistry, holeLabel, holeRetryText, type ModbusHole } from "./modbus-holes.js";

/** The protocol's own limits per read request. */
export const protocolLimits = { registers: 125, bits: 2000 } as const;

/** How requests are formed for one device. Every field has a default; per-unit overrides replace fields. */
export interface ModbusPlannerOptions {
  /** Most registers in one request (devices out of spec may need fewer). Capped at 125. @default 125 */
  maxRegistersPerRequest?: number;
  /** Most coils or discrete inputs in one request. Capped at 2000. @default 2000 */
  maxBitsPerRequest?: number;
  /** Longest run of unwanted registers read to join two tags into one request; 0 disables gap filling. @default 16 */
  maxGapRegisters?: number;
  /** Longest run of unwanted bits read to join two tags into one request; 0 disables gap filling. @default 256 */
  maxGapBits?: number;
  /** One request per tag, for devices that reject block reads. @default false */
  requestPerTag?: boolean;
}

/** Planner options with every default filled in. */
export type ResolvedPlannerOptions = Required<ModbusPlannerOptions>;

/** Fills defaults and caps at the protocol limits. */
export function resolvePlannerOptions(...layers: (ModbusPlannerOptions | undefined)[]): ResolvedPlannerOptions {
  const merged = Object.assign({}, ...layers.filter(Boolean)) as ModbusPlannerOptions;
  return {
    maxRegistersPerRequest: Math.max(1, Math.min(protocolLimits.registers, merged.maxRegistersPerRequest ?? 125)),
    maxBitsPerRequest: Math.max(1, Math.min(protocolLimits.bits, merged.maxBitsPerRequest ?? 2000)),
    maxGapRegisters: Math.max(0, merged.maxGapRegisters ?? 16),
    maxGapBits: Math.max(0, merged.maxGapBits ?? 256),
    requestPerTag: merged.requestPerTag ?? false,
  };
}

/** One tag to plan: its position in the caller's list and its address. */
export interface PlanItem {
  readonly index: number;
  readonly address: ModbusAddress;
}

/** One planned read request and the tags it serves. */
export interface PlannedRequest {
  readonly unit: number;
  readonly area: ModbusArea;
  /** First register (or bit) read. */
  readonly start: number;
  /** Registers (or bits) read. */
  readonly count: number;
  /** The tags served, each with its position within the response (registers or bits from `start`). */
  readonly items: readonly { readonly index: number; readonly offset: number }[];
}

/** A tag no request can serve: why, and the hole it sits in when the device refused its address before. */
export interface UnplannedTag {
  readonly index: number;
  readonly reason: string;
  readonly hole?: ModbusHole;
}

/** A plan: the requests, and the tags no request can serve (with why). */
export interface Plan {
  readonly requests: readonly PlannedRequest[];
  readonly unplannable: readonly UnplannedTag[];
}

interface OpenBlock {
  unit: number;
  area: ModbusArea;
  start: number;
  end: number;
  items: { index: number; offset: number }[];
}

/**
 * Plans the read requests for `items`; `optionsFor(unit)` gives each unit's (resolved) planner options. Known `holes`
 * (addresses the device refused with exception 2) are never read: a tag in one is left out with the hole named, and
 * no block is joined across one.
 */
export function planRequests(
  items: readonly PlanItem[],
  optionsFor: (unit: number) => ResolvedPlannerOptions,
  holes?: Pick<HoleRegistry, "overlapping">,
): Plan {
  const groups = new Map<string, PlanItem[]>();
  for (const item of items) {
    const key = `${item.address.unit}:${item.address.area}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  const requests: PlannedRequest[] = [];
  const unplannable: UnplannedTag[] = [];
  for (const group of groups.values()) {
    const first = group[0] as PlanItem;
    const options = optionsFor(first.address.unit);
    const bits = isBitArea(first.address.area);
    const maxCount = bits ? options.maxBitsPerRequest : options.maxRegistersPerRequest;
    const maxGap = bits ? options.maxGapBits : options.maxGapRegisters;
    const sorted = [...group].sort((a, b) => a.address.address - b.address.address || a.index - b.index);
    let block: OpenBlock | undefined;
    const flush = () => {
      if (block) requests.push({ ...block, count: block.end - block.start });
      block = undefined;
    };
    for (const item of sorted) {
      const { address, count } = item.address;
      if (count > maxCount) {
        unplannable.push({
          index: item.index,
          reason: `${count} ${bits ? "bits" : "registers"} exceed this unit's limit of ${maxCount} per request`,
        });
        continue;
      }
      const end = address + count;
      const { unit, area } = item.address;
      const hole = holes?.overlapping(unit, area, address, end);
      if (hole) {
        unplannable.push({
          index: item.index,
          hole,
          reason: `${holeLabel(hole)} is a hole in the device's map (${hole.why}), ${holeRetryText(hole)}. Fix: correct the tag's address, or call forgetHoles() after the device's map changed`,
        });
        continue;
      }
      const joins =
        block !== undefined &&
        !options.requestPerTag &&
        address - block.end <= maxGap &&
        Math.max(block.end, end) - block.start <= maxCount &&
        holes?.overlapping(unit, area, block.end, address) === undefined;
      if (!joins) {
        flush();
        block = { unit: item.address.unit, area: item.address.area, start: address, end, items: [] };
      }
      const open = block as OpenBlock;
      open.end = Math.max(open.end, end);
      open.items.push({ index: item.index, offset: address - open.start });
    }
    flush();
  }
  requests.sort((a, b) => a.unit - b.unit || a.area.localeCompare(b.area) || a.start - b.start);
  return { requests, unplannable };
}

const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;

/** Prints a plan for people: one line per request with the tags it serves. */
export function describePlan(plan: Plan, nameOf: (index: number) => string): string {
  const lines: string[] = [];
  let unit: number | undefined;
  for (const request of plan.requests) {
    if (request.unit !== unit) {
      unit = request.unit;
      lines.push(`unit ${unit}:`);
    }
    const bits = isBitArea(request.area);
    const last = request.start + request.count - 1;
    const names = request.items.map((item) => `${nameOf(item.index)}@${request.start + item.offset}`).join(", ");
    lines.push(
      `  ${request.area} ${request.start}–${last} (${plural(request.count, bits ? "bit" : "register")}, ${plural(request.items.length, "tag")}): ${names}`,
    );
  }
  for (const item of plan.unplannable) lines.push(`  not planned: ${nameOf(item.index)}: ${item.reason}`);
  lines.push(
    `${plan.requests.length} request${plan.requests.length === 1 ? "" : "s"} for ${plan.requests.reduce((sum, request) => sum + request.items.length, 0)} tags`,
  );
  return lines.join("\n");
}
