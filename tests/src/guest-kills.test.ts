// SPDX-License-Identifier: Apache-2.0
/**
 * Crash-consistent guests (issue 11 item 1, docs/state-guests.md "Killed at any instant"): a
 * real `hmx guest` SIGKILLed at seeded random points under traffic and restarted from its state
 * dir each time loses nothing and counts nothing twice.
 *
 * - The sink: its checker's progress rides with every rx store, so after the last restart it
 *   has counted exactly the sender's messages, once each, as one stream.
 * - The sender: each restart starts a new epoch of its stream (tag + 1, seq 0); the sink sees no
 *   gap, duplicate or reorder in any epoch, and at least every message each run saw accepted.
 * - An echo: a request is consumed only with its reply (the rx store after the sendv), so its
 *   pinger loses no ping; a request answered twice is a re-delivery, never a loss.
 * - A pinger: its counters, next id and the ping that may be out live in its memory, so they
 *   carry on across restarts: no ping lost, every ping accounted as answered, lost or failed.
 *
 * HMX_GUEST_KILLS sets the kills per test (5 by default, so the suite stays short;
 * `npm run test:guest-kills -w @hmx/tests` runs 50); HMX_TEST_SEED replays the kill points.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { seededRandom } from "@hmx/hypervisor";
import { Testbed, num, type TestProcess } from "@hmx/testkit";
import { propertySeed } from "@hmx/virtio/test-utils";
import { latest, sleep } from "./fleet-restart-harness.js";

const KILLS = Number(process.env["HMX_GUEST_KILLS"] ?? 5);
const RATE = 1000;
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A guest that can be SIGKILLed and started again with the same domain and state dir. */
class KillableGuest {
  readonly runs: TestProcess[] = [];
  readonly #stateDir = mkdtempSync(join(tmpdir(), "hmx-guest-kill-"));
  constructor(
    private readonly bed: Testbed,
    readonly name: string,
    private readonly credential: string,
    private readonly args: readonly string[],
  ) {
    dirs.push(this.#stateDir);
  }

  get current(): TestProcess {
    const p = this.runs.at(-1);
    if (p === undefined) throw new Error(`${this.name} not started`);
    return p;
  }

  start(): TestProcess {
    const p = this.bed.runGuest(this.name, this.credential, [
      "--state-dir",
      this.#stateDir,
      ...this.args,
    ]);
    this.runs.push(p);
    return p;
  }

  /**
   * Waits a seeded random time (mostly after the guest is ready, every fifth kill counted from
   * its start, so some land while it registers its ring), then SIGKILLs it.
   */
  async killAtRandom(rand: () => number, k: number): Promise<void> {
    const p = this.current;
    if (k % 5 !== 4) await p.waitFor((r) => r.msg === "guest ready", 60_000, "ready");
    await sleep(Math.floor(rand() * 500));
    p.child.process.kill("SIGKILL");
    await p.child.exited;
  }

  /** `kills` seeded random SIGKILLs, each followed by a restart; resolves with the last run ready. */
  async killRepeatedly(rand: () => number, kills: number): Promise<TestProcess> {
    for (let k = 0; k < kills; k++) {
      await this.killAtRandom(rand, k);
      this.start();
    }
    await this.current.waitFor(
      (r) => r.msg === "guest ready",
      60_000,
      `the last ${this.name} ready`,
    );
    return this.current;
  }
}

/** Starts a guest that is never killed and waits until it is ready. */
async function runReady(
  bed: Testbed,
  name: string,
  credential: string,
  args: readonly string[],
): Promise<TestProcess> {
  const p = bed.runGuest(name, credential, args);
  await p.waitFor((r) => r.msg === "guest ready", 60_000, `${name} ready`);
  return p;
}

/** A workload's flags: `--workload W --port P --peer D`, then any more. */
function workload(name: string, port: number, peer: number, ...more: string[]): string[] {
  return ["--workload", name, "--port", String(port), "--peer", String(peer), ...more];
}

async function twoGuests(names: readonly [string, string] = ["sink", "sender"]): Promise<{
  bed: Testbed;
  sink: number;
  sender: number;
  creds: string[];
}> {
  const bed = await Testbed.start();
  const s = await bed.domain(names[0]);
  const t = await bed.domain(names[1]);
  return { bed, sink: s.domid, sender: t.domid, creds: [s.credential, t.credential] };
}

function assertClean(sink: TestProcess): void {
  const stats = sink.last("guest stats");
  for (const key of ["gaps", "lost", "duplicates", "reordered", "malformed"])
    assert.equal(num(stats, key), 0, `the sink saw no ${key}: ${JSON.stringify(stats)}`);
}

test(
  `a sink SIGKILLed ${KILLS} times at seeded random points under traffic resumes its checker from its memory: every message counted exactly once, one stream`,
  { timeout: 60_000 + KILLS * 10_000 },
  async () => {
    const rand = seededRandom(propertySeed(`guest kills (sink, ${KILLS})`));
    const { bed, sink, sender, creds } = await twoGuests();
    const count = Math.round(RATE * (KILLS * 1.5 + 3));
    try {
      const sinkGuest = new KillableGuest(bed, "sink", creds[0] ?? "", workload("sink", 9, sender));
      sinkGuest.start();
      await sinkGuest.current.waitFor((r) => r.msg === "guest ready", 60_000, "sink ready");
      const tx = await runReady(
        bed,
        "sender",
        creds[1] ?? "",
        workload("traffic", 9, sink, "--rate", String(RATE), "--count", String(count)),
      );
      const final = await sinkGuest.killRepeatedly(rand, KILLS);
      await tx.waitFor(
        (r) => r.msg === "guest stats" && num(r, "sent") === count,
        120_000,
        `the sender's ${count} messages accepted`,
      );
      await final.waitFor(
        (r) => r.msg === "guest stats" && num(r, "received") >= count,
        120_000,
        `the sink counting ${count} messages`,
      );
      await sleep(500); // a duplicate would show up after the count was reached
      assertClean(final);
      assert.equal(latest(final, "received"), count, "every message counted exactly once");
      assert.equal(latest(final, "streams"), 1, "one stream across every restart");
      console.log(
        `sink kills: ${KILLS} kills, ${sinkGuest.runs.length} runs, ${count} messages sent, ` +
          `${latest(final, "received")} counted, 1 stream, 0 gaps/lost/duplicates/reordered`,
      );
    } finally {
      await bed.stopAll();
    }
  },
);

test(
  `a sender SIGKILLed ${KILLS} times at seeded random points starts a new stream epoch each time: no gap, duplicate or reorder at the sink, and every message each run saw accepted arrives`,
  { timeout: 60_000 + KILLS * 10_000 },
  async () => {
    const rand = seededRandom(propertySeed(`guest kills (sender, ${KILLS})`));
    const { bed, sink, sender, creds } = await twoGuests();
    try {
      const rx = await runReady(bed, "sink", creds[0] ?? "", workload("sink", 9, sender));
      const senderGuest = new KillableGuest(
        bed,
        "sender",
        creds[1] ?? "",
        workload("traffic", 9, sink, "--rate", String(RATE)),
      );
      senderGuest.start();
      const last = await senderGuest.killRepeatedly(rand, KILLS);
      await sleep(1000);
      await last.child.stop();
      // What each run saw accepted (its last stats line: a lower bound for the killed ones, the
      // exact figure for the last, which stopped cleanly), and its epoch.
      const sentAtLeast = senderGuest.runs.map((p) => latest(p, "sent") || 0);
      const tags = senderGuest.runs.map((p) => latest(p, "tag")).filter((t) => !Number.isNaN(t));
      const total = sentAtLeast.reduce((a, b) => a + b, 0);
      // A run killed before its first stats line took an epoch unseen here: steps of 1 or more.
      tags.slice(1).forEach((t, i) => {
        const step = (t - (tags[i] ?? 0)) >>> 0;
        assert.ok(step >= 1 && step <= KILLS, `epoch tags increase: ${tags[i]} then ${t}`);
      });
      await rx.waitFor(
        (r) => r.msg === "guest stats" && num(r, "received") >= total,
        60_000,
        `the sink receiving at least the ${total} messages the senders saw accepted`,
      );
      await sleep(500);
      assertClean(rx);
      const streams = latest(rx, "streams");
      console.log(
        `sender kills: ${KILLS} kills, ${senderGuest.runs.length} runs (${tags.length} seen ` +
          `sending), at least ${total} accepted, ${latest(rx, "received")} counted in ${streams} ` +
          `streams, 0 gaps/lost/duplicates/reordered`,
      );
      const sending = sentAtLeast.filter((n) => n > 0).length;
      assert.ok(
        streams >= sending && streams <= senderGuest.runs.length,
        `one stream per epoch that sent: ${streams} streams, ${sending} runs seen sending, ${senderGuest.runs.length} runs`,
      );
    } finally {
      await bed.stopAll();
    }
  },
);

/** Pings as fast as replies come (2 ms apart), each waiting long enough to outlive an echo restart. */
function pingArgs(echo: number): string[] {
  return workload("ping", 7, echo, "--interval-ms", "2", "--timeout-ms", "30000");
}

/**
 * What a pinger must show after a clean stop: no ping lost or late, and every ping it numbered
 * accounted for as answered or failed to send (the one out at the stop is not numbered yet).
 */
function assertPingerClean(p: TestProcess): void {
  const stats = p.last("guest stats");
  assert.equal(num(stats, "lost"), 0, `no ping lost: ${JSON.stringify(stats)}`);
  assert.equal(num(stats, "late"), 0, `no reply late: ${JSON.stringify(stats)}`);
  assert.equal(
    num(stats, "received") + num(stats, "errors"),
    num(stats, "next"),
    `every ping answered or failed: ${JSON.stringify(stats)}`,
  );
}

/** Waits until `p` saw `more` replies beyond what it had, then stops it cleanly. */
async function pingOnThenStop(p: TestProcess, more: number): Promise<void> {
  const base = latest(p, "received") || 0;
  await p.waitFor(
    (r) => r.msg === "guest stats" && num(r, "received") >= base + more,
    90_000,
    `${more} more replies`,
  );
  await p.child.stop();
}

test(
  `an echo SIGKILLed ${KILLS} times at seeded random points answers every request it took: its pinger loses no ping, and a second reply counts as a re-delivery`,
  { timeout: 90_000 + KILLS * 10_000 },
  async () => {
    const rand = seededRandom(propertySeed(`guest kills (echo, ${KILLS})`));
    const { bed, sink: echo, sender: pinger, creds } = await twoGuests(["echo", "pinger"]);
    try {
      const echoGuest = new KillableGuest(bed, "echo", creds[0] ?? "", workload("echo", 7, pinger));
      echoGuest.start();
      await echoGuest.current.waitFor((r) => r.msg === "guest ready", 60_000, "echo ready");
      const ping = await runReady(bed, "pinger", creds[1] ?? "", pingArgs(echo));
      await echoGuest.killRepeatedly(rand, KILLS);
      // A request the echo had taken and not answered would hold the pinger for 30 s, then
      // count as lost: replies flowing again after the last restart show none is held.
      await pingOnThenStop(ping, 200);
      assertPingerClean(ping);
      console.log(
        `echo kills: ${KILLS} kills, ${echoGuest.runs.length} runs, ${latest(ping, "next")} pings, ` +
          `${latest(ping, "received")} answered, ${latest(ping, "redelivered")} re-delivered, ` +
          `0 lost/late`,
      );
    } finally {
      await bed.stopAll();
    }
  },
);

test(
  `a pinger SIGKILLed ${KILLS} times at seeded random points resumes its counters from its memory: no count restarts at 0, no ping lost, every ping accounted for`,
  { timeout: 90_000 + KILLS * 10_000 },
  async () => {
    const rand = seededRandom(propertySeed(`guest kills (pinger, ${KILLS})`));
    const { bed, sink: echo, sender: pinger, creds } = await twoGuests(["echo", "pinger"]);
    try {
      await runReady(bed, "echo", creds[0] ?? "", workload("echo", 7, pinger));
      const pingGuest = new KillableGuest(bed, "pinger", creds[1] ?? "", pingArgs(echo));
      pingGuest.start();
      const last = await pingGuest.killRepeatedly(rand, KILLS);
      await pingOnThenStop(last, 200);
      assertPingerClean(last);
      // Each run, once ready (its record read back), carries on from what the runs before it
      // showed, less the one reply a kill may catch counted but not yet on record.
      let most = 0;
      for (const [k, run] of pingGuest.runs.entries()) {
        const ready = run.records.findIndex((r) => r.msg === "guest ready");
        const first = run.records.find((r, i) => i > ready && r.msg === "guest stats");
        if (ready >= 0 && first !== undefined)
          assert.ok(
            num(first, "received") >= most - 1,
            `run ${k} started from ${num(first, "received")} replies, not ${most}`,
          );
        for (const r of run.records)
          if (r.msg === "guest stats") most = Math.max(most, num(r, "received"));
      }
      assert.equal(latest(last, "received"), most, "the last run holds the most replies");
      console.log(
        `pinger kills: ${KILLS} kills, ${pingGuest.runs.length} runs, ${latest(last, "next")} ` +
          `pings, ${latest(last, "received")} answered, ${latest(last, "resent")} re-sent, ` +
          `${latest(last, "redelivered")} re-delivered, 0 lost/late`,
      );
    } finally {
      await bed.stopAll();
    }
  },
);
