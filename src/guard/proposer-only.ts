/**
 * A proposer's view of a guard: it can propose, send outputs, record rejected model answers and look at proposals,
 * and nothing else. `plantwire serve` gives loops this, never the guard itself, so a loop module has no way to
 * approve, reject or close: the guard that takes logged-in decisions stays in the server's hands.
 */
import type { TagDefinitions } from "../tags.js";
import type { WriteGuard } from "./guard-api.js";

/** What a proposer may do with a guard. */
export type ProposerGuard<TTags extends TagDefinitions> = Pick<
  WriteGuard<TTags>,
  "propose" | "send" | "rejectAnswer" | "pending" | "get" | "status"
>;

/**
 * A frozen object of functions that call the guard: no `approve`, `reject` or `close`, and no reference to the guard
 * object to reach them through (its methods are not copied, so neither is any property the guard might carry).
 */
export function proposerOnly<TTags extends TagDefinitions>(guard: WriteGuard<TTags>): ProposerGuard<TTags> {
  return Object.freeze({
    propose: (values, options) => guard.propose(values, options),
    send: (output, item, options) => guard.send(output, item, options),
    rejectAnswer: (answer, origin) => guard.rejectAnswer(answer, origin),
    pending: () => guard.pending(),
    get: (id) => guard.get(id),
    status: () => guard.status(),
  } satisfies ProposerGuard<TTags>);
}
