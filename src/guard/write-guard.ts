/**
 * The write guard: the one path from a proposal to a device. Every proposal is checked, audited, and then shadowed,
 * rejected, executed automatically inside a tag's automatic band, or held for a named person's approval.
 *
 * It is composed of parts, each with a small interface, so that one can be changed without reading the rest:
 *   guard-proposer.ts   proposing: verdicts, digest, supersession, the proposal record (guard-outputs.ts for outputs)
 *   guard-decisions.ts  deciding: what a person's decision does, and every refusal
 *   guard-executor.ts   executing: the re-check, per-tag locks, write history, write once and read back
 *   decision-inbox.ts   decisions from other processes (the CLI), the heartbeat, abandoned proposals
 *   guard-book.ts       the proposals held in memory and what approvers are shown
 *   device-locks.ts     one writer per device
 * and the audit log (src/audit). This file only composes them and holds the public API (guard-api.ts).
 */
import { randomUUID } from "node:crypto";
import { AuditLog } from "../audit/audit-log.js";
import { sha256 } from "../audit/audit-record.js";
import { ApprovalError, ConfigError } from "../errors.js";
import { resolveLogger } from "../logger.js";
import { operatingSystemUser } from "../os-user.js";
import type { TagDefinitions } from "../tags.js";
import { type ApprovalStore, fileApprovalStore, memoryApprovalStore } from "./approval-store.js";
import { type Inbox, startInbox } from "./decision-inbox.js";
import { type DeviceLocks, defaultDeviceLockFolder, lockDevices } from "./device-locks.js";
import type { DecideOptions, GuardOptions, ProposeOptions, WriteGuard } from "./guard-api.js";
import { createProposalBook } from "./guard-book.js";
import { createDecider, DecisionRefused } from "./guard-decisions.js";
import { devicesToLock } from "./guard-devices.js";
import { createExecutor } from "./guard-executor.js";
import { createGuardOutputs } from "./guard-outputs.js";
import { frozenPolicies } from "./guard-policy.js";
import { publicCopy } from "./guard-proposal.js";
import { createProposer } from "./guard-proposer.js";
import type { DeciderIdentity, Proposal } from "./guard-types.js";

export type {
  DecideOptions,
  GuardOptions,
  GuardStatus,
  LoginIdentity,
  ProposeOptions,
  RejectedAnswer,
  WriteGuard,
} from "./guard-api.js";

const keptRawText = 4000;

/** Creates the write guard for a plant. */
export function createGuard<TTags extends TagDefinitions>(options: GuardOptions<TTags>): WriteGuard<TTags> {
  const { plant } = options;
  const now = options.now ?? Date.now;
  const logger = resolveLogger(options.logger ?? plant.logger);
  const mode = options.mode ?? "approval";
  const ttl = options.proposalTtlMs ?? 300_000;
  const identity = randomUUID();
  const policies = frozenPolicies(plant.tags, options.writable);
  // Copies, frozen: changing an interlock object afterwards (its tags, its holds) changes nothing the guard enforces.
  const interlocks = Object.freeze(
    (options.interlocks ?? []).map((interlock) => {
      const holds = interlock.holds;
      return Object.freeze({
        name: String(interlock.name),
        ...(interlock.tags ? { tags: Object.freeze([...interlock.tags]) } : {}),
        holds: (snapshot: Parameters<typeof holds>[0]) => holds.call(undefined, snapshot),
      });
    }),
  );
  const ownsAudit = typeof options.audit === "string";
  const audit = typeof options.audit === "string" ? AuditLog.open(options.audit, { now }) : options.audit;
  const allowSameProcess = options.allowSameProcessApproval === true;
  const loginDoor = options.loginDecisions === true;
  const separateApproverUsers = options.separateApproverUsers === true;
  let closed = false;
  let locks: DeviceLocks | undefined;
  let store: ApprovalStore;
  let outputs: ReturnType<typeof createGuardOutputs>;
  try {
    outputs = createGuardOutputs(options.outputs ?? {}, audit, now);
    const devices = mode === "shadow" ? [] : [...new Set([...devicesToLock(policies), ...outputs.devices])].sort();
    if (options.deviceLocks !== false && devices.length > 0) {
      locks = lockDevices(devices, {
        folder: options.deviceLocks ?? defaultDeviceLockFolder(),
        holder: `the guard of ${audit.file}`,
      });
    }
    store =
      typeof options.approvals === "string"
        ? fileApprovalStore(options.approvals)
        : (options.approvals ?? memoryApprovalStore());
  } catch (error) {
    locks?.release();
    if (ownsAudit) audit.close();
    throw error;
  }
  const book = createProposalBook(store, identity);
  const executor = createExecutor({ plant, audit, policies, interlocks, outputs, now });
  const decider = createDecider({ audit, book, executor, isClosed: () => closed, separateApproverUsers });
  const { proposeOne, sendOne } = createProposer({
    identity,
    mode,
    ttl,
    policies,
    audit,
    book,
    executor,
    outputs,
    now,
    isClosed: () => closed,
  });
  let inbox: Inbox;
  try {
    inbox = startInbox({
      guard: identity,
      store,
      audit,
      book,
      decider,
      now,
      pollMs: options.decisionPollMs ?? 500,
      allowSameProcessApproval: allowSameProcess,
      separateApproverUsers,
    });
  } catch (error) {
    locks?.release();
    if (ownsAudit) audit.close();
    throw error;
  }

  function refuseWhenClosed(id = "-"): void {
    if (closed) throw new ApprovalError(id, "The write guard is closed; nothing more is proposed or written.");
  }

  const apiIdentity = (): DeciderIdentity => {
    return { via: "api", pid: process.pid, osUser: operatingSystemUser() };
  };

  /** The login door's identity, read once into plain fields; undefined when the decision carries none. */
  function loginIdentity(given: DecideOptions["identity"]): DeciderIdentity | undefined {
    if (given === undefined) return undefined;
    const text = (value: unknown, max: number) => (typeof value === "string" ? value.trim().slice(0, max) : "");
    const [via, login, client] = [text(given?.via, 10), text(given?.login, 200), text(given?.client, 100)];
    return {
      via: via === "console" || via === "cli" ? via : "api",
      login,
      ...(client ? { client } : {}),
      pid: process.pid,
      osUser: operatingSystemUser(),
    };
  }

  async function decide(id: string, decision: "approve" | "reject", options: DecideOptions, reason?: string) {
    refuseWhenClosed(id);
    const by = typeof options?.by === "string" ? options.by.trim() : "";
    const proposal = book.get(id);
    const login = loginIdentity(options?.identity);
    const who = login ?? apiIdentity();
    if (!by) {
      decider.refuse(id, "blank-approver", "the decision names no person (by)", undefined, who);
      throw new DecisionRefused(
        id,
        "blank-approver",
        'An approval or rejection needs the name of the person deciding: { by: "alice" }.',
      );
    }
    if (!proposal) {
      decider.refuse(id, "unknown-proposal", `no proposal ${id} in this guard`, by, who);
      throw new DecisionRefused(
        id,
        "unknown-proposal",
        `No proposal ${id} here. Run "plantwire proposals" to list pending ones.`,
      );
    }
    // A logged-in person decides on what the console or CLI showed: the digest is required, not only checked.
    if ((options.digest !== undefined || login) && options.digest !== proposal.digest) {
      decider.refuse(id, "digest-mismatch", "the decision was made on something other than this proposal", by, who);
      throw new DecisionRefused(
        id,
        "digest-mismatch",
        `Proposal ${id} changed from what was shown; show it again and decide on that.`,
      );
    }
    if (login && (!loginDoor || !login.login || login.login !== by)) {
      const detail = !loginDoor
        ? "this guard takes no logged-in decisions (create it with loginDecisions: true)"
        : "the decision's person (by) is not its logged-in user";
      decider.refuse(id, "same-process", detail, by, who);
      throw new DecisionRefused(id, "same-process", `Proposal ${id}: ${detail}.`);
    }
    if (decision === "approve" && !allowSameProcess && !login) {
      decider.refuse(id, "same-process", "approved through the API of the process that proposed it", by, who);
      throw new DecisionRefused(
        id,
        "same-process",
        `Proposal ${id} cannot be approved by the process that proposed it. A person approves it with "plantwire approve ${id} --by <name>" (or create the guard with allowSameProcessApproval: true where a person stands behind this call).`,
      );
    }
    const decided = await decider.apply(
      proposal,
      { decision, by, identity: who, ...(reason ? { reason } : {}) },
      now(),
    );
    logger.debug(
      `guard: proposal ${id} (${decided.tag}) ${decision === "approve" ? "approved" : "rejected"} by ${by}: ${decided.state}`,
    );
    return decided;
  }

  /** Reads the options once into plain text fields: a getter cannot pass the check with one reason and record another. */
  function checkReason(given: ProposeOptions | undefined): ProposeOptions {
    const reason = given?.reason;
    if (typeof reason !== "string") {
      throw new ConfigError([
        { path: "reason", message: "missing", fix: "give every proposal a reason, e.g. { reason: advice.why }" },
      ]);
    }
    const text = (value: unknown) => (typeof value === "string" ? value : undefined);
    const [loop, modelId, prompt, promptHash] = [given?.loop, given?.modelId, given?.prompt, given?.promptHash].map(
      text,
    );
    // Capped: a client's self-given name (an MCP client's) reaches the audit and the console.
    const [source, user] = [given?.source, given?.user].map((value) => text(value)?.slice(0, 120));
    return {
      reason,
      ...(loop !== undefined ? { loop } : {}),
      ...(modelId !== undefined ? { modelId } : {}),
      ...(prompt !== undefined ? { prompt } : {}),
      ...(promptHash !== undefined ? { promptHash } : {}),
      ...(source !== undefined ? { source } : {}),
      ...(user !== undefined ? { user } : {}),
    };
  }

  return {
    async propose(values, proposeOptions) {
      refuseWhenClosed();
      const origin = checkReason(proposeOptions);
      const snapshot = await plant.read();
      refuseWhenClosed();
      const created: Proposal[] = [];
      for (const [tag, value] of Object.entries(values as Record<string, unknown>)) {
        try {
          created.push(await proposeOne(tag, value, origin, snapshot));
        } catch (error) {
          // The audit failed while recording this proposal: it latched, and this and every later proposal is refused.
          if (!audit.failure) throw error;
          created.push(await proposeOne(tag, value, origin, snapshot));
        }
      }
      for (const proposal of created) {
        const failed = proposal.verdicts.filter((verdict) => !verdict.passed).map((verdict) => verdict.code);
        logger.debug(
          `guard: proposal ${proposal.id} ${proposal.tag} = ${JSON.stringify(proposal.value) ?? String(proposal.value)}: ${proposal.state}${failed.length > 0 ? ` (${failed.join(", ")})` : ""}${origin.loop ? `, from loop ${origin.loop}` : ""}`,
        );
      }
      return created;
    },
    async send(name, item, proposeOptions) {
      refuseWhenClosed();
      const origin = checkReason(proposeOptions);
      try {
        return await sendOne(name, item, origin);
      } catch (error) {
        if (!audit.failure) throw error;
        return sendOne(name, item, origin);
      }
    },
    approve: (id, by) => decide(id, "approve", by, by?.reason),
    reject: (id, by) => decide(id, "reject", by, by?.reason),
    pending: () => book.pending().map(publicCopy),
    get: (id) => {
      const proposal = book.get(id);
      return proposal ? publicCopy(proposal) : undefined;
    },
    rejectAnswer(answer, origin) {
      refuseWhenClosed();
      if (audit.failure) return;
      const raw = String(answer.rawText);
      const promptHash = origin.promptHash ?? (origin.prompt ? sha256(origin.prompt) : undefined);
      logger.debug(
        `guard: model answer rejected${origin.loop ? ` in loop ${origin.loop}` : ""}: ${String(answer.message).split("\n")[0]}`,
      );
      audit.append({
        type: "rejection",
        ...(origin.loop ? { loop: origin.loop } : {}),
        ...(origin.modelId ? { modelId: origin.modelId } : {}),
        ...(promptHash ? { promptHash } : {}),
        ...(typeof origin.source === "string" ? { source: origin.source.slice(0, 120) } : {}),
        ...(typeof origin.user === "string" ? { user: origin.user.slice(0, 120) } : {}),
        error: String(answer.message).split("\n")[0],
        issues: answer.issues.slice(0, 50).map((issue) => String(issue).slice(0, 500)),
        rawText: raw.slice(0, keptRawText),
        rawTextLength: raw.length,
        rawTextHash: sha256(raw),
      });
    },
    status() {
      const failure = audit.failure;
      return {
        identity,
        audit: failure ? { state: "failed", code: failure.code, reason: failure.message } : { state: "ok" },
        pending: book.pending().length,
        devices: locks?.devices ?? [],
        closed,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      inbox.stop();
      await executor.drain();
      locks?.release();
      if (ownsAudit) await audit.close();
    },
  };
}
