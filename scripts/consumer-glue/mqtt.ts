/**
 * A consumer with plantwire, zod and mqtt (no aedes, no sparkplug-payload): a retained JSON value on a broker read
 * into a typed snapshot. The broker's URL comes from PLANTWIRE_CONSUMER_MQTT_URL.
 */
import { randomUUID } from "node:crypto";
import { createPlant, defineTags, float } from "plantwire";
import { mqtt } from "plantwire/mqtt";

async function main(): Promise<void> {
  const url = process.env.PLANTWIRE_CONSUMER_MQTT_URL ?? "mqtt://127.0.0.1:1883";
  const topic = `plantwire-consumer-check/${randomUUID()}/vibration`;
  const bus = mqtt({ url, name: "bus" });
  const tags = defineTags({
    vibration: float({ unit: "mm/s", range: [0, 50], source: bus.topic(topic, { path: "/rms" }) }),
  });
  await bus.connect();
  await bus.publish(topic, JSON.stringify({ rms: 2.5 }), { qos: 1, retain: true });
  const plant = createPlant({ tags });
  const snapshot = await plant.read();
  const vibration: number = snapshot.value("vibration");
  // An empty retained message removes the value from the broker again.
  await bus.publish(topic, "", { qos: 1, retain: true });
  await plant.close();
  console.log(`consumer-check mqtt vibration=${vibration} quality=${snapshot.sample("vibration").quality}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
