/**
 * Batched reads: one ReadRequest per MaxNodesPerRead nodes (a node read by several tags is read once), a few requests
 * in flight, status codes mapped to sample quality, source and server timestamps kept. A chunk that fails marks only
 * its own tags bad; the read rejects only when nothing could be read.
 */
import type { DataValue, ReadValueIdOptions } from "node-opcua";
import type { BoundTag } from "../../src/adapter.js";
import { withDeadline } from "../../src/deadline.js";
import { ConnectionError, PlantwireError, TimeoutError } from "../../src/errors.js";
import { badSample, type Sample } from "../../src/sample.js";
import { chunk, mapBounded } from "./opcua-batch.js";
import { sampleFromDataValue } from "./opcua-codec.js";
import type { OpcuaAddress } from "./opcua-config.js";
import type { OpenSession } from "./opcua-session.js";
import type { TagCheck } from "./opcua-tag-check.js";

const requestsInFlight = 4;

function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ConnectionError("the read was aborted", { cause: signal.reason }));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

interface ReadPlan {
  readonly nodesToRead: ReadValueIdOptions[];
  /** Per tag: its position in nodesToRead, or -1 when its check failed. */
  readonly slots: number[];
}

const plans = new WeakMap<readonly TagCheck[], ReadPlan>();

function planFor(open: OpenSession, checks: readonly TagCheck[]): ReadPlan {
  const known = plans.get(checks);
  if (known) return known;
  const positions = new Map<string, number>();
  const nodesToRead: ReadValueIdOptions[] = [];
  const attributeId = open.ua.AttributeIds.Value;
  const slots = checks.map((check) => {
    if ("issue" in check) return -1;
    const nodeId = check.info.nodeId;
    let position = positions.get(nodeId);
    if (position === undefined) {
      position = nodesToRead.length;
      positions.set(nodeId, position);
      nodesToRead.push({ nodeId, attributeId });
    }
    return position;
  });
  const plan = { nodesToRead, slots };
  plans.set(checks, plan);
  return plan;
}

/**
 * Reads checked tags; tags whose check failed get a bad "config-error" sample naming the problem. Each request waits
 * `timeoutMs` at most: node-opcua raises any shorter transaction timeout to its own minimum of 5 s.
 */
export async function readTags(
  open: OpenSession,
  tags: readonly BoundTag<OpcuaAddress>[],
  checks: readonly TagCheck[],
  signal: AbortSignal | undefined,
  timeoutMs: number,
): Promise<Sample[]> {
  const { nodesToRead, slots } = planFor(open, checks);
  const parts = chunk(nodesToRead, open.limits.maxNodesPerRead);
  const failures: unknown[] = [];
  const readPart = async (part: ReadValueIdOptions[]): Promise<(DataValue | Error)[]> => {
    try {
      return await withDeadline(
        open.session.read(part, 0),
        timeoutMs,
        () => new TimeoutError(`OPC UA read of ${part.length} nodes got no answer within ${timeoutMs} ms`, timeoutMs),
      );
    } catch (error) {
      failures.push(error);
      return part.map(() => error as Error);
    }
  };
  const values: (DataValue | Error)[] =
    parts.length === 1
      ? await abortable(readPart(parts[0] as ReadValueIdOptions[]), signal)
      : (await abortable(mapBounded(parts, requestsInFlight, readPart), signal)).flat();
  if (parts.length > 0 && failures.length === parts.length) {
    const first = failures[0];
    if (PlantwireError.isInstance(first)) throw first;
    throw new ConnectionError(`OPC UA read failed: ${(first as Error)?.message ?? String(first)}`, { cause: first });
  }
  const receivedTime = Date.now();
  return tags.map((tag, index) => {
    const check = checks[index] as TagCheck;
    if ("issue" in check) return badSample("config-error", check.issue.message, receivedTime);
    const value = values[slots[index] as number];
    if (value === undefined) return badSample("other", "the server returned no value", receivedTime);
    if (value instanceof Error) {
      return badSample(TimeoutError.isInstance(value) ? "timeout" : "comm-failure", value.message, receivedTime);
    }
    return sampleFromDataValue(tag, value, receivedTime);
  });
}
