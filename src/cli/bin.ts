/** The `plantwire` executable. */
import { isOutputClosed, markOutputClosed } from "./cli-signals.js";
import { runCli } from "./main.js";

// A reader that stops early (`plantwire proposals | head -1`) closes the pipe: the next write fails with EPIPE. That
// is not the command's failure: output is dropped from then on and a running command stops as if interrupted.
const quietOnClosedPipe = (stream: NodeJS.WriteStream) =>
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "ERR_STREAM_DESTROYED") throw error;
    if (stream === process.stdout) markOutputClosed();
  });
quietOnClosedPipe(process.stdout);
quietOnClosedPipe(process.stderr);

const io = {
  out: (text: string) => {
    if (!isOutputClosed()) process.stdout.write(text);
  },
  err: (text: string) => {
    if (!process.stderr.destroyed) process.stderr.write(text);
  },
  isTerminal: process.stdout.isTTY === true,
};
const argv = process.argv.slice(2);
// `--verbose` (before any `--`) turns on debug logging for the whole process: plantwire's own debug lines and what the
// protocol libraries print, which is otherwise silent. Set here, in the process, so runCli in a test leaks nothing.
const flagsEnd = argv.indexOf("--");
if ((flagsEnd < 0 ? argv : argv.slice(0, flagsEnd)).includes("--verbose")) process.env.PLANTWIRE_LOG = "debug";
process.exitCode = await runCli(argv, io);
