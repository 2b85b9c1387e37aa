/**
 * Where proposals wait for a person, where decisions are filed, and where the guard answers them. The file store
 * lets `plantwire proposals` / `approve` / `reject` decide for a guard running in another process:
 *
 *   pending/<id>.json        what the approver is shown (written by the guard)
 *   decisions/<id>.json      a decision, created exclusively (O_EXCL) by the CLI; the guard takes it by renaming it
 *   acks/<id>.<nonce>.json   the guard's answer to that one decision: recorded, or refused and why
 *   results/<id>.json        the proposal's final state (executed, declined, refused, expired, superseded, abandoned)
 *   guard.json               the running guard's presence: its identity, process and a heartbeat
 *
 * Nothing in this folder is trusted by the guard: a decision is checked against the proposal the guard holds in
 * memory (its digest), never against the pending file. Folders are created owner- and group-only (setgid, so files
 * keep the approvers' group); see docs/deploy.md for the users and groups.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import type { DecisionRefusalCode } from "./guard-types.js";

/** What approvers see of a pending proposal: the fields its digest covers, and the context around them. */
export interface PendingProposal {
  readonly id: string;
  readonly tag: string;
  readonly value: unknown;
  readonly current: unknown;
  readonly reason: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** The identity of the guard that holds it (part of the digest). */
  readonly guard: string;
  /** How many different people must approve it. */
  readonly approvalsRequired: 1 | 2;
  /** Who has approved it so far (the first of two). */
  readonly approvedBy: readonly string[];
  readonly loop?: string;
  readonly modelId?: string;
}

/** A decision as filed by a person's tool. Read back unvalidated: the guard checks every field. */
export interface FiledDecision {
  readonly id: string;
  readonly decision: "approve" | "reject";
  readonly by: string;
  /** The digest of the proposal as shown to the person. */
  readonly digest: string;
  readonly time: number;
  /** Random, chosen by the filer: the guard's answer names it. */
  readonly nonce: string;
  readonly reason?: string;
  readonly osUser?: string;
  readonly pid?: number;
  readonly host?: string;
}

/** A decision file taken by the guard: its raw content and who owns the file. */
export interface TakenDecision {
  readonly id: string;
  /** The parsed JSON, or undefined when the file was not JSON. */
  readonly content: unknown;
  readonly fileOwnerUid?: number;
}

/** The guard's answer to one filed decision. */
export interface DecisionAck {
  readonly id: string;
  readonly nonce: string;
  /** True when the guard recorded the decision and acts on it. */
  readonly accepted: boolean;
  readonly code?: DecisionRefusalCode;
  /** The proposal's state after the decision. */
  readonly state: string;
  readonly detail: string;
}

/** The final word on a proposal, for approvers waiting on it. */
export interface ProposalResult {
  readonly id: string;
  readonly state: string;
  readonly detail: string;
}

/** A running guard's presence beside its approvals. */
export interface GuardPresence {
  readonly guard: string;
  readonly pid: number;
  readonly host: string;
  readonly user: string;
  readonly audit: string;
  readonly startedAt: number;
  /** Refreshed while the guard runs. */
  readonly beatAt: number;
}

/** Storage for pending proposals, decisions, answers, results and the guard's presence. */
export interface ApprovalStore {
  publish(proposal: PendingProposal): void;
  withdraw(id: string): void;
  pending(): PendingProposal[];
  /** Files a decision if none is waiting for that proposal; false when one is. */
  submit(decision: FiledDecision): boolean;
  /** Ids that have a decision waiting to be taken. */
  waiting(): string[];
  /** Takes a waiting decision (atomically: the guard or a withdrawing filer gets it, never both). */
  take(id: string): TakenDecision | undefined;
  /** Takes back a decision the guard has not taken yet; false when the guard took it first. */
  withdrawDecision(id: string, nonce: string): boolean;
  acknowledge(ack: DecisionAck): void;
  acknowledgement(id: string, nonce: string): DecisionAck | undefined;
  recordResult(result: ProposalResult): void;
  result(id: string): ProposalResult | undefined;
  /** Announces (or refreshes) the running guard. */
  announce(presence: GuardPresence): void;
  presence(): GuardPresence | undefined;
  /** Removes the presence, if it is still this guard's. */
  leave(guard: string): void;
}

/** The one error the store throws for a malformed id: ids become file names. */
export function safeProposalId(id: string): string {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new Error(`"${id}" is not a proposal id`);
  return id;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

const fileMode = 0o660;

/** Creates a folder owner- and group-only (setgid), leaving an existing folder's permissions to its owner. */
function ensureFolder(path: string): void {
  if (existsSync(path)) return;
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o2770);
}

/** A file-backed store in `folder`, shared by a running guard and the CLI in other processes. */
export function fileApprovalStore(folder: string): ApprovalStore {
  const folders = {
    pending: join(folder, "pending"),
    decisions: join(folder, "decisions"),
    acks: join(folder, "acks"),
    results: join(folder, "results"),
  };
  ensureFolder(folder);
  for (const path of Object.values(folders)) ensureFolder(path);
  const presenceFile = join(folder, "guard.json");
  const decisionFile = (id: string) => join(folders.decisions, `${safeProposalId(id)}.json`);
  const ackFile = (id: string, nonce: string) =>
    join(folders.acks, `${safeProposalId(id)}.${safeProposalId(nonce)}.json`);
  const writeAtomically = (file: string, value: unknown) => {
    const temporary = `${file}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(temporary, JSON.stringify(value, null, 2), { mode: fileMode });
    renameSync(temporary, file);
  };
  return {
    publish: (proposal) => writeAtomically(join(folders.pending, `${safeProposalId(proposal.id)}.json`), proposal),
    withdraw: (id) => rmSync(join(folders.pending, `${safeProposalId(id)}.json`), { force: true }),
    pending: () =>
      readdirSync(folders.pending)
        .filter((file) => file.endsWith(".json"))
        .map((file) => readJson(join(folders.pending, file)) as PendingProposal | undefined)
        .filter((proposal): proposal is PendingProposal => typeof proposal?.id === "string")
        .sort((a, b) => a.createdAt - b.createdAt),
    submit(decision) {
      try {
        writeFileSync(decisionFile(decision.id), JSON.stringify(decision), { flag: "wx", mode: fileMode });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw error;
      }
    },
    waiting: () =>
      readdirSync(folders.decisions)
        .filter((file) => /^[A-Za-z0-9_-]{1,64}\.json$/.test(file))
        .map((file) => file.slice(0, -".json".length)),
    take(id) {
      const taken = `${decisionFile(id)}.taken-${randomBytes(4).toString("hex")}`;
      try {
        renameSync(decisionFile(id), taken);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      try {
        const owner = statSync(taken).uid;
        return { id, content: readJson(taken), fileOwnerUid: owner };
      } finally {
        rmSync(taken, { force: true });
      }
    },
    withdrawDecision(id, nonce) {
      const content = readJson(decisionFile(id)) as { nonce?: unknown } | undefined;
      if (content?.nonce !== nonce) return false;
      try {
        renameSync(decisionFile(id), `${decisionFile(id)}.withdrawn-${safeProposalId(nonce)}`);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw error;
      }
      rmSync(`${decisionFile(id)}.withdrawn-${nonce}`, { force: true });
      return true;
    },
    acknowledge: (ack) => writeAtomically(ackFile(ack.id, ack.nonce), ack),
    acknowledgement: (id, nonce) => readJson(ackFile(id, nonce)) as DecisionAck | undefined,
    recordResult: (result) => writeAtomically(join(folders.results, `${safeProposalId(result.id)}.json`), result),
    result: (id) => readJson(join(folders.results, `${safeProposalId(id)}.json`)) as ProposalResult | undefined,
    announce: (presence) => writeAtomically(presenceFile, presence),
    presence: () => {
      const presence = readJson(presenceFile) as GuardPresence | undefined;
      return typeof presence?.guard === "string" ? presence : undefined;
    },
    leave(guard) {
      if (readJson(presenceFile) && (readJson(presenceFile) as GuardPresence).guard === guard) {
        rmSync(presenceFile, { force: true });
      }
    },
  };
}

/** An in-memory store: decisions through the API only (and whatever shares this object). */
export function memoryApprovalStore(): ApprovalStore {
  const pending = new Map<string, PendingProposal>();
  const decisions = new Map<string, FiledDecision>();
  const acks = new Map<string, DecisionAck>();
  const results = new Map<string, ProposalResult>();
  let presence: GuardPresence | undefined;
  return {
    publish: (proposal) => void pending.set(proposal.id, proposal),
    withdraw: (id) => void pending.delete(id),
    pending: () => [...pending.values()].sort((a, b) => a.createdAt - b.createdAt),
    submit(decision) {
      if (decisions.has(decision.id)) return false;
      decisions.set(decision.id, decision);
      return true;
    },
    waiting: () => [...decisions.keys()],
    take(id) {
      const decision = decisions.get(id);
      if (!decision) return undefined;
      decisions.delete(id);
      return { id, content: structuredClone(decision) };
    },
    withdrawDecision(id, nonce) {
      if (decisions.get(id)?.nonce !== nonce) return false;
      return decisions.delete(id);
    },
    acknowledge: (ack) => void acks.set(`${ack.id}.${ack.nonce}`, ack),
    acknowledgement: (id, nonce) => acks.get(`${id}.${nonce}`),
    recordResult: (result) => void results.set(result.id, result),
    result: (id) => results.get(id),
    announce: (next) => {
      presence = next;
    },
    presence: () => presence,
    leave(guard) {
      if (presence?.guard === guard) presence = undefined;
    },
  };
}

/** How long a guard's heartbeat counts as alive. */
export const presenceTimeoutMs = 5000;

/** True when a presence is fresh and, on this host, its process still runs. */
export function isPresent(presence: GuardPresence | undefined, host: string, now: number): boolean {
  if (!presence) return false;
  if (now - presence.beatAt > presenceTimeoutMs) return false;
  if (presence.host !== host) return true;
  try {
    process.kill(presence.pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
