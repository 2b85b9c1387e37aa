/**
 * Guarded outputs: messages and rows a model produced, leaving the process only through the guard. Each output is
 * declared with a channel (made by an adapter: `bus.messageOutput({ topics })`, `historian.rowOutput("log")`) and a
 * policy (size, rate, approval); every item is a proposal like a write — checked, audited, approved where the policy
 * says so, sent once, its outcome recorded.
 */
import type { AuditLog } from "../audit/audit-log.js";
import type { AuditEntry } from "../audit/audit-record.js";
import { ConfigError, type ConfigIssue } from "../errors.js";
import { isOutputChannel, type OutputChannel } from "../output-channel.js";
import type { ExecutionOutcome, Proposal, RejectionCode, Verdict } from "./guard-types.js";

/** The policy of one guarded output. */
export interface OutputPolicy<TItem = unknown> {
  /** Where items go: a message topic or a table, made by an adapter. */
  readonly channel: OutputChannel<TItem>;
  /** Largest item, in bytes on the wire. @default 8192 */
  readonly maxBytes?: number;
  /** Most items in any 60 seconds. @default 6 */
  readonly perMinute?: number;
  /** "required": a person approves each item, like a write. @default "automatic" (sent once the checks pass) */
  readonly approval?: "automatic" | "required";
}

/** The declared outputs of a guard, by name. */
export type OutputPolicies = Readonly<Record<string, OutputPolicy<never>>>;

/** The prefix that marks an output's proposals (`output:<name>`), so they never collide with a tag's. */
export const outputPrefix = "output:";

const pass = (check: string, detail: string): Verdict => ({ check, passed: true, detail });
const fail = (check: string, code: RejectionCode, detail: string): Verdict => ({ check, passed: false, code, detail });

/** The outputs part of a guard: their checks, rate history and sending. */
export interface GuardOutputs {
  /** The output's policy, if declared. */
  policy(name: string): OutputPolicy<unknown> | undefined;
  /** Devices the outputs land on (for the one-writer locks). */
  readonly devices: readonly string[];
  verdictsFor(name: string, item: unknown, expiresAt: number): Verdict[];
  /** Records the attempt (with `before`, in one flush), sends once, records the outcome. Throws if the attempt could not be recorded. */
  deliver(proposal: Proposal, before: readonly AuditEntry[]): Promise<ExecutionOutcome>;
}

function checkPolicies(outputs: OutputPolicies): void {
  const issues: ConfigIssue[] = [];
  for (const [name, policy] of Object.entries(outputs)) {
    const path = `outputs.${name}`;
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(name)) {
      issues.push({
        path,
        message: "is not a usable output name",
        fix: "use letters, digits, - and _ (e.g. alarmNotes)",
      });
    }
    if (!isOutputChannel(policy?.channel)) {
      issues.push({
        path: `${path}.channel`,
        message: "is not an output channel",
        fix: 'make one with an adapter: bus.messageOutput({ topics: ["site/notes"] }) or historian.rowOutput("log")',
      });
    }
    for (const field of ["maxBytes", "perMinute"] as const) {
      const value = policy?.[field];
      if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
        issues.push({ path: `${path}.${field}`, message: "must be a positive whole number", fix: `e.g. ${field}: 10` });
      }
    }
    if (policy?.approval !== undefined && policy.approval !== "automatic" && policy.approval !== "required") {
      issues.push({
        path: `${path}.approval`,
        message: 'must be "automatic" or "required"',
        fix: 'e.g. approval: "required"',
      });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Creates the outputs part of a guard. */
export function createGuardOutputs(declared: OutputPolicies, audit: AuditLog, now: () => number): GuardOutputs {
  checkPolicies(declared);
  const policies = new Map<string, OutputPolicy<unknown>>(
    Object.entries(declared).map(([name, policy]) => [name, Object.freeze({ ...policy }) as OutputPolicy<unknown>]),
  );
  const sent = new Map<string, number[]>();
  const recent = (name: string) => {
    const times = (sent.get(name) ?? []).filter((time) => now() - time < 60_000);
    sent.set(name, times);
    return times;
  };
  return {
    policy: (name) => policies.get(name),
    devices: [...policies.values()].map((policy) => policy.channel.device),
    verdictsFor(name, item, expiresAt) {
      const policy = policies.get(name);
      if (!policy) return [fail("declared", "unknown-output", `"${name}" is not a declared output of this guard`)];
      const verdicts = [pass("declared", `output "${name}" → ${policy.channel.label}`)];
      const problems = policy.channel.check(item);
      if (problems.length > 0) {
        verdicts.push(fail("item", "invalid-value", problems.join("; ")));
        return verdicts;
      }
      verdicts.push(pass("item", `a valid ${policy.channel.kind}`));
      const size = policy.channel.size(item as never);
      const maxBytes = policy.maxBytes ?? 8192;
      verdicts.push(
        size <= maxBytes
          ? pass("size", `${size} bytes ≤ ${maxBytes}`)
          : fail("size", "too-large", `${size} bytes > ${maxBytes} allowed`),
      );
      const perMinute = policy.perMinute ?? 6;
      const count = recent(name).length;
      verdicts.push(
        count < perMinute
          ? pass("rate", `${count} sent in the last minute < ${perMinute}`)
          : fail("rate", "rate-too-high", `${count} sent in the last minute; at most ${perMinute} allowed`),
      );
      verdicts.push(
        now() <= expiresAt ? pass("expiry", "within its TTL") : fail("expiry", "expired", "its approval window closed"),
      );
      return verdicts;
    },
    async deliver(proposal, before) {
      const name = proposal.tag.slice(outputPrefix.length);
      const policy = policies.get(name) as OutputPolicy<unknown>;
      audit.appendBatch([
        ...before,
        {
          type: "attempt",
          proposalId: proposal.id,
          tag: proposal.tag,
          output: name,
          value: proposal.value,
          channel: policy.channel.label,
        },
      ]);
      recent(name).push(now());
      let outcome: ExecutionOutcome;
      try {
        await policy.channel.send(proposal.value as never);
        outcome = { write: "written", readBack: "unverified", detail: `a ${policy.channel.kind} is not read back` };
      } catch (error) {
        outcome = { write: "failed", readBack: "unavailable", detail: describe(error) };
      }
      try {
        audit.append({ type: "outcome", proposalId: proposal.id, tag: proposal.tag, ...outcome });
      } catch (error) {
        return { ...outcome, detail: `${outcome.detail}; the outcome could not be recorded: ${describe(error)}` };
      }
      return outcome;
    },
  };
}
