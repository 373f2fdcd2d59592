// SPDX-License-Identifier: Apache-2.0
/**
 * Argo-level faults against real guest processes (`hmx guest` sink and traffic workloads around
 * an `hmx hypervisor` process): under each fault, applied and cleared through the toolstack while
 * a numbered stream flows, the sender meets only Xen's answers (a full ring's -EAGAIN, a late
 * VIRQ, slow calls) and the sink ends with every message exactly once, in order.
 */
import type { ArgoFaultView } from "@hmx/client";
import { Testbed, num, statsWhere } from "@hmx/testkit";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

const COUNT = 1500;

/** Each fault, given the sink's and the sender's names, and whether the sender must meet -EAGAIN. */
const FAULTS: readonly {
  readonly name: string;
  readonly fault: (sink: string, sender: string) => ArgoFaultView;
  readonly eagain: boolean;
}[] = [
  {
    name: "a partition both ways (full)",
    fault: (sink) => ({ type: "partition", from: [sink], bothWays: true }),
    eagain: true,
  },
  {
    name: "an -EAGAIN storm",
    fault: (sink, sender) => ({ type: "eagain", from: [sender], to: [sink], probability: 0.5 }),
    eagain: true,
  },
  {
    name: "a paused receiver",
    fault: (sink) => ({ type: "pause", from: [sink] }),
    eagain: true,
  },
  {
    name: "slow hypercalls",
    fault: (sink, sender) => ({ type: "delay", from: [sink, sender], delayMs: 3, jitterMs: 2 }),
    eagain: false,
  },
  {
    name: "late VIRQs",
    fault: (sink, sender) => ({ type: "late_virq", from: [sink, sender], delayMs: 20 }),
    eagain: false,
  },
];

describe("Argo-level faults against guest processes", { timeout: 600_000 }, () => {
  let bed: Testbed;
  before(async () => {
    bed = await Testbed.start(["--argo-mac-permissive", "--fault-seed", "11"]);
  });
  after(async () => {
    await bed.stopAll();
  });

  for (const [i, { name, fault, eagain }] of FAULTS.entries()) {
    test(`under ${name} the sender sees only Xen's answers and the sink gets every message once, in order`, async () => {
      const sinkName = `sink${i}`;
      const senderName = `sender${i}`;
      const sink = await bed.guest(sinkName, ["--workload", "sink", "--port", "9"]);
      await sink.process.waitFor((r) => r.msg === "guest ready", 30_000, "sink ready");
      const sender = await bed.guest(senderName, [
        "--workload",
        "traffic",
        "--peer",
        String(sink.domid),
        "--port",
        "9",
        "--size",
        "1000",
        "--rate",
        "0",
        "--count",
        String(COUNT),
      ]);
      const applied = await bed.toolstack.applyFault({ argo: fault(sinkName, senderName) });
      console.log(`${name}: ${applied.id} applied`);
      if (eagain)
        await statsWhere(sender.process, (x) => num(x, "eagains") > 0, 60_000, "an EAGAIN");
      else
        await statsWhere(sink.process, (x) => num(x, "received") > 0, 60_000, "the first message");
      await bed.toolstack.clearFaults([applied.id]);
      const s = await statsWhere(
        sink.process,
        (x) => num(x, "received") === COUNT,
        120_000,
        `${COUNT} messages at the sink`,
      );
      assert.deepEqual(
        [num(s, "gaps"), num(s, "duplicates"), num(s, "reordered"), num(s, "lost")],
        [0, 0, 0, 0],
      );
      const sent = await statsWhere(
        sender.process,
        (x) => num(x, "sent") === COUNT,
        30_000,
        "the sender finished",
      );
      assert.equal(num(sent, "errors"), 0, "no errno other than -EAGAIN reached the sender");
      if (eagain) assert.ok(num(sent, "eagains") > 0);
      console.log(`${name}: eagains ${num(sent, "eagains")}`);
      const domains = await bed.toolstack.listDomains();
      assert.equal(
        domains.find((d) => d.name === senderName)?.counters.messagesSent,
        COUNT,
        "the hypervisor delivered each message exactly once",
      );
    });
  }
});
