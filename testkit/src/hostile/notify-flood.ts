// SPDX-License-Identifier: Apache-2.0
/**
 * Notify flood: a guest sends, three times over, one Session frame of 1,024 notify calls of 256
 * entries each (262,144 ring queries per frame). Measured on the unfixed service: each frame
 * stalled every domain for 0.55–1.0 s and the hypervisor grew by up to 1.66 GB of garbage. The
 * scheduler counts each notify by its entries, so a frame now runs a slice at a time.
 */
import { SessionClient, type HypercallOp } from "@hmx/guest-agent";
import { attackerDomain, seededRandom, type HostileAttack } from "./attack.js";

export const NOTIFY_FLOOD_FRAMES = 3;
export const NOTIFY_FLOOD_CALLS = 1024;
export const NOTIFY_FLOOD_ENTRIES = 256;

export const notifyFlood: HostileAttack = {
  name: "notify-flood",
  kind: "guest",
  async launch(target, seed) {
    const random = seededRandom(seed);
    const { credential } = await attackerDomain(target, `notify-flood-${seed}`);
    const client = await SessionClient.connect({ address: target.listen, credential });
    let entries = 0;
    const frames: Promise<void>[] = [];
    for (let f = 0; f < NOTIFY_FLOOD_FRAMES; f++) {
      const ops: HypercallOp[] = Array.from({ length: NOTIFY_FLOOD_CALLS }, () => ({
        op: "notify",
        // Seeded queries of rings that mostly do not exist: each still costs a lookup.
        ringData: Array.from({ length: NOTIFY_FLOOD_ENTRIES }, () => ({
          ring: { aport: Math.floor(random() * 2 ** 32), domainId: 1 + Math.floor(random() * 16) },
          spaceRequired: Math.floor(random() * 4096),
        })),
      }));
      frames.push(
        client.batch(ops).then((outcomes) => {
          for (const o of outcomes) if (o.op === "notify") entries += o.entries.length;
        }),
      );
    }
    return {
      finished: Promise.all(frames).then(() => undefined),
      facts: () => ({ frames: NOTIFY_FLOOD_FRAMES, entries }),
      stop: () => client.close(),
    };
  },
};
