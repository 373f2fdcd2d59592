// SPDX-License-Identifier: Apache-2.0
/**
 * Hostile: one domain tries to exhaust the hypervisor's memory total (issue 9, finding 5)
 * against a real `hmx hypervisor` process with a 64 MiB `--max-total-memory`. A victim and its
 * peer are created first; the attacker then asks for the whole total, takes what it is given,
 * touches every page of it and registers as many 16 MiB rings as Argo lets it. Whatever the
 * attacker does, the victim still registers its ring and receives every message, in order; the
 * attacker is refused only at the edges of what it was promised (-EFAULT past its own memory,
 * -ENOSPC past 128 rings); and the hypervisor holds no more than the total plus its own
 * overhead. The message contents come from a seed that is printed (replay with HMX_TEST_SEED).
 */
import * as grpc from "@grpc/grpc-js";
import { ArgoEndpoint, SessionClient } from "@hmx/guest-agent";
import { Errno, MAX_RINGS_PER_DOMAIN } from "@hmx/proto/abi";
import { Testbed, memoryQuotaAttack, processMemory, resetPeak } from "@hmx/testkit";
import { propertySeed } from "@hmx/virtio/test-utils";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";

const MiB = 1024 * 1024;
const TOTAL = 64 * MiB;
const VICTIM = 4 * MiB;
const PEER = 4 * MiB;
const MESSAGES = 64;
/** The budget for any one guest's attack: peak RSS growth of the hypervisor. */
const MAX_PEAK_GROWTH = 256 * MiB;

let bed: Testbed;
before(async () => {
  bed = await Testbed.start(["--argo-mac-permissive", "--max-total-memory", String(TOTAL)]);
});
after(async () => {
  await bed.stopAll();
});

/** Message `i` of the run: 32..287 bytes derived from the seed. */
function payload(seed: number, i: number): Buffer {
  const digest = createHash("sha256").update(`${seed}:${i}`).digest();
  return Buffer.alloc(32 + (digest[0] ?? 0), digest);
}

test("a domain that touches all its memory and registers every ring it can leaves a victim created before it served", async () => {
  const seed = propertySeed("memory-quota");
  const victim = await bed.domain("victim", VICTIM);
  const peer = await bed.domain("peer", PEER);
  const pid = bed.hypervisor.child.process.pid;
  assert.ok(pid !== undefined);
  const rssBefore = processMemory(pid).rssBytes;
  resetPeak(pid);

  // The attacker asks for everything; a hypervisor that keeps its promises gives it the rest.
  let refusal: grpc.ServiceError | undefined;
  let attacker: { domid: number; credential: string };
  try {
    attacker = await bed.domain("attacker", TOTAL);
  } catch (err) {
    refusal = err as grpc.ServiceError;
    attacker = await bed.domain("attacker", TOTAL - VICTIM - PEER);
  }
  const attack = await memoryQuotaAttack({ address: bed.listen, credential: attacker.credential });

  // The victim registers its ring after the attack and receives every message, in order.
  const rxClient = await SessionClient.connect({
    address: bed.listen,
    credential: victim.credential,
  });
  const txClient = await SessionClient.connect({
    address: bed.listen,
    credential: peer.credential,
  });
  try {
    const rx = await ArgoEndpoint.create(rxClient);
    const tx = await ArgoEndpoint.create(txClient);
    const inbox = await rx.bind({ aport: 7, partner: peer.domid });
    const outbox = await tx.bind({ partner: victim.domid });
    const sends = Array.from({ length: MESSAGES }, (_, i) =>
      outbox.sendTo({ domainId: victim.domid, aport: 7 }, payload(seed, i)),
    );
    for (let i = 0; i < MESSAGES; i++) {
      const m = await inbox.receive();
      assert.ok(m !== null, `message ${i} arrived`);
      assert.equal(m.source.domainId, peer.domid);
      assert.deepEqual(m.data, payload(seed, i), `message ${i} intact and in order`);
    }
    assert.deepEqual(
      await Promise.all(sends),
      Array.from({ length: MESSAGES }, (_, i) => payload(seed, i).length),
    );
    await tx.close();
    await rx.close();
  } finally {
    await txClient.close();
    await rxClient.close();
  }

  // The attacker's CreateDomain for the whole total was refused, naming the sizes and the flag.
  assert.ok(refusal !== undefined, "a CreateDomain larger than the memory left was refused");
  assert.equal(refusal.code, grpc.status.RESOURCE_EXHAUSTED);
  assert.match(refusal.details, /cannot reserve 67108864 bytes \(64 MiB\)/);
  assert.match(
    refusal.details,
    /only 58720256 bytes \(56 MiB\) of the 67108864 bytes \(64 MiB\) total/,
  );
  assert.match(refusal.details, /--max-total-memory/);
  // Within what it was given, the attacker was refused nothing; beyond it, Xen's errnos.
  assert.equal(attack.memoryBytes, TOTAL - VICTIM - PEER);
  assert.equal(attack.writeRefusal, null);
  assert.equal(attack.bytesTouched, attack.bytesTouchable);
  assert.equal(attack.writePastEndRet, -Errno.EFAULT);
  assert.equal(attack.ringsRegistered, MAX_RINGS_PER_DOMAIN);
  assert.equal(attack.lastRingRet, -Errno.ENOSPC);

  // Bytes held: every domain within its reservation, and the process within the stated budget.
  const domains = await bed.toolstack.listDomains();
  for (const d of domains) assert.ok(d.memoryResidentBytes <= d.memoryBytes, d.name);
  assert.ok(domains.reduce((n, d) => n + d.memoryBytes, 0) <= TOTAL);
  const peakGrowth = processMemory(pid).peakRssBytes - rssBefore;
  console.log(`hypervisor peak RSS growth during the attack: ${(peakGrowth / MiB).toFixed(1)} MiB`);
  assert.ok(peakGrowth <= MAX_PEAK_GROWTH, `peak RSS growth ${peakGrowth} B`);

  // Destroying the attacker returns its reservation: a domain of its size fits again.
  await bed.toolstack.destroyDomain(attacker.domid);
  await bed.domain("successor", TOTAL - VICTIM - PEER);
});
