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
