// SPDX-License-Identifier: Apache-2.0
/**
 * Giant batch: one ~600-byte Session frame asking for 32 reads of 16 MiB (512 MiB of results).
 * Measured on the unfixed service: 1.68 GB peak and a 6.85 s freeze of every domain, and the
 * single results frame was over the guest's own 16 MiB limit. The batch now runs a slice at a
 * time between other domains' work, its results go out in frames a guest can decode, and the
 * domain waits whenever it holds more than its budget. The attacker reads its results (that is
 * how its batch ends), so `finished` settles when the last one arrived.
 */
import { SessionClient } from "@hmx/guest-agent";
import { FIRST_GUEST_GFN, MAX_MEMORY_ACCESS, PAGE_SIZE } from "@hmx/proto/abi";
import { attackerDomain, seededRandom, type HostileAttack } from "./attack.js";

export const GIANT_BATCH_READS = 32;

export const giantBatch: HostileAttack = {
  name: "giant-batch",
  kind: "guest",
  async launch(target, seed) {
    const random = seededRandom(seed);
    const { credential } = await attackerDomain(target, `giant-batch-${seed}`);
    const client = await SessionClient.connect({ address: target.listen, credential });
    const base = FIRST_GUEST_GFN * PAGE_SIZE;
    let ok = 0;
    const finished = client
      .batch(
        Array.from({ length: GIANT_BATCH_READS }, () => ({
          op: "readMemory" as const,
          gpa: base + Math.floor(random() * 256) * PAGE_SIZE,
          length: MAX_MEMORY_ACCESS,
        })),
      )
      .then((outcomes) => {
        ok = outcomes.filter((o) => o.op === "readMemory" && o.ret === 0).length;
      });
    return {
      finished,
      facts: () => ({ reads: GIANT_BATCH_READS, ok }),
      stop: () => client.close(),
    };
  },
};
