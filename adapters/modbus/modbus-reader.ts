/**
 * Runs a read: compiles a tag list into a plan with a decoder per tag (once, then cached), sends each unit's requests
 * in turn, units side by side, and turns answers, exceptions and silences into samples. A unit that times out stops
 * its own remaining requests for this poll and feeds its breaker; other units are not held up beyond that one timeout.
 */
import {
  type BoundTag,
  badSample,
  ConnectionError,
  ProtocolError,
  type Sample,
  TimeoutError,
} from "../../src/index.js";
import { isBitArea, type ModbusAddress } from "./modbus-address.js";
import type { UnitBreaker } from "./modbus-breaker.js";
import { ModbusExceptionError, type ModbusReadAnswer } from "./modbus-errors.js";
import { type Plan, type PlannedRequest, planRequests, type ResolvedPlannerOptions } from "./modbus-planner.js";
import type { ModbusOperation, ModbusTransport } from "./modbus-transport.js";
import { compatibilityProblem, responseSamples, type TagDecoder, tagDecoder } from "./modbus-values.js";

interface CompiledRequest {
  readonly request: PlannedRequest;
  readonly what: string;
  readonly operation: ModbusOperation;
  readonly decoders: readonly TagDecoder[];
}

/** A plan with everything a poll needs precomputed. */
export interface CompiledPlan {
  readonly plan: Plan;
  readonly units: ReadonlyMap<number, readonly CompiledRequest[]>;
  /** Tags that cannot be read, by index, with the reason (type mismatch, too large for the unit's limits). */
  readonly problems: ReadonlyMap<number, string>;
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

/** Compiles tags into a plan. `optionsFor` gives each unit's planner options. */
export function compilePlan(
  tags: readonly BoundTag<ModbusAddress>[],
  optionsFor: (unit: number) => ResolvedPlannerOptions,
  adapterName: string,
): CompiledPlan {
  const problems = new Map<number, string>();
  const items: { index: number; address: ModbusAddress }[] = [];
  tags.forEach((tag, index) => {
    const problem = compatibilityProblem(tag.definition, tag.address);
    if (problem) problems.set(index, `tag "${tag.name}": ${problem}`);
    else items.push({ index, address: tag.address });
  });
  const plan = planRequests(items, optionsFor);
  for (const item of plan.unplannable) problems.set(item.index, `tag "${tags[item.index]?.name}": ${item.reason}`);
  const units = new Map<number, CompiledRequest[]>();
  for (const request of plan.requests) {
    const compiled: CompiledRequest = {
      request,
      what: `FC${functionCodes[request.area]} ${request.area} ${request.start}+${request.count}`,
      operation: operationFor(request),
      decoders: request.items.map((item) => {
        const tag = tags[item.index] as BoundTag<ModbusAddress>;
        return tagDecoder(tag.definition, tag.address, adapterName);
      }),
    };
    const list = units.get(request.unit);
    if (list) list.push(compiled);
    else units.set(request.unit, [compiled]);
  }
  return { plan, units, problems };
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

/** Reads one unit's requests in turn into `samples`. */
export async function readUnit(
  unit: number,
  requests: readonly CompiledRequest[],
  samples: Sample[],
  transport: ModbusTransport,
  breaker: UnitBreaker,
  adapterName: string,
): Promise<void> {
  const fill = (compiled: CompiledRequest, sample: Sample) => {
    for (const item of compiled.request.items) samples[item.index] = sample;
  };
  if (!breaker.allows()) {
    const wait = Math.max(0, breaker.retryAt - Date.now());
    const sample = badSample(
      "comm-failure",
      `${adapterName}: unit ${unit} is backed off after not answering (${breaker.lastError}); next try in ${wait} ms`,
    );
    for (const compiled of requests) fill(compiled, sample);
    return;
  }
  for (let position = 0; position < requests.length; position++) {
    const compiled = requests[position] as CompiledRequest;
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
    } catch (error) {
      const message = (error as Error).message;
      if (error instanceof ModbusExceptionError) {
        breaker.succeeded();
        fill(compiled, badSample("device-error", message));
        continue;
      }
      if (TimeoutError.isInstance(error)) breaker.failed(message);
      const reason = TimeoutError.isInstance(error)
        ? "timeout"
        : ProtocolError.isInstance(error)
          ? "decode-error"
          : ConnectionError.isInstance(error)
            ? "comm-failure"
            : "other";
      fill(compiled, badSample(reason, message));
      if (ProtocolError.isInstance(error)) continue;
      // Silence or a lost link: the rest of this unit's requests would only wait for the same fate.
      const skipped = badSample(reason, `${adapterName}: unit ${unit} skipped for this poll after: ${message}`);
      for (const rest of requests.slice(position + 1)) fill(rest, skipped);
      return;
    }
  }
}
