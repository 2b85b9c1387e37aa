import net from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "../support/fault-proxy.js";

/** An echo server: what the fault proxy sits in front of. */
async function startEcho(): Promise<{ port: number; close(): Promise<void>; received: () => number }> {
  let received = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("data", (chunk) => {
      received += chunk.length;
      socket.write(chunk);
    });
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => received,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function connect(proxy: FaultProxy): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(proxy.port, proxy.host, () => resolve(socket));
    socket.once("error", reject);
  });
}

function nextData(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => socket.once("data", (chunk) => resolve(chunk.toString())));
}

function closed(socket: net.Socket): Promise<string> {
  return new Promise((resolve) => {
    let code = "closed";
    socket.once("error", (error: NodeJS.ErrnoException) => {
      code = error.code ?? "error";
    });
    socket.once("close", () => resolve(code));
  });
}

describe("fault proxy", () => {
  let echo: Awaited<ReturnType<typeof startEcho>>;
  let proxy: FaultProxy;
  beforeEach(async () => {
    echo = await startEcho();
    proxy = await startFaultProxy({ port: echo.port });
  });
  afterEach(async () => {
    await proxy.close();
    await echo.close();
  });

  it("passes traffic through both ways", async () => {
    const socket = await connect(proxy);
    const reply = nextData(socket);
    socket.write("ping");
    expect(await reply).toBe("ping");
    socket.destroy();
  });

  it("resets every open connection on demand", async () => {
    const socket = await connect(proxy);
    const ended = closed(socket);
    await new Promise((resolve) => setTimeout(resolve, 20));
    proxy.resetAll();
    expect(await ended).toBe("ECONNRESET");
    expect(proxy.openCount).toBe(0);
  });

  it("blackholes: accepts, never forwards", async () => {
    proxy.setMode({ kind: "blackhole" });
    const socket = await connect(proxy);
    let answered = false;
    socket.on("data", () => {
      answered = true;
    });
    socket.write("hello?");
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answered).toBe(false);
    expect(echo.received()).toBe(0);
    socket.destroy();
  });

  it("cuts a connection after N bytes", async () => {
    proxy.setMode({ kind: "cut-after", bytes: 4 });
    const socket = await connect(proxy);
    const ended = closed(socket);
    socket.write("abcdefgh");
    expect(await ended).toBe("ECONNRESET");
    expect(echo.received()).toBeLessThanOrEqual(4);
  });

  it("adds latency but still delivers", async () => {
    proxy.setMode({ kind: "latency", ms: 30 });
    const socket = await connect(proxy);
    const reply = nextData(socket);
    socket.write("slow");
    expect(await reply).toBe("slow");
    socket.destroy();
  });
});
