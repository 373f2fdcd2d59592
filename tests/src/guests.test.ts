// SPDX-License-Identifier: Apache-2.0
/**
 * Several guest processes (`hmx guest`) around one hypervisor process (`hmx hypervisor`), all
 * over real gRPC on loopback: unicast and wildcard rings under both mac-permissive settings,
 * a full ring turning into EAGAIN → notify → VIRQ → retry with nothing lost, a link cut in the
 * middle of a numbered stream, and domain destruction tearing down a partner's ring.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Testbed, TcpProxy, num, statsWhere, type TestProcess } from "@hmx/testkit";

describe("guests as processes, hypervisor with --argo-mac-permissive", () => {
  let bed: Testbed;
  before(async () => {
    bed = await Testbed.start(["--argo-mac-permissive"]);
  });
  after(async () => {
    await bed.stopAll();
  });

  test("a wildcard echo ring serves a ping client in another process", async () => {
    const echo = await bed.guest("echo", ["--workload", "echo", "--port", "7"]);
    await echo.process.waitFor((r) => r.msg === "guest ready", 15_000, "echo ready");
    const ping = await bed.guest("pinger", [
      "--workload",
      "ping",
      "--peer",
      String(echo.domid),
      "--port",
      "7",
      "--interval-ms",
      "20",
      "--count",
      "50",
    ]);
    const s = await statsWhere(
      ping.process,
      (x) => num(x, "received") === 50,
      30_000,
      "50 ping replies",
    );
    assert.equal(num(s, "lost"), 0);
    assert.ok(num(s, "rttP50Us") > 0);
  });

  test("a full ring turns into EAGAIN, a waiter, a VIRQ and a retry: 400 large messages all arrive in order", async () => {
    // 60,000-byte messages: the default 130,992-byte ring holds two, so the sender must wait.
    const sink = await bed.guest("bigsink", ["--workload", "sink", "--port", "9"]);
    await sink.process.waitFor((r) => r.msg === "guest ready", 15_000, "sink ready");
    // The sink is stopped until the sender has met the full ring, so that the full ring is
    // certain, not a matter of which process the scheduler runs first.
    const sinkProcess = sink.process.child.process;
    sinkProcess.kill("SIGSTOP");
    let streamer: { domid: number; process: TestProcess };
    try {
      streamer = await bed.guest("bigstreamer", [
        "--workload",
        "traffic",
        "--peer",
        String(sink.domid),
        "--port",
        "9",
        "--size",
        "60000",
        "--rate",
        "0",
        "--count",
        "400",
      ]);
      await statsWhere(
        streamer.process,
        (x) => num(x, "eagains") > 0,
        15_000,
        "the sender's first EAGAIN",
      );
    } finally {
      sinkProcess.kill("SIGCONT");
    }
    const s = await statsWhere(
      sink.process,
      (x) => num(x, "received") === 400,
      60_000,
      "400 messages at the sink",
    );
    assert.deepEqual(
      [num(s, "gaps"), num(s, "duplicates"), num(s, "reordered"), num(s, "lost")],
      [0, 0, 0, 0],
    );
    const sent = await statsWhere(
      streamer.process,
      (x) => num(x, "sent") === 400,
      10_000,
      "sender finished",
    );
    assert.ok(
      num(sent, "eagains") > 0,
      `the sender hit a full ring (eagains ${num(sent, "eagains")})`,
    );
    const domains = await bed.toolstack.listDomains();
    const sender = domains.find((d) => d.domid === streamer.domid);
    assert.equal(
      sender?.counters.messagesSent,
      400,
      "the hypervisor delivered each message exactly once",
    );
  });

  test("a guest whose link is cut mid-stream resumes and the receiver sees every message exactly once, in order", async () => {
    const proxy = await TcpProxy.start(bed.listen);
    try {
      const sink = await bed.guest("cutsink", ["--workload", "sink", "--port", "9"]);
      await sink.process.waitFor((r) => r.msg === "guest ready", 15_000, "sink ready");
      const { domid, credential } = await bed.domain("cutstreamer");
      const streamer = bed.runGuest(
        "cutstreamer",
        credential,
        [
          "--workload",
          "traffic",
          "--peer",
          String(sink.domid),
          "--port",
          "9",
          "--size",
          "64",
          "--rate",
          "4000",
          "--count",
          "12000",
        ],
        proxy.address,
      );
      let cuts = 0;
      const deadline = Date.now() + 60_000;
      // Cut the link three times while the stream is flowing (bounded in count and time).
      while (cuts < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 400));
        const latest = streamer.last("guest stats");
        if (num(latest, "sent") > 0 && proxy.cut() > 0) cuts++;
      }
      assert.equal(cuts, 3, "the link was cut three times mid-stream");
      const s = await statsWhere(
        sink.process,
        (x) => num(x, "received") === 12000,
        60_000,
        "12,000 messages at the sink",
      );
      assert.deepEqual(
        [num(s, "gaps"), num(s, "duplicates"), num(s, "reordered"), num(s, "lost")],
        [0, 0, 0, 0],
      );
      assert.ok(proxy.accepted >= 4, `the streamer reconnected (${proxy.accepted} connections)`);
      const sender = (await bed.toolstack.listDomains()).find((d) => d.domid === domid);
      assert.equal(
        sender?.counters.messagesSent,
        12000,
        "no sendv was applied twice across the reconnects",
      );
    } finally {
      await proxy.close();
    }
  });

  test("destroying a domain tears down the unicast ring another guest registered for it", async () => {
    const { domid: partnerDomid } = await bed.domain("doomed");
    const owner = await bed.guest("owner", [
      "--workload",
      "sink",
      "--port",
      "11",
      "--peer",
      String(partnerDomid),
    ]);
    await owner.process.waitFor((r) => r.msg === "guest ready", 15_000, "owner ready");
    const rings = async () =>
      (await bed.toolstack.listDomains()).find((d) => d.domid === owner.domid)?.rings;
    assert.equal(await rings(), 1);
    await bed.toolstack.destroyDomain(partnerDomid);
    assert.equal(await rings(), 0, "argo_destroy removed the partner ring");
  });
});

describe("guests as processes, hypervisor in Xen's default strict mode", () => {
  let bed: Testbed;
  before(async () => {
    bed = await Testbed.start([]);
  });
  after(async () => {
    await bed.stopAll();
  });

  test("a wildcard ring is refused with EPERM and the guest exits 1 saying so", async () => {
    const sink = await bed.guest("wildsink", ["--workload", "sink", "--port", "9"]);
    const { code } = await sink.process.child.exited;
    assert.equal(code, 1);
    const output = JSON.stringify(sink.process.records) + sink.process.text.join("\n");
    assert.match(output, /EPERM/);
  });

  test("a unicast ring works without mac-permissive: a numbered stream arrives complete and in order", async () => {
    const { domid: streamerDomid, credential: streamerCredential } =
      await bed.domain("unistreamer");
    const sink = await bed.guest("unisink", [
      "--workload",
      "sink",
      "--port",
      "9",
      "--peer",
      String(streamerDomid),
    ]);
    await sink.process.waitFor((r) => r.msg === "guest ready", 15_000, "sink ready");
    bed.runGuest("unistreamer", streamerCredential, [
      "--workload",
      "traffic",
      "--peer",
      String(sink.domid),
      "--port",
      "9",
      "--rate",
      "0",
      "--count",
      "5000",
    ]);
    const s = await statsWhere(
      sink.process,
      (x) => num(x, "received") === 5000,
      60_000,
      "5,000 messages at the sink",
    );
    assert.deepEqual([num(s, "gaps"), num(s, "duplicates"), num(s, "reordered")], [0, 0, 0]);
  });
});
