// SPDX-License-Identifier: Apache-2.0
/**
 * Session takeover buffers: a guest opens a Session, asks for 4 × 16 MiB of reads, never reads
 * the results, and opens the next Session (which takes over the domain), 16 times. Measured on
 * the unfixed service: the old sessions' unsent results stayed buffered, +343 MB. A taken-over
 * session with unread results is now reset, which frees them.
 */
import { FIRST_GUEST_GFN, MAX_MEMORY_ACCESS, PAGE_SIZE } from "@hmx/proto/abi";
import { attackerDomain, seededRandom, type HostileAttack } from "./attack.js";
import { RawGrpcConnection } from "./raw-grpc.js";

export const TAKEOVER_SESSIONS = 16;
export const TAKEOVER_READS_PER_SESSION = 4;

export const sessionTakeoverBuffers: HostileAttack = {
  name: "session-takeover-buffers",
  kind: "guest",
  async launch(target, seed) {
    const random = seededRandom(seed);
    const { credential } = await attackerDomain(target, `takeover-${seed}`);
    const connection = new RawGrpcConnection(target.listen);
    const base = FIRST_GUEST_GFN * PAGE_SIZE;
    let nextId = 1;
    let opened = 0;
    const run = async (): Promise<void> => {
      for (let s = 0; s < TAKEOVER_SESSIONS; s++) {
        const calls = Array.from({ length: TAKEOVER_READS_PER_SESSION }, () => ({
          requestId: String(nextId++),
          readMemory: {
            gpa: String(base + Math.floor(random() * 256) * PAGE_SIZE),
            length: MAX_MEMORY_ACCESS,
          },
        }));
        const stream = connection.open(
          "Session",
          credential,
          [{ open: { ackThrough: "0" } }, { batch: { calls } }],
          {
            halfClose: false,
          },
        );
        await RawGrpcConnection.headers(stream);
        opened++;
      }
    };
    return {
      finished: run(),
      facts: () => ({ sessions: opened }),
      stop: () => connection.close(),
    };
  },
};
