/**
 * Child process for T18: run under a file-size limit (`ulimit -f`). Opens a log that the test filled close to the
 * limit, appends a record too big for the room left, then a small one, and prints what happened as JSON.
 */
import { statSync } from "node:fs";
import { AuditLog } from "../../src/audit/index.js";

const [file, bytes] = process.argv.slice(2);
if (!file || !bytes) throw new Error("usage: audit-append-child <audit file> <bytes of the big record>");

function attempt(run: () => unknown) {
  try {
    run();
    return { threw: false };
  } catch (error) {
    const { name, code, message, failure } = error as {
      name: string;
      code?: string;
      message: string;
      failure?: unknown;
    };
    return { threw: true, name, code, message, failure };
  }
}

const log = AuditLog.open(file);
const sizeBefore = statSync(file).size;
const big = attempt(() => log.append({ type: "note", note: "x".repeat(Number(bytes)) }));
const sizeAfter = statSync(file).size;
const small = attempt(() => log.append({ type: "note", note: "small" }));
const result = { big, small, failure: log.failure, sizeBefore, sizeAfter, lastSeq: log.lastSeq };
await log.close();
process.stdout.write(JSON.stringify(result));
