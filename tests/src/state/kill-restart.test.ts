// SPDX-License-Identifier: Apache-2.0
/**
 * The hypervisor outlives itself (issue 13, DESIGN §3.6): a real `hmx hypervisor --state-dir`
 * with several traffic → sink guest pairs is SIGKILLed at random points and restarted on the
 * same addresses (and after every fifth kill also stopped cleanly with SIGTERM); afterwards every domain and credential is back and every sink saw every
 * message exactly once, in order. HMX_STATE_KILLS sets the number of kills (5 by default, so
 * the suite stays short; `npm run test:state-kills -w @hmx/tests` runs 100); HMX_TEST_SEED
 * replays the kill points. The second variant snapshots every 256 KiB of journal, so kills land
 * before, during and after snapshot switches (3 kills by default).
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import { ToolstackClient } from "@hmx/client";
import { seededRandom } from "@hmx/hypervisor";
import { Testbed, num, type TestProcess } from "@hmx/testkit";

const KILLS_ENV = process.env["HMX_STATE_KILLS"];
const PAIRS = 3;

/** A loopback port that was free a moment ago (the hypervisor must come back on it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        resolve(typeof address === "object" && address !== null ? address.port : 0);
      });
    });
  });
}

const scratch = mkdtempSync(join(tmpdir(), "hmx-state-kill-"));
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

for (const { kills, snapshotBytes } of [
  { kills: Number(KILLS_ENV ?? 5), snapshotBytes: "0" },
  { kills: Number(KILLS_ENV ?? 3), snapshotBytes: "256K" },
]) {
  const KILLS = kills;
  const stateDir = join(scratch, `snapshots-${snapshotBytes}`);
  const mode =
    snapshotBytes === "0" ? "journal only" : `a snapshot every ${snapshotBytes} of journal`;
  test(`(${mode}) the hypervisor SIGKILLed ${KILLS} times under traffic (and stopped cleanly after every fifth kill) comes back with every domain, ring and credential, and the sinks see 0 lost, 0 duplicated, 0 reordered`, async () => {
    const seed = Number(process.env["HMX_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 32));
    console.log(
      `state kill test: ${KILLS} kills, seed ${seed} (replay with HMX_TEST_SEED=${seed})`,
    );
    const rand = seededRandom(seed);
    const bed = new Testbed();
    bed.listen = `127.0.0.1:${await freePort()}`;
    bed.controlListen = `127.0.0.1:${await freePort()}`;
    const hypervisors: TestProcess[] = [];
    const startHypervisor = async (): Promise<void> => {
      bed.hypervisor = bed.spawn(
        "hypervisor",
        [
          "hypervisor",
          "--listen",
          bed.listen,
          "--control-listen",
          bed.controlListen,
          "--argo-mac-permissive",
          "--state-dir",
          stateDir,
          "--state-snapshot-bytes",
          snapshotBytes,
        ],
        { HMX_ADMIN_TOKEN: bed.adminToken },
      );
      hypervisors.push(bed.hypervisor);
      await bed.hypervisor.waitFor((r) => r.msg === "hypervisor ready", 60_000, "ready line");
    };
    await startHypervisor();
    bed.toolstack = new ToolstackClient(bed.controlListen, bed.adminToken);
    const count = 360 * KILLS + 2000;
    const pairs: { sink: TestProcess; sinkDomid: number; sender: number }[] = [];
    try {
      for (let i = 0; i < PAIRS; i++) {
        const sink = await bed.guest(`sink${i}`, ["--workload", "sink", "--port", "9"]);
        await sink.process.waitFor((r) => r.msg === "guest ready", 30_000, "sink ready");
        const sender = await bed.guest(`traffic${i}`, [
          "--workload",
          "traffic",
          "--peer",
          String(sink.domid),
          "--port",
          "9",
          "--size",
          "64",
          "--rate",
          "1000",
          "--count",
          String(count),
        ]);
        // Its socket is bound (its ring registered) before the first kill: a registration
        // between a kill's view of the domains and the kill itself would be journaled and come
        // back, rightly, yet not be in the view compared with.
        await sender.process.waitFor((r) => r.msg === "guest ready", 30_000, "sender ready");
        pairs.push({ sink: sink.process, sinkDomid: sink.domid, sender: sender.domid });
      }
      const view = async (): Promise<unknown[]> =>
        (await bed.toolstack.listDomains()).map((d) => [d.domid, d.name, d.rings]);
      /**
       * Senders that had every message accepted: such a sender closes its socket once its
       * window drains, and if that unregistration falls between a restart's view and its kill,
       * it is journaled and its ring rightly stays gone.
       */
      const finishedSenders = async (): Promise<Set<number>> => {
        const senders = new Set(pairs.map((p) => p.sender));
        const domains = await bed.toolstack.listDomains();
        return new Set(
          domains
            .filter((d) => senders.has(d.domid) && d.counters.messagesSent === count)
            .map((d) => d.domid),
        );
      };
      /** Stops the hypervisor (SIGKILL, or a clean SIGTERM stop), starts it again, compares. */
      const restart = async (how: "kill" | "clean stop", n: number): Promise<void> => {
        const before = await view();
        const finished = await finishedSenders();
        if (how === "clean stop") await bed.hypervisor.child.stop();
        else bed.hypervisor.child.process.kill("SIGKILL");
        await bed.hypervisor.child.exited;
        await startHypervisor();
        const after = await view();
        const closedSinceView = (row: unknown): boolean => {
          const [domid, , rings] = row as [number, string, number];
          return finished.has(domid) && rings === 0;
        };
        const expected = before.map((row, i) =>
          closedSinceView(after[i]) ? [...(row as unknown[]).slice(0, 2), 0] : row,
        );
        assert.deepEqual(after, expected, `${how} ${n}: every domain and ring came back`);
      };
      for (let k = 1; k <= KILLS; k++) {
        // A random point: 100..1000 ms of traffic after the hypervisor came back.
        await new Promise((r) => setTimeout(r, 100 + Math.floor(rand() * 900)));
        await restart("kill", k);
        // After every fifth kill, a clean stop (SIGTERM) too, which must lose nothing either.
        if (k % 5 === 0) await restart("clean stop", k / 5);
      }
      for (const { sink, sinkDomid, sender } of pairs) {
        const s = await sink.waitFor(
          (r) => r.msg === "guest stats" && num(r, "received") === count,
          120_000 + 200 * KILLS,
          `${count} messages at sink ${sinkDomid}`,
        );
        assert.deepEqual(
          [num(s, "gaps"), num(s, "duplicates"), num(s, "reordered"), num(s, "lost")],
          [0, 0, 0, 0],
          `sink ${sinkDomid}: nothing lost, duplicated or reordered`,
        );
        const domains = await bed.toolstack.listDomains();
        assert.equal(
          domains.find((d) => d.domid === sender)?.counters.messagesSent,
          count,
          `domain ${sender}: every sendv applied exactly once across ${KILLS} kills`,
        );
      }
      // Every guest is still the one it was: its credential authenticated on every new hypervisor.
      for (const { sink } of pairs) assert.ok(sink.child.running, `${sink.child.name} runs`);
      // A sink that had every message before the last kill reconnects on its own backoff, so
      // its link is waited for (bounded), not sampled once.
      const sinkDomids = new Set(pairs.map((x) => x.sinkDomid));
      const allSinksConnected = async (): Promise<boolean> =>
        (await bed.toolstack.listDomains())
          .filter((d) => sinkDomids.has(d.domid))
          .every((d) => d.connected);
      const connectDeadline = Date.now() + 30_000;
      while (!(await allSinksConnected()) && Date.now() < connectDeadline)
        await new Promise((r) => setTimeout(r, 100));
      assert.ok(await allSinksConnected(), "every sink is connected to the last hypervisor");
      const snapshots = readdirSync(stateDir).filter((f) => f.startsWith("snapshot-"));
      assert.equal(
        snapshots.length,
        snapshotBytes === "0" ? 0 : 1,
        `files: ${snapshots.join(", ")}`,
      );
    } finally {
      await bed.stopAll();
    }
  });
}
