// SPDX-License-Identifier: Apache-2.0
/**
 * Hostile peer holding connections without authenticating (issue 9, finding 1; docs/security.md):
 * connections past the limit of unauthenticated ones are refused on arrival, the others are
 * closed when their time runs out, and a connection that keeps making refused calls is closed;
 * an authenticated guest's connection is none of these and keeps being served.
 */
import * as grpc from "@grpc/grpc-js";
import { SessionClient } from "@hmx/guest-agent";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import { Testbed, startConnectionFlood, startPreAuthMemoryAttack } from "@hmx/testkit";
import { propertySeed } from "@hmx/virtio/test-utils";
import assert from "node:assert/strict";
import type { ClientHttp2Session } from "node:http2";
import { after, before, test } from "node:test";

const SEED = propertySeed("unauthenticated-connections");
const MAX_UNAUTHENTICATED = 8;
const MAX_REFUSED = 4;
const FLOOD = 24;

let bed: Testbed;
let victim: SessionClient;
before(async () => {
  bed = await Testbed.start([
    "--argo-mac-permissive",
    "--max-unauthenticated-connections",
    String(MAX_UNAUTHENTICATED),
    "--unauthenticated-connection-timeout",
    "1",
    "--max-refused-calls-per-connection",
    String(MAX_REFUSED),
  ]);
  const { credential } = await bed.domain("victim");
  victim = await SessionClient.connect({ address: bed.listen, credential });
});
after(async () => {
  await victim.close();
  await bed.stopAll();
});

async function victimRoundTrip(byte: number): Promise<void> {
  const gpa = FIRST_GUEST_GFN * PAGE_SIZE;
  assert.equal(await victim.writeMemory(gpa, Buffer.alloc(64, byte)), 0);
  assert.deepEqual((await victim.readMemory(gpa, 64)).data, Buffer.alloc(64, byte));
}

/** Waits for `done()`, failing after `ms` (a hang, not a timing assertion). */
async function until(done: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    assert.ok(Date.now() < deadline, `no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("connections that never authenticate are refused past the limit and closed when their time runs out; the victim is untouched", async () => {
  await victimRoundTrip(1);
  const reconnects = victim.reconnects;
  const flood = await startConnectionFlood(bed.listen, FLOOD);
  try {
    await until(() => flood.closedCount() >= FLOOD - MAX_UNAUTHENTICATED, 20_000, "refusals");
    await victimRoundTrip(2);
    await until(() => flood.closedCount() === FLOOD, 20_000, "expiry of the admitted ones");
    await victimRoundTrip(3);
    assert.equal(
      victim.reconnects,
      reconnects,
      "the victim's authenticated connection was never closed",
    );
  } finally {
    flood.close();
  }
});

test("a connection that keeps making calls with a forged credential is closed at the limit of refused calls", async () => {
  const attack = startPreAuthMemoryAttack({
    address: bed.listen,
    bombs: 0,
    bombBytes: 0,
    emptyCalls: 3 * MAX_REFUSED,
    connections: 1,
    seed: SEED,
  });
  try {
    await attack.done;
    assert.deepEqual([...attack.answered], [[grpc.status.UNAUTHENTICATED, 3 * MAX_REFUSED]]);
    assert.ok(
      attack.connectionsOpened() >= 3,
      `${attack.connectionsOpened()} connections for ${3 * MAX_REFUSED} refused calls`,
    );
    await victimRoundTrip(4);
  } finally {
    attack.close();
  }
});

/** A health Check on a raw HTTP/2 connection: resolves with its grpc-status (an open call). */
function healthCheck(session: ClientHttp2Session): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Check",
      "content-type": "application/grpc",
      te: "trailers",
    });
    let status: number | undefined;
    const record = (headers: Record<string, unknown>): void => {
      if (headers["grpc-status"] !== undefined) status = Number(headers["grpc-status"]);
    };
    stream.on("response", record);
    stream.on("trailers", record);
    stream.on("error", reject);
    stream.on("close", () => {
      if (status === undefined) reject(new Error("the health check got no grpc-status"));
      else resolve(status);
    });
    stream.resume();
    // An empty HealthCheckRequest: a 5-byte gRPC message header and no body.
    stream.end(Buffer.alloc(5));
  });
}

test("one source address cannot take every unauthenticated slot: a newcomer from another address takes the flooder's oldest one and is served", async () => {
  // Its own service: connections here must outlive the shared one's 1 s lifetime.
  const fair = await Testbed.start([
    "--max-unauthenticated-connections",
    String(MAX_UNAUTHENTICATED),
    "--unauthenticated-connection-timeout",
    "60",
  ]);
  const flood = await startConnectionFlood(fair.listen, MAX_UNAUTHENTICATED, "127.0.0.1");
  const more = await startConnectionFlood(fair.listen, 1, "127.0.0.1");
  const newcomer = await startConnectionFlood(fair.listen, 1, "127.0.0.2");
  try {
    // The flooder's own extra connection finds every slot taken by its own address: refused.
    await until(
      () => more.closedCount() === 1,
      20_000,
      "refusal of the flooder's extra connection",
    );
    // The newcomer from another address evicts the flooder's oldest connection, and only it.
    await until(() => flood.closedCount() === 1, 20_000, "eviction of the flooder's oldest");
    assert.ok(flood.connections[0]?.isClosed(), "the evicted connection is the oldest");
    const session = newcomer.connections[0]?.session;
    assert.ok(session !== undefined && !session.closed, "the newcomer was admitted");
    assert.equal(await healthCheck(session), grpc.status.OK, "the newcomer is served");
    assert.equal(flood.closedCount(), 1, "no other flood connection was closed");
  } finally {
    flood.close();
    more.close();
    newcomer.close();
    await fair.stopAll();
  }
});
