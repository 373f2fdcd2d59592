// SPDX-License-Identifier: Apache-2.0
/**
 * Unread replies: a guest opens 32 unary ReadMemory calls of 16 MiB each and never reads a
 * byte of the replies. Measured on the unfixed service: +600 MB, still held 35 s later. With
 * the held-bytes budget the domain's calls wait (or are refused RESOURCE_EXHAUSTED) once its
 * unsent replies exceed `--domain-held-bytes`.
 */
import { FIRST_GUEST_GFN, MAX_MEMORY_ACCESS, PAGE_SIZE } from "@hmx/proto/abi";
import { attackerDomain, seededRandom, type HostileAttack } from "./attack.js";
import { RawGrpcConnection } from "./raw-grpc.js";

export const UNREAD_REPLY_CALLS = 32;

export const unreadReplies: HostileAttack = {
  name: "unread-replies",
  kind: "guest",
  async launch(target, seed) {
    const random = seededRandom(seed);
    const { credential } = await attackerDomain(target, `unread-replies-${seed}`);
    const connection = new RawGrpcConnection(target.listen);
    const base = FIRST_GUEST_GFN * PAGE_SIZE;
    let refused = 0;
    let answered = 0;
    const sent: Promise<void>[] = [];
    for (let i = 0; i < UNREAD_REPLY_CALLS; i++) {
      // A seeded page offset, so the reads are not all of the same bytes.
      const gpa = base + Math.floor(random() * 256) * PAGE_SIZE;
      const stream = connection.open("ReadMemory", credential, [
        { gpa: String(gpa), length: MAX_MEMORY_ACCESS },
      ]);
      void RawGrpcConnection.headers(stream).then((headers) => {
        if (headers["grpc-status"] !== undefined && headers["grpc-status"] !== "0") refused++;
        else if (headers[":status"] !== undefined) answered++;
      });
      sent.push(
        new Promise((resolve) =>
          stream
            .once("finish", () => {
              resolve();
            })
            .once("close", () => {
              resolve();
            }),
        ),
      );
    }
    return {
      finished: Promise.all(sent).then(() => undefined),
      facts: () => ({ calls: UNREAD_REPLY_CALLS, answered, refused }),
      stop: () => connection.close(),
    };
  },
};
