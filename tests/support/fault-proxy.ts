/**
 * A TCP fault proxy for reliability tests (T1–T4 in the targets): sits between a client and a server on loopback and
 * misbehaves on command. Modes: pass-through, added latency, blackhole (accept and hold, never forward), cut after
 * N bytes, and reset every open connection.
 */
import net from "node:net";

/** How the proxy treats traffic. */
export type FaultMode =
  | { kind: "pass" }
  | { kind: "latency"; ms: number }
  | { kind: "blackhole" }
  | { kind: "cut-after"; bytes: number };

/** A running fault proxy. */
export interface FaultProxy {
  /** Host and port to point the client at. */
  readonly host: string;
  readonly port: number;
  /** Changes how new and existing traffic is treated. */
  setMode(mode: FaultMode): void;
  /** Destroys every open connection with a TCP reset (both sides). */
  resetAll(): void;
  /** Number of connections accepted so far. */
  readonly connectionCount: number;
  /** Number of connections open now. */
  readonly openCount: number;
  /** Stops listening and destroys every connection. */
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  server: net.Socket | undefined;
  forwarded: number;
}

/** Starts a fault proxy on 127.0.0.1 (an ephemeral port unless `listenPort` is given) in front of target. */
export async function startFaultProxy(target: { host?: string; port: number }, listenPort = 0): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let mode: FaultMode = { kind: "pass" };
  let connectionCount = 0;

  const destroy = (pair: Pair, reset: boolean) => {
    pairs.delete(pair);
    if (reset) {
      pair.client.resetAndDestroy();
      pair.server?.resetAndDestroy();
    } else {
      pair.client.destroy();
      pair.server?.destroy();
    }
  };

  const forward = (pair: Pair, from: "client" | "server", chunk: Buffer) => {
    if (mode.kind === "blackhole") return;
    const to = from === "client" ? pair.server : pair.client;
    if (!to || to.destroyed) return;
    let data = chunk;
    if (mode.kind === "cut-after") {
      const room = mode.bytes - pair.forwarded;
      if (room <= 0) return destroy(pair, true);
      if (data.length > room) data = data.subarray(0, room);
    }
    pair.forwarded += data.length;
    const send = () => {
      if (!to.destroyed) to.write(data);
      if (mode.kind === "cut-after" && pair.forwarded >= mode.bytes) destroy(pair, true);
    };
    if (mode.kind === "latency") setTimeout(send, mode.ms);
    else send();
  };

  const server = net.createServer((client) => {
    connectionCount++;
    const pair: Pair = { client, server: undefined, forwarded: 0 };
    // A wire does not hold bytes back: without this, Nagle's algorithm in the proxy would delay pipelined frames.
    client.setNoDelay(true);
    pairs.add(pair);
    client.on("error", () => destroy(pair, false));
    client.on("close", () => destroy(pair, false));
    client.on("data", (chunk) => forward(pair, "client", chunk));
    if (mode.kind === "blackhole") return; // accept and hold: never connect upstream
    const upstream = net.connect(target.port, target.host ?? "127.0.0.1");
    upstream.setNoDelay(true);
    pair.server = upstream;
    upstream.on("data", (chunk) => forward(pair, "server", chunk));
    upstream.on("error", () => destroy(pair, true));
    upstream.on("close", () => destroy(pair, false));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(listenPort, "127.0.0.1", resolve);
  });
  const address = server.address() as net.AddressInfo;

  return {
    host: "127.0.0.1",
    port: address.port,
    setMode(next) {
      mode = next;
    },
    resetAll() {
      for (const pair of [...pairs]) destroy(pair, true);
    },
    get connectionCount() {
      return connectionCount;
    },
    get openCount() {
      return pairs.size;
    },
    async close() {
      for (const pair of [...pairs]) destroy(pair, false);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
