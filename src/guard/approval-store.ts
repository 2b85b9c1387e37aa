/**
 * Where proposals wait for a person, where decisions are filed, and where the guard answers them. The file store
 * lets `plantwire proposals` / `approve` / `reject` decide for a guard running in another process:
 *
 *   pending/<id>.json                what the approver is shown (written by the guard)
 *   decisions/<id>.<nonce>.json      a decision, created exclusively (O_EXCL) by the CLI under a random nonce of its
 *                                    own; the guard takes it by renaming it, the filer takes it back the same way
 *   acks/<id>.<nonce>.json           the guard's answer to that one decision: first "taken", then what it did
 *   results/<id>.json                the proposal's final state (executed, declined, refused, expired, …)
 *   guard.json                       the running guard's presence: its identity, process and a heartbeat
 *
 * Nothing in this folder is trusted by the guard: a decision is checked against the proposal the guard holds in
 * memory (its digest), never against the pending file, and every file is read without following links or blocking
 * (see approval-files.ts). Folders are created owner- and group-only (setgid, so files keep the approvers' group);
 * see docs/deploy.md for the users and groups.
 */
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  closeSync,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { isRunningHere } from "../os-process.js";
import { maxDecisionBytes, maxPendingBytes, readJsonFile, readRegularFile, removeQuietly } from "./approval-files.js";
import type {
  ApprovalStore,
  DecisionAck,
  DecisionRef,
  GuardPresence,
  PendingProposal,
  ProposalResult,
} from "./approval-types.js";

export type {
  ApprovalStore,
  DecisionAck,
  DecisionAnswer,
  DecisionRef,
  DecisionTaken,
  FiledDecision,
  GuardPresence,
  PendingProposal,
  ProposalResult,
  TakenDecision,
} from "./approval-types.js";
export { memoryApprovalStore } from "./memory-approval-store.js";

const idPattern = "[A-Za-z0-9_-]{1,64}";
const isId = (text: string) => new RegExp(`^${idPattern}$`).test(text);

/** The one error the store throws for a malformed id: ids become file names. */
export function safeProposalId(id: string): string {
  if (!isId(id)) throw new Error(`"${id}" is not a proposal id`);
  return id;
}

/** True when a pending file's content can be shown: an object of the expected shape, filed under its own id. */
function isPendingProposal(value: unknown, id: string): value is PendingProposal {
  const record = value as Partial<Record<keyof PendingProposal, unknown>> | undefined;
  return (
    typeof record === "object" &&
    record !== null &&
    record.id === id &&
    typeof record.tag === "string" &&
    typeof record.reason === "string" &&
    typeof record.guard === "string" &&
    typeof record.createdAt === "number" &&
    typeof record.expiresAt === "number" &&
    (record.approvalsRequired === 1 || record.approvalsRequired === 2) &&
    Array.isArray(record.approvedBy) &&
    record.approvedBy.every((name) => typeof name === "string") &&
    (record.loop === undefined || typeof record.loop === "string") &&
    (record.modelId === undefined || typeof record.modelId === "string") &&
    (record.source === undefined || typeof record.source === "string") &&
    (record.user === undefined || typeof record.user === "string")
  );
}

/** True when an acknowledgement read back has the shape the guard writes (acks/ is writable by the group too). */
function isAck(value: unknown, id: string, nonce: string): value is DecisionAck {
  const record = value as Record<string, unknown> | undefined;
  if (typeof record !== "object" || record === null || record.id !== id || record.nonce !== nonce) return false;
  if (record.stage === "taken") return true;
  return (
    record.stage === "answered" &&
    typeof record.accepted === "boolean" &&
    typeof record.state === "string" &&
    typeof record.detail === "string" &&
    (record.code === undefined || typeof record.code === "string")
  );
}

const fileMode = 0o660;

/** What tells one file apart from a later one under the same name (rename keeps all of these). */
interface FileIdentity {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly uid: bigint;
  readonly mtimeNs: bigint;
}

const identityOf = ({ dev, ino, uid, mtimeNs }: FileIdentity): FileIdentity => ({ dev, ino, uid, mtimeNs });

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
  const pendingFile = (id: string) => join(folders.pending, `${safeProposalId(id)}.json`);
  const decisionFile = (id: string, nonce: string) =>
    join(folders.decisions, `${safeProposalId(id)}.${safeProposalId(nonce)}.json`);
  const ackFile = (id: string, nonce: string) =>
    join(folders.acks, `${safeProposalId(id)}.${safeProposalId(nonce)}.json`);
  const decisionName = new RegExp(`^(${idPattern})\\.(${idPattern})\\.json$`);
  const pendingName = new RegExp(`^(${idPattern})\\.json$`);
  // The files this store filed, by inode and modification time: what a withdrawal may take back (withdrawDecision).
  const filed = new Map<string, FileIdentity>();
  const writeAtomically = (file: string, value: unknown) => {
    const temporary = `${file}.${randomBytes(8).toString("hex")}.tmp`;
    // "wx": never write through a link someone placed under the temporary name.
    writeFileSync(temporary, JSON.stringify(value, null, 2), { mode: fileMode, flag: "wx" });
    renameSync(temporary, file);
  };
  const pendingEntries = () =>
    readdirSync(folders.pending).map((name) => {
      const id = pendingName.exec(name)?.[1];
      const content = id ? readJsonFile(join(folders.pending, name), maxPendingBytes) : undefined;
      return { name, proposal: id && isPendingProposal(content, id) ? content : undefined };
    });
  return {
    location: folder,
    publish: (proposal) => writeAtomically(pendingFile(proposal.id), proposal),
    withdraw: (id) => rmSync(pendingFile(id), { force: true }),
    pending: () =>
      pendingEntries()
        .flatMap((entry) => (entry.proposal ? [entry.proposal] : []))
        .sort((a, b) => a.createdAt - b.createdAt),
    sweep() {
      for (const entry of pendingEntries()) if (!entry.proposal) removeQuietly(join(folders.pending, entry.name));
    },
    submit(decision) {
      let descriptor: number;
      try {
        descriptor = openSync(decisionFile(decision.id, decision.nonce), "wx", fileMode);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw error;
      }
      try {
        writeSync(descriptor, JSON.stringify(decision));
        filed.set(`${decision.id}.${decision.nonce}`, identityOf(fstatSync(descriptor, { bigint: true })));
      } finally {
        closeSync(descriptor);
      }
      return true;
    },
    waiting() {
      const waiting: (DecisionRef & { time: number })[] = [];
      for (const name of readdirSync(folders.decisions)) {
        const match = decisionName.exec(name);
        if (!match) continue;
        try {
          // lstat: the time of the entry itself, without opening it (a FIFO or a link is refused when taken).
          waiting.push({ id: match[1]!, nonce: match[2]!, time: lstatSync(join(folders.decisions, name)).mtimeMs });
        } catch {
          // Taken or withdrawn since the listing.
        }
      }
      return waiting.sort((a, b) => a.time - b.time).map(({ id, nonce }) => ({ id, nonce }));
    },
    take(id, nonce) {
      const taken = `${decisionFile(id, nonce)}.taken-${randomBytes(8).toString("hex")}`;
      try {
        renameSync(decisionFile(id, nonce), taken);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
      try {
        // Read from the descriptor of the file taken: a FIFO, link, directory or huge file is never read.
        const read = readRegularFile(taken, maxDecisionBytes);
        let content: unknown;
        try {
          content = read.text === undefined ? undefined : JSON.parse(read.text);
        } catch {
          content = undefined;
        }
        return {
          id,
          content,
          ...(read.uid !== undefined ? { fileOwnerUid: read.uid } : {}),
          ...(read.problem ? { unreadable: read.problem } : {}),
        };
      } finally {
        removeQuietly(taken);
      }
    },
    withdrawDecision(id, nonce) {
      const mine = filed.get(`${id}.${nonce}`);
      if (!mine) return false;
      // The rename is atomic against the guard's: exactly one of the two gets the file. But once the guard has taken
      // ours, anyone in the group can file a copy under our name (the nonce is visible in the listing); taking that
      // copy back must not pass for taking ours back. So it counts only if it is the very file we created: the same
      // inode, owner and modification time (the inode the guard freed is often reused at once by the next file, and
      // another user's file has another owner). A copy is removed: nobody honest files under another's nonce, and the
      // guard would refuse it anyway (a nonce is answered once).
      const held = `${decisionFile(id, nonce)}.withdrawn-${randomBytes(8).toString("hex")}`;
      try {
        renameSync(decisionFile(id, nonce), held);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw error;
      }
      try {
        const found = identityOf(lstatSync(held, { bigint: true }));
        return (Object.keys(mine) as (keyof FileIdentity)[]).every((key) => found[key] === mine[key]);
      } finally {
        removeQuietly(held);
        filed.delete(`${id}.${nonce}`);
      }
    },
    acknowledge: (ack) => writeAtomically(ackFile(ack.id, ack.nonce), ack),
    acknowledgement(id, nonce) {
      const ack = readJsonFile(ackFile(id, nonce), maxDecisionBytes);
      return isAck(ack, id, nonce) ? ack : undefined;
    },
    recordResult: (result) => writeAtomically(join(folders.results, `${safeProposalId(result.id)}.json`), result),
    result(id) {
      const result = readJsonFile(join(folders.results, `${safeProposalId(id)}.json`), maxDecisionBytes) as
        | Partial<ProposalResult>
        | undefined;
      return typeof result?.state === "string" && typeof result.detail === "string"
        ? (result as ProposalResult)
        : undefined;
    },
    announce: (presence) => writeAtomically(presenceFile, presence),
    presence: () => {
      const presence = readJsonFile(presenceFile, maxDecisionBytes) as Partial<GuardPresence> | undefined;
      return typeof presence?.guard === "string" &&
        typeof presence.host === "string" &&
        Number.isInteger(presence.pid) &&
        typeof presence.beatAt === "number"
        ? (presence as GuardPresence)
        : undefined;
    },
    leave(guard) {
      if ((readJsonFile(presenceFile, maxDecisionBytes) as GuardPresence | undefined)?.guard === guard) {
        rmSync(presenceFile, { force: true });
      }
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
  return isRunningHere(presence.pid);
}
