/**
 * Runs a read: compiles a tag list into a plan with a decoder per tag (once, then cached), sends each unit's requests
 * in turn, units side by side, and turns answers, exceptions and silences into samples. A unit that times out stops
 * its own remaining requests for this poll and feeds its breaker; other units are not held up beyond that one timeout.
 * A block refused with exception 2 is split until the refused address is found (see {@link splitRefused}).
 */
import {
  type BoundTag,
  badSample,
  ConnectionError,
  ProtocolError,
  type QualityReason,
  type Sample,
  TimeoutError,
} from "../../src/index.js";
import { isBitArea, type ModbusAddress } from "./modbus-address.js";
import type { UnitBreaker } from "./modbus-breaker.js";
import { ModbusExceptionError, type ModbusReadAnswer } from "./modbus-errors.js";
import { type HoleRegistry, holeLabel, holeRetryText } from "./modbus-holes.js";
import { type Plan, type PlannedRequest, planRequests, type ResolvedPlannerOptions } from "./modbus-planner.js";
import type { ModbusOperation, ModbusTransport } from "./modbus-transport.js";
import { compatibilityProblem, responseSamples, type TagDecoder, tagDecoder } from "./modbus-values.js";

interface CompiledRequest {
  readonly request: PlannedRequest;
  readonly what: string;
  readonly operation: ModbusOperation;
  readonly decoders: readonly TagDecoder[];
  /** Registers (or bits) each item spans, for splitting a refused block. */
  readonly spans: readonly number[];
}

/** Why a tag cannot be read: the sample's quality reason and the detail. */
export interface TagProblem {
  readonly reason: QualityReason;
  readonly detail: string;
}

/** A plan with everything a poll needs precomputed. */
export interface CompiledPlan {
  readonly plan: Plan;
  readonly units: ReadonlyMap<number, readonly CompiledRequest[]>;
  /** Tags that cannot be read, by index: type mismatch, too large for the unit's limits, in a known hole. */
  readonly problems: ReadonlyMap<number, TagProblem>;
  /** The hole registry's version this plan was made with. */
  readonly holesVersion: number;
}

const functionCodes = { coil: 1, discrete: 2, holding: 3, input: 4 } as const;

function operationFor(request: PlannedRequest): ModbusOperation {
  const { unit, start, count } = request;
  switch (request.area) {
    case "coil":
      return (client, callback) => client.writeFC1(unit, start, count, callback);
    case "discrete":
      return (client, callback) => client.writeFC2(unit, start, count, callback);
    case "holding":
      return (client, callback) => client.writeFC3(unit, start, count, callback);
    case "input":
      return (client, callback) => client.writeFC4(unit, start, count, callback);
  }
}

function compileRequest(
  request: PlannedRequest,
  decoders: readonly TagDecoder[],
  spans: readonly number[],
): CompiledRequest {
  return {
    request,
    what: `FC${functionCodes[request.area]} ${request.area} ${request.start}+${request.count}`,
    operation: operationFor(request),
    decoders,
    spans,
  };
}

/** Compiles tags into a plan. `optionsFor` gives each unit's planner options; `holes` the device's known holes. */
export function compilePlan(
  tags: readonly BoundTag<ModbusAddress>[],
  optionsFor: (unit: number) => ResolvedPlannerOptions,
  adapterName: string,
  holes: HoleRegistry,
): CompiledPlan {
  const problems = new Map<number, TagProblem>();
  const items: { index: number; address: ModbusAddress }[] = [];
  tags.forEach((tag, index) => {
    const problem = compatibilityProblem(tag.definition, tag.address);
    if (problem) problems.set(index, { reason: "config-error", detail: `tag "${tag.name}": ${problem}` });
    else items.push({ index, address: tag.address });
  });
  const plan = planRequests(items, optionsFor, holes);
  for (const item of plan.unplannable) {
    // A hole is the device refusing the address, as on the poll that found it; the rest is the tag map's doing.
    const reason = item.hole ? "device-error" : "config-error";
    problems.set(item.index, { reason, detail: `tag "${tags[item.index]?.name}": ${item.reason}` });
  }
  const units = new Map<number, CompiledRequest[]>();
  for (const request of plan.requests) {
    const compiled = compileRequest(
      request,
      request.items.map((item) => {
        const tag = tags[item.index] as BoundTag<ModbusAddress>;
        return tagDecoder(tag.definition, tag.address, adapterName);
      }),
      request.items.map((item) => (tags[item.index] as BoundTag<ModbusAddress>).address.count),
    );
    const list = units.get(request.unit);
    if (list) list.push(compiled);
    else units.set(request.unit, [compiled]);
  }
  return { plan, units, problems, holesVersion: holes.version };
}

/** The part of a request serving items `from` to `to - 1` (items are in address order), reading only their span. */
function part(compiled: CompiledRequest, from: number, to: number): CompiledRequest {
  const items = compiled.request.items.slice(from, to);
  const spans = compiled.spans.slice(from, to);
  const first = Math.min(...items.map((item) => item.offset));
  const end = Math.max(...items.map((item, index) => item.offset + (spans[index] as number)));
  const request: PlannedRequest = {
    ...compiled.request,
    start: compiled.request.start + first,
    count: end - first,
    items: items.map((item) => ({ index: item.index, offset: item.offset - first })),
  };
  return compileRequest(request, compiled.decoders.slice(from, to), spans);
}

function answerProblem(request: PlannedRequest, answer: ModbusReadAnswer | undefined): string | undefined {
  if (!answer) return "empty answer";
  if (isBitArea(request.area)) {
    return Array.isArray(answer.data) && answer.data.length >= request.count
      ? undefined
      : `${answer.data?.length ?? 0} bits for ${request.count} asked`;
  }
  return Buffer.isBuffer(answer.buffer) && answer.buffer.length === request.count * 2
    ? undefined
    : `${answer.buffer?.length ?? 0} bytes for ${request.count} registers asked`;
}

/** What reading one request came to: all read, refused (in part), failed, or the unit went silent (stop). */
type RequestOutcome =
  | { readonly kind: "read" | "refused" | "failed" }
  | { readonly kind: "stop"; readonly reason: QualityReason; readonly message: string };

interface UnitContext {
  readonly unit: number;
  readonly samples: Sample[];
  readonly transport: ModbusTransport;
  readonly breaker: UnitBreaker;
  readonly holes: HoleRegistry;
  readonly adapterName: string;
}

const fill = (samples: Sample[], compiled: CompiledRequest, sample: Sample) => {
  for (const item of compiled.request.items) samples[item.index] = sample;
};

async function readRequest(compiled: CompiledRequest, context: UnitContext): Promise<RequestOutcome> {
  const { unit, samples, transport, breaker, adapterName } = context;
  try {
    const answer = await transport.request<ModbusReadAnswer>(unit, compiled.what, compiled.operation);
    breaker.succeeded();
    const problem = answerProblem(compiled.request, answer);
    if (problem)
      throw new ProtocolError(`${adapterName}, unit ${unit}, ${compiled.what}: malformed answer (${problem})`);
    const response = responseSamples(Date.now());
    const wire = isBitArea(compiled.request.area) ? undefined : answer.buffer;
    const bits = isBitArea(compiled.request.area) ? answer.data : undefined;
    const { items } = compiled.request;
    for (let index = 0; index < items.length; index++) {
      const item = items[index] as { index: number; offset: number };
      samples[item.index] = (compiled.decoders[index] as TagDecoder)(wire, bits, item.offset, response);
    }
    return { kind: "read" };
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof ModbusExceptionError) {
      breaker.succeeded();
      if (error.exceptionCode === 2) return splitRefused(compiled, message, context);
      fill(samples, compiled, badSample("device-error", message));
      return { kind: "failed" };
    }
    if (TimeoutError.isInstance(error)) breaker.failed(message);
    const reason = TimeoutError.isInstance(error)
      ? "timeout"
      : ProtocolError.isInstance(error)
        ? "decode-error"
        : ConnectionError.isInstance(error)
          ? "comm-failure"
          : "other";
    fill(samples, compiled, badSample(reason, message));
    // Silence or a lost link: the rest of this unit's requests would only wait for the same fate.
    return ProtocolError.isInstance(error) ? { kind: "failed" } : { kind: "stop", reason, message };
  }
}

/**
 * A request answered exception 2 (illegal data address): somewhere in its span is an address the device lacks. The
 * tags are split in two and each half read on its own, recursively, so every tag the device does have still arrives
 * this poll. A single tag refused is a hole; two halves that both read cleanly put the hole in the gap between them.
 * Either is remembered, so the next plan leaves it out: each refusal costs one extra round of requests, once.
 */
async function splitRefused(compiled: CompiledRequest, message: string, context: UnitContext): Promise<RequestOutcome> {
  const { request, spans } = compiled;
  const { items } = request;
  const found = (start: number, count: number) =>
    context.holes.add({
      unit: request.unit,
      area: request.area,
      start,
      count,
      why: `a read of ${request.area} ${request.start}+${request.count} answered exception 2 (illegal data address)`,
      time: Date.now(),
    });
  const single = items.every(
    (item, index) => item.offset === items[0]?.offset && spans[index] === (spans[0] as number),
  );
  if (single) {
    const hole = found(request.start, request.count);
    const label = holeLabel({ ...request, start: request.start, count: request.count });
    const retry = hole ? holeRetryText(hole) : "not asked for again for a while";
    const detail = `${message}; ${label} is remembered as a hole in the device's map, ${retry}. Fix: correct the tag's address`;
    fill(context.samples, compiled, badSample("device-error", detail));
    return { kind: "refused" };
  }
  const middle = Math.ceil(items.length / 2);
  const left = part(compiled, 0, middle);
  const right = part(compiled, middle, items.length);
  const leftOutcome = await readRequest(left, context);
  if (leftOutcome.kind === "stop") {
    fill(context.samples, right, badSample(leftOutcome.reason, leftOutcome.message));
    return leftOutcome;
  }
  const rightOutcome = await readRequest(right, context);
  if (rightOutcome.kind === "stop") return rightOutcome;
  const leftEnd = left.request.start + left.request.count;
  if (leftOutcome.kind === "read" && rightOutcome.kind === "read" && right.request.start > leftEnd) {
    found(leftEnd, right.request.start - leftEnd);
  }
  return { kind: "refused" };
}

/** Reads one unit's requests in turn into `samples`, remembering any hole a refused block reveals in `holes`. */
export async function readUnit(
  unit: number,
  requests: readonly CompiledRequest[],
  samples: Sample[],
  transport: ModbusTransport,
  breaker: UnitBreaker,
  adapterName: string,
  holes: HoleRegistry,
): Promise<void> {
  if (!breaker.allows()) {
    const wait = Math.max(0, breaker.retryAt - Date.now());
    const sample = badSample(
      "comm-failure",
      `${adapterName}: unit ${unit} is backed off after not answering (${breaker.lastError}); next try in ${wait} ms`,
    );
    for (const compiled of requests) fill(samples, compiled, sample);
    return;
  }
  const context: UnitContext = { unit, samples, transport, breaker, holes, adapterName };
  for (let position = 0; position < requests.length; position++) {
    const outcome = await readRequest(requests[position] as CompiledRequest, context);
    if (outcome.kind !== "stop") continue;
    const skipped = badSample(
      outcome.reason,
      `${adapterName}: unit ${unit} skipped for this poll after: ${outcome.message}`,
    );
    for (const rest of requests.slice(position + 1)) fill(samples, rest, skipped);
    return;
  }
}
