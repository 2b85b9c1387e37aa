/**
 * A bench's peer (a simulator, the fault proxy) in a process of its own, as a device or server is another machine:
 * in-process, its work would be timed as the client's. The peer file answers each message sent to it with one
 * message, and exits on "close".
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A running peer process. */
export interface BenchPeer {
  /** Sends a message and resolves with the peer's answer. */
  ask<T>(message: unknown): Promise<T>;
  /** Asks the peer to stop, and waits until it has exited. */
  close(): Promise<void>;
}

/** Starts `file` (a TypeScript module next to the benches) under tsx, with an IPC channel; stdout is dropped. */
export function startBenchPeer(file: URL): BenchPeer {
  const child = fork(fileURLToPath(file), {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  return {
    ask: <T>(message: unknown) =>
      new Promise<T>((resolve, reject) => {
        const exited = (code: number | null) =>
          reject(new Error(`the bench peer ${file.pathname} exited with ${code}`));
        child.once("exit", exited);
        child.once("message", (answer) => {
          child.off("exit", exited);
          resolve(answer as T);
        });
        child.send(message as object);
      }),
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.send("close");
      }),
  };
}
