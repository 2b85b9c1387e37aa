import { startBroker } from "plantwire/mqtt";
import { describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/main.js";
import { rawClient, uniquePrefix } from "./mqtt-fixture.js";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (text: string) => out.push(text), err: (text: string) => err.push(text) } };
}
// Through the CLI's entry point, which turns a wrong command line into exit code 2.
const command = (name: string) => ({
  run: (args: string[], cliIo: ReturnType<typeof io>["io"]) => runCli([...name.split(" "), ...args], cliIo),
});

describe("mqtt CLI", () => {
  it("watch prints messages and stops after --count; bad arguments are usage errors", async () => {
    const broker = await startBroker({ port: 0 });
    const prefix = uniquePrefix("cli");
    const device = await rawClient(broker.url);
    await device.publishAsync(`${prefix}/a`, "hello", { qos: 1, retain: true });
    const captured = io();
    const code = await command("mqtt watch").run([broker.url, `${prefix}/#`, "--count", "1"], captured.io);
    expect(code).toBe(0);
    expect(captured.out.join("")).toContain(`${prefix}/a  hello`);
    const wrong = io();
    expect(await command("mqtt watch").run([broker.url, "a/#/b"], wrong.io)).toBe(2);
    expect(wrong.err.join("")).toContain("#");
    expect(await command("mqtt broker").run(["--port", "99999"], io().io)).toBe(2);
    await device.publishAsync(`${prefix}/a`, "", { qos: 1, retain: true });
    await device.endAsync();
    await broker.close();
  });

  it("watch escapes what a terminal would act on in topics and payloads", async () => {
    const broker = await startBroker({ port: 0 });
    const prefix = uniquePrefix("cli-escape");
    const device = await rawClient(broker.url);
    await device.publishAsync(`${prefix}/\u202Eevil`, "ALARM\u001b[2J\rok", { qos: 1, retain: true });
    const captured = io();
    expect(await command("mqtt watch").run([broker.url, `${prefix}/#`, "--count", "1"], captured.io)).toBe(0);
    const out = captured.out.join("");
    expect(out).toContain(`${prefix}/\\u202eevil  ALARM\\u001b[2J\\u000dok`);
    for (const character of ["\u001b", "\u202E", "\r"]) expect(out).not.toContain(character);
    await device.publishAsync(`${prefix}/\u202Eevil`, "", { qos: 1, retain: true });
    await device.endAsync();
    await broker.close();
  });
});
