/**
 * The real `plantwire` executable in a child process with its output on pipes, for what only a process shows: signals,
 * a reader that closes the pipe early, what is printed when stdout is not a terminal.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));

/** A running CLI process: what it printed so far, and how it ended. */
export interface CliChild {
  readonly process: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout holds `text` (or rejects when the process ends first). */
  waitFor(text: string | RegExp): Promise<void>;
  /** Resolves with the exit code and the signal that ended it, if any. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `plantwire <args>` from the project root, stdin ignored, stdout and stderr on pipes. */
export function startCli(args: readonly string[], options: { cwd?: string } = {}): CliChild {
  const child = spawn(process.execPath, ["--import", "tsx", bin, ...args], {
    cwd: options.cwd ?? root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  const waiters: { test: (text: string) => boolean; resolve(): void; reject(error: Error): void }[] = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      if (waiter.test(out)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  child.stdout?.on("data", (chunk: Buffer) => {
    out += chunk.toString("utf8");
    check();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    err += chunk.toString("utf8");
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once("exit", (code, signal) => {
      for (const waiter of waiters.splice(0)) {
        waiter.reject(new Error(`plantwire ${args.join(" ")} ended (${code ?? signal}) first:\n${out}\n${err}`));
      }
      resolve({ code, signal });
    });
  });
  return {
    process: child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(text) {
      const test = (value: string) => (typeof text === "string" ? value.includes(text) : text.test(value));
      if (test(out)) return Promise.resolve();
      return new Promise((resolve, reject) => waiters.push({ test, resolve, reject }));
    },
  };
}

/** The shell command line that runs `plantwire <args>` from the project root (for a wrapper such as `script`). */
export function cliCommandLine(args: readonly string[]): string {
  const quote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;
  return [process.execPath, "--import", "tsx", bin, ...args].map(quote).join(" ");
}

const folders: string[] = [];

/** A new temporary folder; remove them all with {@link removeFolders} (afterAll). */
export function temporaryFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), "plantwire-cli-"));
  folders.push(folder);
  return folder;
}

/** Removes every folder made by {@link temporaryFolder}. */
export function removeFolders(): void {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
}
