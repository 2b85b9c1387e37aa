/**
 * MQTT topic names and filters. Hand-written because MQTT.js exports no matcher and the rules are short:
 * `+` matches one level, `#` (last only) matches the rest, and filters starting with a wildcard never match `$` topics.
 */

/** Why a topic filter is invalid, or undefined when it is valid. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return "is empty";
  if (filter.includes("\u0000")) return "contains a NUL character";
  if (Buffer.byteLength(filter) > 65_535) return "is longer than 65535 bytes";
  const levels = filter.split("/");
  for (const [index, level] of levels.entries()) {
    if (level.includes("#") && (level !== "#" || index !== levels.length - 1)) {
      return 'uses "#" other than as the whole last level';
    }
    if (level.includes("+") && level !== "+") return 'uses "+" other than as a whole level';
  }
  return undefined;
}

/** Why a topic name (to publish to) is invalid, or undefined when it is valid. */
export function topicNameProblem(topic: string): string | undefined {
  if (topic.includes("+") || topic.includes("#")) return "contains a wildcard (+ or #), which only filters may use";
  return topicFilterProblem(topic);
}

/** True when a filter contains a wildcard. */
export function hasWildcard(filter: string): boolean {
  return filter.includes("+") || filter.includes("#");
}

/** True when `topic` matches `filter`. */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true;
  if (topic.startsWith("$") && (filter.startsWith("+") || filter.startsWith("#"))) return false;
  const filterLevels = filter.split("/");
  const topicLevels = topic.split("/");
  for (let index = 0; index < filterLevels.length; index++) {
    const level = filterLevels[index];
    if (level === "#") return true;
    if (index >= topicLevels.length) return false;
    if (level !== "+" && level !== topicLevels[index]) return false;
  }
  return filterLevels.length === topicLevels.length;
}
