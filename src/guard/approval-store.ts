/**
 * Where proposals wait for a person, and where decisions are taken exactly once. The file store lets the
 * `plantwire approve` / `reject` / `proposals` commands decide for a running loop in another process: a decision is
 * a file created with O_EXCL, so a second approval of the same proposal fails even across processes.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** A person's decision on a proposal. */
export interface Decision {
  readonly id: string;
  readonly decision: "approve" | "reject";
  readonly by: string;
  readonly time: number;
  readonly reason?: string;
}

/** What approvers see of a pending proposal. */
export interface PendingProposal {
  readonly id: string;
  readonly tag: string;
  readonly value: unknown;
  readonly current: unknown;
  readonly reason: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly loop?: string;
  readonly modelId?: string;
}

/** The final word on a proposal, for approvers waiting on it. */
export interface ProposalResult {
  readonly id: string;
  readonly state: string;
  readonly detail: string;
}

/** Storage for pending proposals, decisions and results. */
export interface ApprovalStore {
  publish(proposal: PendingProposal): void;
  withdraw(id: string): void;
  pending(): PendingProposal[];
  /** Records a decision if none exists yet; false when the proposal was already decided. */
  claim(decision: Decision): boolean;
  decision(id: string): Decision | undefined;
  recordResult(result: ProposalResult): void;
  result(id: string): ProposalResult | undefined;
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as T;
  } catch {
    return undefined;
  }
}

/** A file-backed store in `folder` (pending/, decisions/, results/), shared by a running guard and the CLI. */
export function fileApprovalStore(folder: string): ApprovalStore {
  const pendingFolder = join(folder, "pending");
  const decisionFolder = join(folder, "decisions");
  const resultFolder = join(folder, "results");
  for (const path of [pendingFolder, decisionFolder, resultFolder]) mkdirSync(path, { recursive: true });
  const safe = (id: string) => {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw new Error(`"${id}" is not a proposal id`);
    return `${id}.json`;
  };
  const writeAtomically = (file: string, value: unknown) => {
    writeFileSync(`${file}.tmp`, JSON.stringify(value, null, 2));
    renameSync(`${file}.tmp`, file);
  };
  return {
    publish: (proposal) => writeAtomically(join(pendingFolder, safe(proposal.id)), proposal),
    withdraw: (id) => rmSync(join(pendingFolder, safe(id)), { force: true }),
    pending: () =>
      readdirSync(pendingFolder)
        .filter((file) => file.endsWith(".json"))
        .map((file) => readJson<PendingProposal>(join(pendingFolder, file)))
        .filter((proposal): proposal is PendingProposal => proposal !== undefined)
        .sort((a, b) => a.createdAt - b.createdAt),
    claim(decision) {
      try {
        writeFileSync(join(decisionFolder, safe(decision.id)), JSON.stringify(decision), { flag: "wx" });
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw error;
      }
    },
    decision: (id) => readJson<Decision>(join(decisionFolder, safe(id))),
    recordResult: (result) => writeAtomically(join(resultFolder, safe(result.id)), result),
    result: (id) => readJson<ProposalResult>(join(resultFolder, safe(id))),
  };
}

/** An in-memory store: approvals through the API only. */
export function memoryApprovalStore(): ApprovalStore {
  const pending = new Map<string, PendingProposal>();
  const decisions = new Map<string, Decision>();
  const results = new Map<string, ProposalResult>();
  return {
    publish: (proposal) => void pending.set(proposal.id, proposal),
    withdraw: (id) => void pending.delete(id),
    pending: () => [...pending.values()],
    claim(decision) {
      if (decisions.has(decision.id)) return false;
      decisions.set(decision.id, decision);
      return true;
    },
    decision: (id) => decisions.get(id),
    recordResult: (result) => void results.set(result.id, result),
    result: (id) => results.get(id),
  };
}
