// SPDX-License-Identifier: Apache-2.0
/**
 * The link-fault engine over real sockets (a relay in front of a plain echo "server", calls
 * faked as gRPC calls with a peer and a bearer token): connections join their domain's link on
 * their first authenticated call, toxicity is drawn per connection from the seed, a link taken
 * down cuts and refuses, and every fault's start and end is an event.
 */
import * as grpc from "@grpc/grpc-js";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { DomainRegistry } from "../domain/domain-registry.js";
import { createLogger } from "../logger.js";
import { MemoryQuota } from "../memory/memory-quota.js";
import type { FaultEvent } from "./fault-events.js";
import { LinkFaults } from "./link-faults.js";

/** Peer address (as the server sees it) of every connection handed to the echo "server". */
const peers: string[] = [];
const sockets: Socket[] = [];

/** Stands in for the gRPC server: each relayed connection it is handed echoes what it reads. */
function echo(socket: Socket): void {
  peers.push(`${socket.remoteAddress}:${socket.remotePort}`);
  sockets.push(socket);
  socket.on("error", () => undefined);
  socket.pipe(socket);
}

after(() => {
  for (const s of sockets) s.destroy();
});

async function engine(seed: number, listen = "127.0.0.1:0") {
  const registry = new DomainRegistry({
    quota: new MemoryQuota(1 << 30),
    maxDomainMemoryBytes: 1 << 24,
  });
  const faults = new LinkFaults({ registry, seed, log: createLogger("silent") });
  const address = await faults.listen(listen, echo);
  const events: FaultEvent[] = [];
  faults.onFaultEvent((e) => events.push(e));
  let served = false;
  const handlers = faults.identifyingHandlers({
    Call: (_call: unknown) => {
      served = true;
    },
  });
  /** Opens a connection through the relay and makes one "call" on it as `credential`. */
  const connect = async (credential: string): Promise<{ socket: Socket; served: boolean }> => {
    const before = peers.length;
    const socket = address.startsWith("unix:")
      ? createConnection(address.slice(5))
      : createConnection({ host: "127.0.0.1", port: Number(address.split(":")[1]) });
    sockets.push(socket);
    socket.on("error", () => undefined);
    while (peers.length === before) await new Promise((r) => setTimeout(r, 5));
    const peer = peers[peers.length - 1] ?? "";
    const metadata = new grpc.Metadata();
    metadata.set("authorization", `Bearer ${credential}`);
    // The wrapped handler runs the real one only if the call is admitted.
    served = false;
    handlers.Call({ getPeer: () => peer, metadata });
    return { socket, served };
  };
  return { registry, faults, events, connect, address };
}

function domain(registry: DomainRegistry, name: string) {
  return registry.create({ name, label: `${name}_t`, memoryBytes: 1 << 20 });
}

/** Which of 24 connections a toxic of `toxicity` acts on, for a seed. */
async function toxicPattern(seed: number, toxicity: number): Promise<string> {
  const { registry, faults, connect } = await engine(seed);
  const { credential } = domain(registry, "g");
  for (let i = 0; i < 24; i++) await connect(credential);
  faults.addToxic("g", { type: "latency", toxicity, attributes: { latency: 1 } });
  const pattern = faults
    .connections("g")
    .map((c) => (c.downstream.toxics.includes("latency_downstream") ? "1" : "0"))
    .join("");
  await faults.close();
  return pattern;
}

test("toxicity is drawn per connection from the seed: same seed, same connections affected", async () => {
  const seed = 1234;
  const first = await toxicPattern(seed, 0.5);
  assert.equal(await toxicPattern(seed, 0.5), first, `seed ${seed} reproduces ${first}`);
  assert.match(first, /0/, `seed ${seed}: some connections spared`);
  assert.match(first, /1/, `seed ${seed}: some connections affected`);
  assert.notEqual(await toxicPattern(seed + 1, 0.5), first, "another seed, another draw");
});

test("toxicity 0 never applies and toxicity 1 always does (Toxiproxy's toxicity-0 bug is not copied)", async () => {
  assert.equal(await toxicPattern(5, 0), "0".repeat(24));
  assert.equal(await toxicPattern(5, 1), "1".repeat(24));
});

test("a connection joins its domain's link at its first authenticated call, and gets its toxics", async () => {
  const { registry, faults, connect } = await engine(1);
  const a = domain(registry, "a");
  domain(registry, "b");
  faults.addToxic("a", { type: "timeout", stream: "upstream", attributes: { timeout: 0 } });
  const anonymous = await connect("not-a-credential");
  assert.equal(anonymous.served, true, "an unknown credential is left to the handler");
  const { served } = await connect(a.credential);
  assert.equal(served, true);
  assert.equal(faults.connections("a").length, 1);
  assert.equal(faults.connections("b").length, 0);
  assert.deepEqual(faults.connections("a")[0]?.upstream.toxics, ["timeout_upstream"]);
  await faults.close();
});

test("a link taken down cuts its connections and refuses new ones at identification; up again admits", async () => {
  const { registry, faults, connect, events } = await engine(1);
  const a = domain(registry, "a");
  const open = await connect(a.credential);
  const closed = new Promise((resolve) => open.socket.once("close", resolve));
  faults.setEnabled("a", false);
  await closed;
  const refused = await connect(a.credential);
  assert.equal(refused.served, false, "a call on a down link is not served");
  await new Promise((resolve) => refused.socket.once("close", resolve));
  faults.setEnabled("a", true);
  assert.equal((await connect(a.credential)).served, true);
  assert.deepEqual(
    events.map((e) => `${e.kind} ${e.action} ${e.target} ${e.fault}`),
    ["link start a down", "link end a down"],
  );
  await faults.close();
});

test("every toxic's start, update and end is an event; a destroyed domain's faults end", async () => {
  const { registry, faults, events } = await engine(1);
  const { domain: d } = domain(registry, "a");
  faults.addToxic("a", { name: "slow", type: "latency", attributes: { latency: 5 } });
  faults.updateToxic("a", "slow", { attributes: { jitter: 2 } });
  faults.addToxic("a", { type: "bandwidth", attributes: { rate: 10 } });
  faults.removeToxic("a", "slow");
  faults.setEnabled("a", false);
  registry.destroy(d.domid);
  assert.deepEqual(
    events.map((e) => `${e.action} ${e.fault}`),
    [
      "start slow",
      "update slow",
      "start bandwidth_downstream",
      "end slow",
      "start down",
      "end bandwidth_downstream",
      "end down",
    ],
  );
  assert.deepEqual(events[1]?.detail, {
    attributes: { latency: 5, jitter: 2 },
    name: "slow",
    type: "latency",
    stream: "downstream",
    toxicity: 1,
  });
  await faults.close();
});

test("the relay serves a Unix socket link the same way", async () => {
  const dir = mkdtempSync(join(tmpdir(), "hmx-faults-"));
  try {
    const { registry, faults, connect, address } = await engine(1, `unix:${join(dir, "g.sock")}`);
    assert.equal(address, `unix:${join(dir, "g.sock")}`);
    const a = domain(registry, "a");
    const { socket } = await connect(a.credential);
    assert.equal(faults.connections("a").length, 1);
    const echoed = new Promise<string>((resolve) =>
      socket.once("data", (d) => {
        resolve(String(d));
      }),
    );
    socket.write("ping");
    assert.equal(await echoed, "ping");
    await faults.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
