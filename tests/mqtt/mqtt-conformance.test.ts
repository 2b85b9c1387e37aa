import { startBroker } from "plantwire/mqtt";
import { describeAdapterConformance } from "plantwire/testing";
import { describe } from "vitest";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";
import { serviceSkipReason, services } from "../support/services.js";
import { conformanceFixture, restartableBroker } from "./mqtt-fixture.js";

await describeAdapterConformance("mqtt on the embedded aedes broker", async () => {
  const peer = restartableBroker(await startBroker({ port: 0 }));
  return conformanceFixture(peer.broker.url, peer);
});

const skip = await serviceSkipReason("mosquitto");
describe.skipIf(skip !== undefined)(`mqtt on Mosquitto${skip ? ` (${skip})` : ""}`, async () => {
  await describeAdapterConformance("mqtt on Mosquitto 127.0.0.1:1883, through a fault proxy", async () => {
    // The machine's Mosquitto is never restarted: the suite breaks the link by closing a proxy in front of it.
    let proxy: FaultProxy = await startFaultProxy({ port: services.mosquitto.port });
    const port = proxy.port;
    return conformanceFixture(`mqtt://127.0.0.1:${port}`, {
      breakPeer: () => proxy.close(),
      async restorePeer() {
        proxy = await startFaultProxy({ port: services.mosquitto.port }, port);
      },
      dispose: () => proxy.close(),
    });
  });
});
