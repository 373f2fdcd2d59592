// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  checkMacRespected,
  checkNoDuplication,
  checkNoLoss,
  checkPerPairFifo,
  receiverFigures,
  type MacHistoryEvent,
  type ReceiverFigures,
} from "./delivery-checks.js";

const clean: ReceiverFigures = {
  guest: "sink",
  received: 5000,
  lost: 0,
  duplicates: 0,
  reordered: 0,
};

describe("no loss, no duplication, per-pair FIFO (from the sinks' figures)", () => {
  it("pass when every sink reports zero", () => {
    for (const check of [checkNoLoss, checkNoDuplication, checkPerPairFifo])
      assert.equal(check([clean]).passed, true, check([clean]).message);
  });

  it("no loss fails on a planted lost message, naming the guest and the count", () => {
    const r = checkNoLoss([clean, { ...clean, guest: "sink-2", lost: 3 }]);
    assert.equal(r.passed, false);
    assert.match(r.message, /3 lost: sink-2 3/);
    assert.equal(r.figures["lost"], 3);
  });

  it("no duplication fails on a planted duplicate", () => {
    const r = checkNoDuplication([{ ...clean, duplicates: 1 }]);
    assert.equal(r.passed, false);
    assert.match(r.message, /1 duplicates/);
  });

  it("per-pair FIFO fails on a planted reorder", () => {
    const r = checkPerPairFifo([{ ...clean, reordered: 2 }]);
    assert.equal(r.passed, false);
    assert.match(r.message, /2 reordered/);
  });

  it("each fails when no sink reported (a check that saw nothing has not passed)", () => {
    for (const check of [checkNoLoss, checkNoDuplication, checkPerPairFifo]) {
      const r = check([]);
      assert.equal(r.passed, false);
      assert.match(r.message, /no receiving workload/);
    }
  });

  it("a sink's stats record gives its figures; another workload's gives none", () => {
    assert.deepEqual(
      receiverFigures("sink", {
        msg: "guest stats",
        received: 9,
        lost: 1,
        duplicates: 0,
        reordered: 0,
      }),
      { guest: "sink", received: 9, lost: 1, duplicates: 0, reordered: 0 },
    );
    assert.equal(receiverFigures("pinger", { msg: "guest stats", sent: 9, rttMs: 1 }), undefined);
    assert.equal(receiverFigures("sink", undefined), undefined);
  });
});

const sendv = (seq: number, from: number, to: number, type = "ok"): MacHistoryEvent => ({
  seq,
  kind: "hypercall",
  type,
  f: "sendv",
  process: from,
  value: { src: { domid: from, aport: 1 }, dst: { domid: to, aport: 9 } },
});
const denial = (seq: number, from: number, to: number, permission = "send"): MacHistoryEvent => ({
  seq,
  kind: "mac",
  decision: "denied",
  permission,
  sdomid: from,
  tdomid: to,
  ret: -13,
});

describe("MAC respected throughout (from the history)", () => {
  it("passes when denied pairs deliver nothing and allowed pairs deliver", () => {
    const r = checkMacRespected([
      sendv(1, 3, 4),
      denial(2, 3, 5),
      sendv(3, 3, 5, "fail"),
      sendv(4, 3, 4),
      sendv(5, 5, 3), // the other direction was never denied
    ]);
    assert.equal(r.passed, true, r.message);
    assert.deepEqual(r.figures, {
      deliveries: 3,
      deniedPairs: 1,
      violations: 0,
      gaps: 0,
      restartGaps: 0,
      unprovenEvents: 0,
    });
  });

  it("fails on a planted delivery across a denied pair, naming the pair and seq", () => {
    const r = checkMacRespected([denial(1, 3, 5), sendv(2, 3, 4), sendv(3, 3, 5)]);
    assert.equal(r.passed, false);
    assert.match(r.message, /1 messages delivered on denied pairs: 3->5 at seq 3/);
  });

  it("a denial of another permission does not mark the pair denied for send", () => {
    const r = checkMacRespected([denial(1, 3, 5, "register"), sendv(2, 3, 5)]);
    assert.equal(r.passed, true, r.message);
  });

  it("fails when the history lost events (unseen deliveries prove nothing)", () => {
    const r = checkMacRespected([sendv(1, 3, 4), { seq: 9, kind: "gap", dropped: 7 }]);
    assert.equal(r.passed, false);
    assert.match(r.message, /1 gaps/);
  });

  it("a gap left by a hypervisor restart passes on what was seen and names the unproven seqs", () => {
    const restartGap = { seq: 40, kind: "gap", from: 3, to: 40, dropped: 38, cause: "restart" };
    const r = checkMacRespected([denial(1, 3, 5), sendv(2, 3, 4), restartGap, sendv(41, 3, 4)]);
    assert.equal(r.passed, true, r.message);
    assert.match(r.message, /unproven for seq 3\.\.40 \(lost with the restarted hypervisor\)/);
    assert.equal(r.figures["unprovenEvents"], 38);
  });

  it("after a restart gap a delivery on a pair denied before it still fails", () => {
    const restartGap = { seq: 40, kind: "gap", from: 3, to: 40, dropped: 38, cause: "restart" };
    const r = checkMacRespected([denial(1, 3, 5), restartGap, sendv(41, 3, 5)]);
    assert.equal(r.passed, false);
    assert.match(r.message, /3->5 at seq 41/);
  });
});
