/** A CLI io that keeps what a command prints, for tests that call a command's run() or runCli(). */
export function captureIo() {
  const io = {
    stdout: "",
    stderr: "",
    out(text: string) {
      io.stdout += text;
    },
    err(text: string) {
      io.stderr += text;
    },
  };
  return io;
}
