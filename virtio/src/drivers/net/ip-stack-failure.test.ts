// SPDX-License-Identifier: Apache-2.0
/**
 * MiniIpStack when its NIC fails mid-ping (a device reset when the back end restarts): the ping
 * rejects with the NIC's error, and the ARP or echo-reply waiter it armed times out later
 * without an unhandled rejection — which would end the guest process.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { ARP_OP_REPLY, buildArpPacket } from "../../packets/arp.js";
import { ETHERTYPE_ARP, buildEthernetFrame } from "../../packets/ethernet.js";
import { MiniIpStack, type FrameDevice } from "./ip-stack.js";

const OURS = Uint8Array.of(0x52, 0x54, 0, 0, 0, 1);
const PEER = Uint8Array.of(0x52, 0x54, 0, 0, 0, 2);

/**
 * A NIC whose first `okSends` sends succeed and the rest fail; with `answerArp` every ARP
 * request it carries is answered at once by PEER for 10.77.0.2.
 */
function failingNic(okSends: number, answerArp: boolean): FrameDevice {
  let handler: (frame: Uint8Array) => void = () => undefined;
  let sent = 0;
  return {
    mac: OURS,
    send(): Promise<void> {
      sent++;
      if (sent > okSends) return Promise.reject(new Error("device reset"));
      if (answerArp) {
        const reply = buildArpPacket({
          op: ARP_OP_REPLY,
          senderMac: PEER,
          senderIp: "10.77.0.2",
          targetMac: OURS,
          targetIp: "10.77.0.1",
        });
        handler(buildEthernetFrame(OURS, PEER, ETHERTYPE_ARP, reply));
      }
      return Promise.resolve();
    },
    onFrame(h) {
      handler = h;
      return () => undefined;
    },
  };
}

describe("MiniIpStack with a failing NIC", () => {
  const unhandled: unknown[] = [];
  const record = (reason: unknown): void => {
    unhandled.push(reason);
  };
  before(() => process.on("unhandledRejection", record));
  after(() => process.off("unhandledRejection", record));

  it("an ARP request that cannot be sent rejects the ping, and the ARP waiter's timeout is handled", async () => {
    const stack = new MiniIpStack(failingNic(0, false), "10.77.0.1");
    await assert.rejects(stack.ping("10.77.0.2", { timeoutMs: 20 }), /device reset/);
    await sleep(60); // past the waiter's timeout
    stack.close();
    assert.deepEqual(unhandled, []);
  });

  it("an echo request that cannot be sent rejects the ping, and the reply waiter's timeout is handled", async () => {
    const stack = new MiniIpStack(failingNic(1, true), "10.77.0.1");
    await assert.rejects(stack.ping("10.77.0.2", { timeoutMs: 20 }), /device reset/);
    assert.equal(
      stack.arpLookup("10.77.0.2"),
      "52:54:00:00:00:02",
      "the ARP step succeeded; the echo send failed",
    );
    await sleep(60);
    stack.close();
    assert.deepEqual(unhandled, []);
  });
});
