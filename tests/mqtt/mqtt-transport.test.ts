import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineTags, float } from "plantwire";
import { mqtt, startBroker } from "plantwire/mqtt";
import { afterAll, describe, expect, it } from "vitest";
import { createWebSocketStream, WebSocketServer } from "ws";
import { rawClient, uniquePrefix } from "./mqtt-fixture.js";

const folder = mkdtempSync(join(tmpdir(), "plantwire-tls-"));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function selfSigned() {
  const key = join(folder, "key.pem");
  const cert = join(folder, "cert.pem");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ],
    { stdio: "ignore" },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

async function readOne(url: string, extra: Parameters<typeof mqtt>[0] = {}) {
  const bus = mqtt({ url, ...extra });
  const topic = `${uniquePrefix("transport")}/v`;
  const tags = defineTags({ v: float({ source: bus.topic(topic) }) });
  await bus.connect();
  await bus.publish(topic, "4.5", { qos: 1, retain: true });
  const [sample] = await bus.read([{ name: "v", definition: tags.v, address: tags.v.source.address as never }]);
  await bus.publish(topic, "", { qos: 1, retain: true });
  await bus.close();
  return sample;
}

describe("transports", () => {
  it("connects over mqtts:// with a CA, and refuses a certificate it cannot verify", async () => {
    const pem = selfSigned();
    const broker = await startBroker({ port: 0, tls: pem });
    expect(broker.url.startsWith("mqtts://")).toBe(true);
    expect(await readOne(broker.url, { tls: { ca: pem.cert } })).toMatchObject({ quality: "good", value: 4.5 });
    const untrusted = mqtt({ url: broker.url, connectTimeoutMs: 2000 });
    await expect(untrusted.connect()).rejects.toThrow(/self.signed|certificate/i);
    await untrusted.close();
    await broker.close();
  });

  it("connects over ws://", async () => {
    const broker = await startBroker({ port: 0 });
    const http = createServer();
    const sockets = new WebSocketServer({ server: http });
    sockets.on("connection", (socket) => broker.aedes.handle(createWebSocketStream(socket)));
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}`;
    expect(await readOne(url)).toMatchObject({ quality: "good", value: 4.5 });
    for (const client of sockets.clients) client.terminate();
    await new Promise((resolve) => sockets.close(resolve));
    await new Promise((resolve) => http.close(resolve));
    await broker.close();
  });

  it("authenticates with username and password (refused ones are a clear ConnectionError)", async () => {
    const broker = await startBroker({ port: 0 });
    broker.aedes.authenticate = (_client, username, password, done) => {
      const ok = username === "plant" && password?.toString() === "secret";
      done(ok ? null : Object.assign(new Error("bad user name or password"), { returnCode: 4 as const }), ok);
    };
    expect(await readOne(broker.url, { username: "plant", password: "secret" })).toMatchObject({ quality: "good" });
    const wrong = mqtt({ url: broker.url, username: "plant", password: "guess" });
    const refused = await wrong.connect().catch((error: Error) => error);
    expect((refused as Error).message).toMatch(
      /cannot connect.*bad username or password.*Fix: check the username and password/i,
    );
    await wrong.close();
    const device = await rawClient(broker.url, { username: "plant", password: "secret" });
    await device.endAsync();
    await broker.close();
  });
});
