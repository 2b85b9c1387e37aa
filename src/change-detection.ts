/** Decides whether a new sample is a change worth reporting, honouring the tag's deadband. */
import type { Sample } from "./sample.js";
import { type AnyTag, absoluteDeadband } from "./tags.js";

/**
 * True when `next` differs from the last reported sample: its quality or reason changed, or its value moved by
 * more than the tag's deadband (numeric tags) or changed at all (other tags; date-times by their instant).
 */
export function isChange(tag: AnyTag, previous: Sample | undefined, next: Sample): boolean {
  if (!previous) return true;
  if (previous.quality !== next.quality || previous.reason !== next.reason) return true;
  if (next.value === undefined || previous.value === undefined) return next.value !== previous.value;
  if ((tag.type === "float" || tag.type === "integer") && typeof next.value === "number") {
    const deadband = absoluteDeadband(tag);
    const delta = Math.abs(next.value - (previous.value as number));
    return delta > deadband || Number.isNaN(delta);
  }
  // Dates are objects: two reads of one instant are different objects, so compare the instants (no deadband).
  if (next.value instanceof Date && previous.value instanceof Date) {
    return !Object.is(next.value.getTime(), previous.value.getTime());
  }
  return !Object.is(next.value, previous.value);
}
