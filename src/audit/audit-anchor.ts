/**
 * External anchors: the log's head (sequence number and hash) published now and then to a place the log's writer
 * cannot quietly rewrite, e.g. a SQL table or a retained MQTT topic (`sqlAuditAnchor` in plantwire/sql,
 * `mqttAuditAnchor` in plantwire/mqtt). Whoever rewrites or shortens the file later cannot change what was
 * published, so `plantwire audit verify --anchor` finds the difference. Publishing never blocks or fails an append.
 */
import type { AuditContinuation } from "./audit-chain.js";

/** A published head: which log, its last record's sequence number and hash, and that record's time. */
export interface AnchoredHead {
  readonly file: string;
  readonly seq: number;
  readonly hash: string;
  readonly time: string;
}

/** Somewhere outside the log to publish its head to. */
export interface AuditAnchor {
  /** Where heads go, for messages, e.g. "postgres table plantwire_audit_anchor". */
  readonly label: string;
  /** Stores a head. Rejects when the store did not acknowledge it. */
  publish(head: AnchoredHead): Promise<void>;
  /**
   * The head stored last (the highest sequence number), or undefined when none is. `file` is the log asking (its
   * absolute path): an anchor that keeps the heads of several logs answers for that one.
   */
  latest(file?: string): Promise<AnchoredHead | undefined>;
  /** Frees what the anchor opened itself (not the adapter it was given). */
  close?(): Promise<void>;
}

/** How a log compares with its anchor. */
export type AnchorCheck =
  /** Nothing has been anchored for this log yet. */
  | { readonly status: "none" }
  /** The log holds the anchored record, hash and all. */
  | { readonly status: "match"; readonly anchored: AnchoredHead }
  /** The anchored record is from before a recovery this log records (its loss is on the record). */
  | { readonly status: "before-recovery"; readonly anchored: AnchoredHead; readonly detail: string }
  /** The log lacks the anchored record or has another hash there: it was shortened or rewritten. */
  | { readonly status: "mismatch"; readonly anchored: AnchoredHead; readonly detail: string };

/** What {@link compareWithAnchor} needs to know about a chain. */
export interface ChainView {
  /** The hash of the record with this sequence number, if the chain has it. */
  hashAt(seq: number): string | undefined;
  readonly lastSeq: number;
  /** The chain's first record continues an older chain (see `plantwire audit recover`). */
  readonly continues?: AuditContinuation;
  /** The time of the chain's first record. */
  readonly startTime?: string;
}

/** Compares an anchored head with a chain. */
export function compareWithAnchor(anchored: AnchoredHead | undefined, chain: ChainView): AnchorCheck {
  if (!anchored) return { status: "none" };
  const hash = chain.hashAt(anchored.seq);
  if (hash === anchored.hash) return { status: "match", anchored };
  const continues = chain.continues;
  if (continues && anchored.seq <= continues.lastSeq) {
    return {
      status: "before-recovery",
      anchored,
      detail: `the anchored record ${anchored.seq} is in ${continues.file}, which this log continues from record ${continues.lastSeq}: verify that file against the anchor`,
    };
  }
  // Anchored before the recovery record was written: a record of the broken part, whose loss that record states.
  if (continues && chain.startTime !== undefined && Date.parse(anchored.time) < Date.parse(chain.startTime)) {
    return {
      status: "before-recovery",
      anchored,
      detail: `the anchored record ${anchored.seq} was written before this log's recovery record: records ${continues.lastSeq + 1} to ${anchored.seq} were lost with the broken part of ${continues.file}, as that record says`,
    };
  }
  if (hash !== undefined) {
    return {
      status: "mismatch",
      anchored,
      detail: `the anchor has record ${anchored.seq} with hash ${anchored.hash.slice(0, 12)}…, the log has ${hash.slice(0, 12)}… there: it was rewritten after that record was anchored`,
    };
  }
  return {
    status: "mismatch",
    anchored,
    detail: `the anchor has record ${anchored.seq}, but the log ends at record ${chain.lastSeq}: records were cut off or the log was replaced`,
  };
}

/** Options of {@link AnchorSchedule}. */
export interface AnchorScheduleOptions {
  readonly anchor: AuditAnchor;
  /** Publish after this many records. */
  readonly every: number;
  /** ...and every this many milliseconds when records were added. */
  readonly intervalMs: number;
  /** The log's absolute path, as heads name it. */
  readonly file: string;
  /** Compares an anchored head with the log before the first publish. */
  readonly check: (anchored: AnchoredHead | undefined) => AnchorCheck;
  /** Called once the first comparison is done (the log can drop what it kept for it). */
  readonly checked: () => void;
}

/**
 * Publishes a log's head in the background: every N records, every T ms when something changed, and on close. One
 * publish at a time; a newer head replaces one still waiting. Before the first publish it compares the anchor with
 * the log and, on a mismatch, publishes nothing more, so the anchor keeps the evidence of the rewrite.
 */
export class AnchorSchedule {
  /** Publishes (and anchor reads) that failed. */
  failures = 0;
  /** The last of those errors. */
  lastError: Error | undefined;
  readonly #options: AnchorScheduleOptions;
  readonly #timer: NodeJS.Timeout;
  #head: AnchoredHead | undefined;
  #publishedSeq = 0;
  #compared = false;
  #stopped = false;
  #again = false;
  #running: Promise<void> | undefined;

  constructor(options: AnchorScheduleOptions, head: AnchoredHead | undefined) {
    this.#options = options;
    this.#head = head;
    this.#timer = setInterval(() => this.#kick(), options.intervalMs);
    this.#timer.unref();
    this.#kick();
  }

  /** The last head published. */
  get publishedSeq(): number {
    return this.#publishedSeq;
  }

  /** Notes the log's new head; publishes when N records have gathered since the last publish. */
  recorded(head: AnchoredHead): void {
    this.#head = head;
    if (head.seq - this.#publishedSeq >= this.#options.every) this.#kick();
  }

  #kick(): void {
    if (this.#stopped || !this.#head || this.#head.seq === this.#publishedSeq) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#publish().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.#kick();
      }
    });
  }

  #fail(error: unknown): void {
    this.failures++;
    this.lastError = error instanceof Error ? error : new Error(String(error));
  }

  async #publish(): Promise<void> {
    const head = this.#head;
    if (!head) return;
    const { anchor } = this.#options;
    try {
      if (!this.#compared) {
        const check = this.#options.check(await anchor.latest(this.#options.file));
        this.#compared = true;
        this.#options.checked();
        if (check.status === "mismatch") {
          this.#stopped = true;
          throw new Error(`anchor mismatch on ${anchor.label}: ${check.detail}. Nothing more is published to it`);
        }
        if (check.status === "match" && check.anchored.seq === head.seq) {
          this.#publishedSeq = head.seq;
          return;
        }
      }
      await anchor.publish(head);
      this.#publishedSeq = Math.max(this.#publishedSeq, head.seq);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Stops the timer, publishes the last head, waits for it and closes the anchor. Never rejects. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#kick();
    while (this.#running) await this.#running;
    try {
      await this.#options.anchor.close?.();
    } catch (error) {
      this.#fail(error);
    }
  }
}
