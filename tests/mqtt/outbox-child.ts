/**
 * Run as a separate process by mqtt-outbox.test.ts: publishes while the broker is unreachable, so the messages go
 * to the disk queue, then exits without ever connecting. Usage: outbox-child.ts <file> <topic>
 */
import { mqtt } from "../../adapters/mqtt/index.js";

const [file, topic] = process.argv.slice(2) as [string, string];
const bus = mqtt({ url: "mqtt://127.0.0.1:1", outbox: { file } });
for (const n of [1, 2, 3]) await bus.publish(topic, `message ${n}`, { qos: 1 });
await bus.publish(topic, "expires at once", { qos: 1, expirySeconds: 0.001 });
process.stdout.write(JSON.stringify(bus.stats()));
