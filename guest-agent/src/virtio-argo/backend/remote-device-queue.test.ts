// SPDX-License-Identifier: Apache-2.0
/**
 * `RemoteDeviceQueue` as a device model drives it: a chain arrives as AVAIL records, the model
 * pops it, writes its answer and completes it, and the completion handed to the host carries
 * the written bytes without another copy of them.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ViolationLog } from "@hmx/virtio";
import type { CompletedChain } from "../wire/fragmenter.js";
import { RemoteDeviceQueue } from "./remote-device-queue.js";

function queue(sent: CompletedChain[][]): RemoteDeviceQueue {
  return new RemoteDeviceQueue(
    0,
    8,
    {
      sendUsed: (_q, done) => sent.push(done),
      onBroken: (reason) => assert.fail(`queue broke: ${reason}`),
      violations: new ViolationLog(),
    },
    { maxChainBytes: 1 << 20, maxInflightBytes: 1 << 22 },
  );
}

test("a completion's written bytes are the chain's own memory, capped at len, not a copy", () => {
  const sent: CompletedChain[][] = [];
  const q = queue(sent);
  const header = Uint8Array.of(1, 2, 3, 4);
  const added = q.accept([
    {
      head: 5,
      frag: 0,
      last: true,
      segments: [
        { len: 4, writable: false },
        { len: 8, writable: true },
        { len: 1, writable: true },
      ],
      totalReadable: 4,
      inlineLen: 4,
      data: header,
    },
  ]);
  assert.equal(added, 1);
  const chain = q.pop();
  assert.ok(chain !== undefined);
  // The model writes its answer after the readable bytes (addresses are local offsets).
  chain.ram.write(4, Uint8Array.of(10, 11, 12, 13, 14, 15, 16, 17, 0));
  q.addUsed(chain.head, 6);
  q.signalUsed();
  const done = sent[0]?.[0];
  assert.ok(done !== undefined);
  assert.equal(done.head, 5);
  assert.equal(done.writtenLen, 6);
  assert.deepEqual([...done.data], [10, 11, 12, 13, 14, 15]);
  // A view of the chain's memory: nothing writes it after the completion, so the bytes are
  // staged from there (one copy of a 1 MiB read less).
  chain.ram.write(4, Uint8Array.of(99));
  assert.equal(done.data[0], 99);
});

test("a completion that wrote nothing carries no bytes", () => {
  const sent: CompletedChain[][] = [];
  const q = queue(sent);
  q.accept([
    {
      head: 1,
      frag: 0,
      last: true,
      segments: [{ len: 2, writable: false }],
      totalReadable: 2,
      inlineLen: 2,
      data: Uint8Array.of(7, 7),
    },
  ]);
  const chain = q.pop();
  assert.ok(chain !== undefined);
  q.addUsed(chain.head, 5);
  q.signalUsed();
  assert.deepEqual(sent, [[{ head: 1, writtenLen: 0, data: new Uint8Array(0) }]]);
});
