/**
 * The edge node's birth/death sequence number (bdSeq), kept on disk so that it goes on counting across process
 * restarts. A process that restarted at 0 could meet the late will (NDEATH) of its previous run carrying the same
 * bdSeq as its own new birth, and a host would mark the new, live node dead. Written before each CONNECT that
 * carries the will, so the file always holds the bdSeq of the newest will the broker may send.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ConfigError } from "../../src/errors.js";

/** The default bdSeq file: `$PLANTWIRE_STATE_DIR`, else `<temp dir>/plantwire-state`, one file per group and node. */
export function defaultBdSeqFile(group: string, node: string): string {
  const folder = process.env.PLANTWIRE_STATE_DIR || join(tmpdir(), "plantwire-state");
  return join(folder, `sparkplug-bdseq-${encodeURIComponent(group)}-${encodeURIComponent(node)}.txt`);
}

/** Hands out bdSeq values 0–255, each one more than the last, remembered in `file` (or only in memory with false). */
export class BdSeqCounter {
  readonly #file: string | undefined;
  #last: number | undefined;

  constructor(file: string | false) {
    this.#file = file === false ? undefined : file;
  }

  /** The file in use, or undefined when the counter lives in memory only. */
  get file(): string | undefined {
    return this.#file;
  }

  /** Reads the last value and checks the file can be written; throws a ConfigError naming the file and the fix. */
  open(): void {
    if (this.#last !== undefined || !this.#file) return;
    let text: string | undefined;
    try {
      text = readFileSync(this.#file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw this.#error("cannot be read", error);
    }
    const value = text === undefined ? Number.NaN : Number(text.trim());
    // A missing or damaged file starts the count at 0, as a node's first run does.
    this.#last = Number.isInteger(value) && value >= 0 && value <= 255 ? value : -1;
    this.#write(this.#last);
  }

  /** The next bdSeq, stored before it is returned. */
  next(): number {
    this.open();
    const value = ((this.#last ?? -1) + 1) % 256;
    this.#last = value;
    if (this.#file) this.#write(value);
    return value;
  }

  #write(value: number): void {
    if (!this.#file) return;
    try {
      mkdirSync(dirname(this.#file), { recursive: true });
      // Written whole and renamed, so a crash mid-write never leaves half a number behind.
      const temporary = `${this.#file}.${process.pid}.tmp`;
      writeFileSync(temporary, `${value}\n`);
      renameSync(temporary, this.#file);
    } catch (error) {
      throw this.#error("cannot be written", error);
    }
  }

  #error(what: string, cause: unknown): ConfigError {
    return new ConfigError(
      [
        {
          path: "bdSeqFile",
          message: `the Sparkplug bdSeq file ${this.#file} ${what} (${(cause as Error).message})`,
          fix: "give bdSeqFile a writable path on persistent storage, or bdSeqFile: false to keep it in memory only",
        },
      ],
      { cause },
    );
  }
}
