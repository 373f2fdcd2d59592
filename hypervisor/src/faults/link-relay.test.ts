// SPDX-License-Identifier: Apache-2.0
/**
 * The relay's private hop: each relayed connection reaches the gRPC side (here an echo) named
 * after its guest, bytes flow both ways through it, and nothing but a live relayed connection
 * gets through the hop.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { test } from "node:test";
import { LinkRelay } from "./link-relay.js";

/** A relay whose gRPC side echoes; `handed` lists every socket the relay injected. */
async function relayOn(listen: string) {
  const handed: Socket[] = [];
  const relay = new LinkRelay((socket) => {
    handed.push(socket);
    socket.on("error", () => undefined);
    socket.pipe(socket);
  });
  const address = await relay.listen(listen);
  const connect = async (): Promise<Socket> => {
    const socket = address.startsWith("unix:")
      ? createConnection(address.slice("unix:".length))
      : createConnection({ host: "127.0.0.1", port: Number(address.split(":")[1]) });
    socket.on("error", () => undefined);
    await once(socket, "connect");
    return socket;
  };
  const handedCount = async (n: number): Promise<void> => {
    while (handed.length < n) await new Promise((r) => setTimeout(r, 5));
  };
  return { relay, handed, connect, handedCount };
}

async function echoed(socket: Socket, text: string): Promise<string> {
  socket.write(text);
  const [data] = (await once(socket, "data")) as [Buffer];
  return data.toString();
}

test("a TCP guest's connection reaches the gRPC side under its own address and port", async () => {
  const { relay, handed, connect, handedCount } = await relayOn("127.0.0.1:0");
  try {
    const guest = await connect();
    await handedCount(1);
    const end = handed[0];
    assert.ok(end !== undefined);
    assert.equal(end.remoteAddress, guest.localAddress);
    assert.equal(end.remotePort, guest.localPort);
    // What grpc-js's getPeer() of a call on it reads.
    assert.ok(relay.connectionOf(`${guest.localAddress}:${guest.localPort}`) !== undefined);
    assert.equal(await echoed(guest, "ping"), "ping");
    guest.destroy();
  } finally {
    await relay.close();
  }
});

test("Unix-socket guests get distinct peers of their own", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hmx-relay-test-"));
  const { relay, handed, connect, handedCount } = await relayOn(`unix:${join(dir, "g.sock")}`);
  try {
    const guests = [await connect(), await connect()];
    await handedCount(2);
    const peers = handed.map((s) => `${s.remoteAddress}:${s.remotePort}`);
    assert.equal(new Set(peers).size, 2, `peers ${peers.join(", ")}`);
    for (const peer of peers) {
      assert.match(peer, /^unix:-\d+$/);
      assert.ok(relay.connectionOf(peer) !== undefined);
    }
    const [, second] = guests;
    assert.ok(second !== undefined);
    assert.equal(await echoed(second, "pong"), "pong");
    for (const g of guests) g.destroy();
  } finally {
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a connection to the hop without a live relayed connection's id is cut, never handed on", async () => {
  const { relay, handed, connect, handedCount } = await relayOn("127.0.0.1:0");
  const hopPath = relay.upstreamAddress.slice("unix:".length);
  try {
    const guest = await connect();
    await handedCount(1);
    for (const head of [Buffer.alloc(8, 0x7f), Buffer.from([0, 0, 0])]) {
      const stray = createConnection(hopPath);
      stray.on("error", () => undefined);
      stray.end(head);
      await once(stray, "close");
    }
    assert.equal(handed.length, 1);
    guest.destroy();
  } finally {
    await relay.close();
  }
  assert.equal(existsSync(hopPath), false, "the hop's directory is removed at close");
});

test(
  "a hop connection that never sends its id does not hold the relay open",
  { timeout: 10_000 },
  async () => {
    const { relay } = await relayOn("127.0.0.1:0");
    const silent = createConnection(relay.upstreamAddress.slice("unix:".length));
    silent.on("error", () => undefined);
    await once(silent, "connect");
    await relay.close();
    await once(silent, "close");
  },
);
