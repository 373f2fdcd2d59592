// SPDX-License-Identifier: Apache-2.0
/**
 * The assertions every guest attack must pass (issue 9): the service stays up, the hypervisor's
 * peak RSS grows by at most 256 MiB, and the victim pair keeps being served while the attack
 * runs. The seed is every hmx test's: HMX_TEST_SEED when set, random otherwise, printed either way.
 */
import { Testbed, measureAttack, type AttackMeasurement, type HostileAttack } from "@hmx/testkit";
import { propertySeed } from "@hmx/virtio/test-utils";
import assert from "node:assert/strict";
import type { TestContext } from "node:test";

export const GUEST_ATTACK_PEAK_BYTES = 256 * 1024 * 1024;

/** Starts a hypervisor, runs the attack against it with a victim pair, and stops everything. */
export async function runGuestAttack(
  t: TestContext,
  attack: HostileAttack,
  minVictimDuringAttack: number,
): Promise<AttackMeasurement> {
  const seed = propertySeed(`hostile ${attack.name}`);
  const bed = await Testbed.start();
  try {
    const pid = bed.hypervisor.child.process.pid;
    assert.ok(pid !== undefined, "the hypervisor has a pid");
    const m = await measureAttack(bed, pid, attack, seed);
    t.diagnostic(`${attack.name}: ${JSON.stringify(m)}`);
    assert.ok(m.hypervisorAlive, "the hypervisor survived the attack");
    assert.ok(
      m.peakGrowthBytes <= GUEST_ATTACK_PEAK_BYTES,
      `peak RSS growth ${(m.peakGrowthBytes / 2 ** 20).toFixed(0)} MiB exceeds 256 MiB`,
    );
    assert.ok(
      m.victimDuringAttack >= minVictimDuringAttack,
      `the victim made ${m.victimDuringAttack} deliveries while the attack ran, fewer than ${minVictimDuringAttack}`,
    );
    return m;
  } finally {
    await bed.stopAll();
  }
}
