/**
 * The real `plantwire` CLI as a child process that keeps running (`sim`, `watch`): the test reads its output as it
 * comes, sends it signals, and awaits its exit code.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { waitFor } from "plantwire/testing";

const root = fileURLToPath(new URL("../..", import.meta.url));
const defaultBin = fileURLToPath(new URL("../../src/cli/bin.ts", import.meta.url));

/** A running CLI process. */
export interface CliChild {
  readonly process: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the exit code (or the signal's name when it was killed by one). */
  readonly exited: Promise<number | string>;
  /** True once stdout contains `text`, false after `timeoutMs`. */
  printed(text: string, timeoutMs?: number): Promise<boolean>;
  /** Kills it if it still runs (SIGKILL), and waits for it: for cleanups. */
  kill(): Promise<void>;
}

/** Starts `plantwire <args>` (or another copy's bin) with standard input closed. */
export function startCli(
  args: readonly string[],
  options: { bin?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): CliChild {
  const child = spawn(process.execPath, ["--import", "tsx", options.bin ?? defaultBin, ...args], {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("close", (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    printed: (text, timeoutMs = 30_000) => waitFor(() => stdout.includes(text), timeoutMs),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}
