/** Whether a process runs on this host: the device locks, the audit lock, guard presence and serve discovery ask. */

/** True when a process of this host runs under `pid` (perhaps another user's: EPERM means it exists). */
export function isRunningHere(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
