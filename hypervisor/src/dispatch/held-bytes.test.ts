// SPDX-License-Identifier: Apache-2.0
/** The per-domain held-bytes budget: what counts, when a domain is over, when it drains. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { HeldBytesLedger } from "./held-bytes.js";
import { workUnits, CALL_WORK_UNITS, ENTRY_WORK_UNITS } from "./work-units.js";

describe("held-bytes budget", () => {
  test("a domain is over its budget once its unsent bytes plus its resume log exceed it", () => {
    let logBytes = 0;
    const ledger = new HeldBytesLedger(100, () => logBytes);
    const account = ledger.of(7);
    account.charge(60);
    assert.equal(account.over, false);
    logBytes = 50;
    assert.equal(account.held, 110);
    assert.equal(account.over, true);
    assert.equal(ledger.isOver(7), true);
    assert.equal(ledger.isOver(8), false, "accounts are per domain");
  });

  test("a resume log alone never blocks a domain (it drains only by acknowledgement)", () => {
    const ledger = new HeldBytesLedger(100, () => 500);
    assert.equal(ledger.of(1).over, false);
  });

  test("release below the budget calls the drain hook once, with the domid", () => {
    const drained: number[] = [];
    const ledger = new HeldBytesLedger(
      100,
      () => 0,
      (d) => drained.push(d),
    );
    const account = ledger.of(3);
    account.charge(150);
    account.release(20);
    assert.deepEqual(drained, []);
    account.release(100);
    assert.deepEqual(drained, [3]);
    account.release(30);
    assert.deepEqual(drained, [3]);
    assert.equal(account.held, 0);
  });

  test("the refusal names the domain, the flag, the limit and the value held", () => {
    const ledger = new HeldBytesLedger(100, () => 10);
    const account = ledger.of(4);
    account.charge(200);
    assert.match(account.refusal(), /domain 4 holds 210 bytes .*--domain-held-bytes budget of 100/);
  });

  test("a budget that is not a positive integer is refused, naming the value", () => {
    assert.throws(() => new HeldBytesLedger(0, () => 0), /budget 0 is not a positive integer/);
  });
});

describe("work units", () => {
  test("a send costs the bytes it copied, whatever memory the ring's pages take", () => {
    const call = {
      op: "sendv" as const,
      args: {
        src: { aport: 1, domainId: 1 },
        dst: { aport: 2, domainId: 2 },
        iovs: [{ gpa: 0, len: 16 << 20 }],
        messageType: 0,
      },
    };
    assert.equal(
      workUnits(call, { op: "sendv", ret: 16 << 20 }),
      CALL_WORK_UNITS + ENTRY_WORK_UNITS + (16 << 20),
    );
    assert.equal(workUnits(call, { op: "sendv", ret: -11 }), CALL_WORK_UNITS + ENTRY_WORK_UNITS);
  });

  test("a notify costs per entry processed", () => {
    const ringData = Array.from({ length: 256 }, () => ({
      ring: { aport: 1, domainId: 1 },
      spaceRequired: 0,
    }));
    assert.equal(
      workUnits({ op: "notify", ringData }, { op: "notify", ret: 0, entries: [] }),
      CALL_WORK_UNITS + 256 * ENTRY_WORK_UNITS,
    );
  });

  test("a read costs the bytes read", () => {
    assert.equal(
      workUnits(
        { op: "readMemory", gpa: 0, length: 4096 },
        { op: "readMemory", ret: 0, data: Buffer.alloc(4096) },
      ),
      CALL_WORK_UNITS + 4096,
    );
  });
});
