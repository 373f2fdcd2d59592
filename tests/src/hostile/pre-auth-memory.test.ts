// SPDX-License-Identifier: Apache-2.0
/**
 * Hostile peer, before authentication (issue 9, finding 1; docs/security.md): a peer with a
 * forged credential opens thousands of calls on the guest listener that never half-close, 24 of
 * them carrying gzip-compressed 16 MiB WriteMemory bodies (about 16 KiB each on the wire). The
 * hypervisor must refuse each call from its metadata, before reading its body: its peak RSS grows
 * by at most 64 MiB while the attacker keeps its streams open, and a victim guest keeps being
 * served. Without the check (a handler that authenticates after grpc-js decompressed the body)
 * the same attack grows it by hundreds of MiB.
 */
import { SessionClient } from "@hmx/guest-agent";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import { Testbed, processMemory, resetPeak, startPreAuthMemoryAttack } from "@hmx/testkit";
import * as grpc from "@grpc/grpc-js";
import { propertySeed } from "@hmx/virtio/test-utils";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

const SEED = propertySeed("pre-auth-memory");
const MiB = 1024 * 1024;
/** The budget for any attack made before authentication. */
const PRE_AUTH_BUDGET_BYTES = 64 * MiB;
const BOMBS = 24;
const BOMB_BYTES = 16 * MiB;
const EMPTY_CALLS = 4000;
const CONNECTIONS = 16;

let bed: Testbed;
let victim: SessionClient;
before(async () => {
  bed = await Testbed.start();
  const { credential } = await bed.domain("victim");
  victim = await SessionClient.connect({ address: bed.listen, credential });
});
after(async () => {
  await victim.close();
  await bed.stopAll();
});

/** One victim round trip: write a page, read it back, compare. */
async function victimRoundTrip(n: number): Promise<void> {
  const page = Buffer.alloc(PAGE_SIZE, n & 0xff);
  const gpa = FIRST_GUEST_GFN * PAGE_SIZE;
  assert.equal(await victim.writeMemory(gpa, page), 0);
  const read = await victim.readMemory(gpa, PAGE_SIZE);
  assert.equal(read.ret, 0);
  assert.deepEqual(read.data, page);
}

test("calls with a forged credential are refused before their bodies are read: peak RSS growth stays within 64 MiB and the victim is served", async () => {
  const pid = bed.hypervisor.child.process.pid;
  assert.ok(pid !== undefined);
  await victimRoundTrip(0);
  const baseline = processMemory(pid).rssBytes;
  resetPeak(pid);
  const attack = startPreAuthMemoryAttack({
    address: bed.listen,
    bombs: BOMBS,
    bombBytes: BOMB_BYTES,
    emptyCalls: EMPTY_CALLS,
    connections: CONNECTIONS,
    seed: SEED,
  });
  try {
    // Serve the victim while the attack lands, until every attack call has been answered or the
    // hypervisor has already grown past the budget (the unfixed service never answers them).
    const deadline = Date.now() + 60_000;
    let turns = 0;
    let growth = 0;
    for (;;) {
      await victimRoundTrip(++turns);
      growth = processMemory(pid).peakRssBytes - baseline;
      if (attack.remaining() === 0 || growth > PRE_AUTH_BUDGET_BYTES) break;
      assert.ok(
        Date.now() < deadline,
        `${attack.remaining()} attack calls still unanswered (hang)`,
      );
      await new Promise((r) => setTimeout(r, 20));
    }
    console.log(
      `attack: ${BOMBS + EMPTY_CALLS} calls over ${attack.connectionsOpened()} connections, ${BOMBS} x ${BOMB_BYTES / MiB} MiB gzip bodies (${(attack.wireBytes() / 1024).toFixed(0)} KiB on the wire); hypervisor peak growth ${(growth / MiB).toFixed(1)} MiB; victim served ${turns} round trips`,
    );
    assert.ok(
      growth <= PRE_AUTH_BUDGET_BYTES,
      `hypervisor peak RSS grew by ${(growth / MiB).toFixed(1)} MiB under the attack, budget ${PRE_AUTH_BUDGET_BYTES / MiB} MiB`,
    );
    assert.deepEqual([...attack.answered], [[grpc.status.UNAUTHENTICATED, BOMBS + EMPTY_CALLS]]);
    // Still served once the attack is over, and still up.
    await victimRoundTrip(++turns);
  } finally {
    attack.close();
  }
});

test("the same bombs on the control listener without the admin token, and on the open health check, are refused before they are decompressed", async () => {
  const pid = bed.hypervisor.child.process.pid;
  assert.ok(pid !== undefined);
  const baseline = processMemory(pid).rssBytes;
  resetPeak(pid);
  const control = startPreAuthMemoryAttack({
    address: bed.controlListen,
    path: "/hmx.toolstack.v1.Toolstack/LoadPolicy",
    bombs: BOMBS,
    bombBytes: BOMB_BYTES,
    emptyCalls: 0,
    connections: 4,
    seed: SEED,
  });
  const health = startPreAuthMemoryAttack({
    address: bed.listen,
    path: "/grpc.health.v1.Health/Check",
    bombs: BOMBS,
    bombBytes: BOMB_BYTES,
    emptyCalls: 0,
    connections: 4,
    seed: SEED,
  });
  try {
    await Promise.all([control.done, health.done]);
    const growth = processMemory(pid).peakRssBytes - baseline;
    console.log(`control + health bombs: hypervisor peak growth ${(growth / MiB).toFixed(1)} MiB`);
    assert.deepEqual([...control.answered], [[grpc.status.UNAUTHENTICATED, BOMBS]]);
    // A health check reads at most 4 KiB: the bomb's 16 KiB frame is refused unread.
    assert.deepEqual([...health.answered], [[grpc.status.RESOURCE_EXHAUSTED, BOMBS]]);
    assert.ok(
      growth <= PRE_AUTH_BUDGET_BYTES,
      `hypervisor peak RSS grew by ${(growth / MiB).toFixed(1)} MiB, budget ${PRE_AUTH_BUDGET_BYTES / MiB} MiB`,
    );
    await victimRoundTrip(1);
  } finally {
    control.close();
    health.close();
  }
});
