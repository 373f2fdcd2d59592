// SPDX-License-Identifier: Apache-2.0
/**
 * The transport-floor bench's message splitting: a message cut across reads comes out whole and
 * once, several in one read come out in order, and both framings read their own length field.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GRPC_FRAMING, messageSplitter, TCP_FRAMING } from "./transport-floor-wire.js";

const grpcFramed = (body: string): Buffer => GRPC_FRAMING.frame(Buffer.from(body));

describe("messageSplitter", () => {
  it("joins a message cut at every byte and splits messages sharing a read", () => {
    const stream = Buffer.concat([grpcFramed("alpha"), grpcFramed(""), grpcFramed("omega!")]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const got: string[] = [];
      const push = messageSplitter(GRPC_FRAMING, (m) => got.push(m.subarray(5).toString()));
      push(stream.subarray(0, cut));
      push(stream.subarray(cut));
      assert.deepEqual(got, ["alpha", "", "omega!"], `cut at ${cut}`);
    }
  });

  it("reads the plain socket's 4-byte little-endian length", () => {
    const framed = Buffer.from([3, 0, 0, 0, 0x61, 0x62, 0x63, 1, 0, 0, 0]);
    const got: string[] = [];
    const push = messageSplitter(TCP_FRAMING, (m) => got.push(m.subarray(4).toString()));
    push(framed);
    assert.deepEqual(got, ["abc"], "the second message is not complete yet");
    push(Buffer.from("z"));
    assert.deepEqual(got, ["abc", "z"]);
  });
});
