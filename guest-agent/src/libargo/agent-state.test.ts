// SPDX-License-Identifier: Apache-2.0
/** The agent-state record in gfns 1..7: round trip, and a damaged or foreign record reads as none. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AGENT_STATE_MAX_BYTES, decodeAgentState, encodeAgentState } from "./agent-state.js";

describe("agent state", () => {
  const state = {
    rings: [{ aport: 9, partnerId: 0x7ff4, len: 130992, gfn: 16 }],
    app: { fleetStreams: { "2:9:77": 41 } },
  };

  test("a state record round-trips", () => {
    assert.deepEqual(decodeAgentState(encodeAgentState(state)), state);
  });

  test("zeroed memory (a first start) reads as no state", () => {
    assert.equal(decodeAgentState(Buffer.alloc(AGENT_STATE_MAX_BYTES)), undefined);
  });

  test("a record whose body was altered fails its checksum and reads as no state", () => {
    const bytes = encodeAgentState(state);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 0x01, bytes.length - 3);
    assert.equal(decodeAgentState(bytes), undefined);
  });

  test("a record with a ring entry that is not all integers reads as no state", () => {
    const bytes = encodeAgentState({
      rings: [{ aport: 9, partnerId: 1, len: 48, gfn: "16" as unknown as number }],
    });
    assert.equal(decodeAgentState(bytes), undefined);
  });

  test("a length beyond the buffer reads as no state", () => {
    const bytes = encodeAgentState(state);
    bytes.writeUInt32LE(AGENT_STATE_MAX_BYTES, 8);
    assert.equal(decodeAgentState(bytes), undefined);
  });

  test("a state too large for gfns 1..7 is refused when encoding", () => {
    assert.throws(
      () => encodeAgentState({ rings: [], app: "x".repeat(AGENT_STATE_MAX_BYTES) }),
      RangeError,
    );
  });
});
