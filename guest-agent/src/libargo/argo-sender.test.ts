// SPDX-License-Identifier: Apache-2.0
/**
 * `ArgoSender`, the send half datagram sockets and virtio-argo channels share, against a
 * scripted hypercall client: each rule of its outcome ladder (argo-sender.ts) — -EAGAIN parks
 * until a VIRQ and keeps order, a VIRQ during the batch retries at once, -EBUSY retries on a
 * timer, another errno fails only its message, a lost link fails the batch, close rejects what
 * is queued but lets the batch in flight finish — and, with several batches in flight, against
 * a small in-order "hypervisor" that honours dependent batches and has a ring that fills up:
 * whatever stops where, every message is delivered once, in order.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { seededRandom } from "@hmx/hypervisor";
import { ARGO_DOMID_ANY, Errno } from "@hmx/proto/abi";
import { until, untilTurns } from "@hmx/virtio/test-utils";
import type {
  BatchChain,
  BatchOptions,
  HypercallClient,
  HypercallOp,
  HypercallOutcome,
} from "../hypercall/hypercall-client.js";
import {
  ArgoSender,
  type SendBatch,
  type SenderHost,
  type SenderStats,
  type SendOwner,
  type Wakeable,
} from "./argo-sender.js";

/**
 * The ret each sendv of one batch comes back with (a message's id is its dst aport). The first
 * send goes out alone at once; the messages queued while it is out travel together next.
 */
type Script = (ids: readonly number[]) => readonly number[] | Error;

const SKIPPED: HypercallOutcome = { op: "status", code: status.ABORTED, message: "skipped" };

/** Both fake hosts park senders and wake them all on a VIRQ, as the endpoint does. */
abstract class ParkingHost {
  virqs = 0;
  readonly parked = new Set<Wakeable>();

  virqCount(): number {
    return this.virqs;
  }
  park(s: Wakeable): void {
    this.parked.add(s);
  }
  unpark(s: Wakeable): void {
    this.parked.delete(s);
  }
  /** A VIRQ: count it and wake the parked. */
  virq(): void {
    this.virqs++;
    for (const s of [...this.parked]) s.wake();
  }
}

/** A host whose client answers each batch from `scripts` (all sent once they run out). */
class ScriptedHost extends ParkingHost implements SenderHost {
  /** The message ids of each batch, in order. */
  readonly batches: number[][] = [];
  readonly scripts: Script[] = [];
  /** Resolves the batch in flight when set (to hold one open). */
  hold: Promise<void> | null = null;
  readonly client = {
    batch: async (ops: readonly HypercallOp[]): Promise<HypercallOutcome[]> => {
      const ids = ops.map((o) => (o.op === "sendv" ? o.dst.aport : -1));
      this.batches.push(ids);
      await this.hold;
      const rets = (this.scripts.shift() ?? ((i) => i.map(() => 1)))(ids);
      if (rets instanceof Error) throw rets;
      // stopOnError: the calls after the first failure are skipped.
      const failed = rets.findIndex((r) => r < 0);
      return rets.map((ret, i) =>
        failed >= 0 && i > failed
          ? SKIPPED
          : ({ op: ops[i]?.op ?? "sendv", ret } as HypercallOutcome),
      );
    },
  } as unknown as HypercallClient;
}

/** An owner whose batches carry every queued message, one sendv each. */
const owner: SendOwner<number> = {
  build: (queue): SendBatch<number> => {
    const ops: HypercallOp[] = [];
    for (let i = 0; i < queue.pending; i++) {
      ops.push({
        op: "sendv",
        src: { aport: 1, domainId: ARGO_DOMID_ANY },
        dst: { aport: queue.at(i) ?? -1, domainId: 2 },
        iovs: [],
        messageType: 0,
      });
    }
    return {
      ops,
      count: ops.length,
      checkPrefix: () => null,
      lost: (cause) => (m) => new Error(`lost ${m}: ${String(cause)}`),
    };
  },
  refused: (m, ret) => new Error(`refused ${m}: ${ret}`),
  status: (m, code) => new Error(`status ${m}: ${code}`),
  closed: (m) => new Error(`closed ${m}`),
  broken: (m) => new Error(`broken ${m}`),
};

function sender(
  host: SenderHost,
  sendOwner: SendOwner<number> = owner,
  maxInFlight?: number,
): { s: ArgoSender<number>; stats: SenderStats } {
  const stats: SenderStats = {
    sent: 0,
    sentBytes: 0,
    eagains: 0,
    ebusys: 0,
    batches: 0,
    sendErrors: 0,
  };
  const options = maxInFlight === undefined ? undefined : { maxInFlight };
  return { s: new ArgoSender(host, sendOwner, stats, options), stats };
}

/** An owner whose batches carry at most `most` queued messages. */
function ownerOf(most: number): SendOwner<number> {
  return {
    ...owner,
    build: (queue) =>
      owner.build({ pending: Math.min(most, queue.pending), at: (i) => queue.at(i) }),
  };
}

/**
 * A host whose client runs batches one at a time in call order, each on a later turn, the way
 * the Session service does: stopOnError, dependent batches on a chain, and a ring of `room`
 * messages that a sendv fills (-EAGAIN when full) and `consume` empties, with a VIRQ. Message
 * ids for which `refuse` holds come back -ECONNREFUSED.
 */
class RingHost extends ParkingHost implements SenderHost {
  /** What each sendv put in the ring, in order: each message exactly once, in order. */
  readonly delivered: number[] = [];
  ring: number[] = [];
  /** The message ids of each batch, and whether it was sent after another on its chain. */
  readonly batches: { ids: number[]; chained: boolean }[] = [];
  inFlight = 0;
  mostInFlight = 0;
  /** Set on each batch as it runs: -EBUSY for its first sendv (then cleared). */
  busyOnce = false;
  /** While set, no batch runs (to hold some out). */
  gate: Promise<void> | null = null;
  readonly #chains = new WeakMap<BatchChain, { ok: boolean }>();
  #tail: Promise<void> = Promise.resolve();

  constructor(
    public room: number,
    private readonly refuse: (id: number) => boolean = () => false,
    readonly dependentBatches = true,
  ) {
    super();
    (this.client as { dependentBatches: boolean }).dependentBatches = dependentBatches;
  }

  readonly client = {
    dependentBatches: true,
    batch: (ops: readonly HypercallOp[], options?: BatchOptions): Promise<HypercallOutcome[]> => {
      const ids = ops.map((o) => (o.op === "sendv" ? o.dst.aport : -1));
      const chain = this.dependentBatches ? options?.chain : undefined;
      const before = chain === undefined ? undefined : this.#chains.get(chain);
      const ran = { ok: false };
      if (chain !== undefined) this.#chains.set(chain, ran);
      this.batches.push({ ids, chained: before !== undefined });
      this.inFlight++;
      this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
      const run = this.#tail
        .then(async () => await this.gate)
        .then(
          () =>
            new Promise<HypercallOutcome[]>((resolve) => {
              setImmediate(() => {
                this.inFlight--;
                let stopped = before !== undefined && !before.ok;
                const out = ids.map((id): HypercallOutcome => {
                  if (stopped) return SKIPPED;
                  let ret = 1;
                  if (this.refuse(id)) ret = -Errno.ECONNREFUSED;
                  else if (this.busyOnce) ret = -Errno.EBUSY;
                  else if (this.ring.length >= this.room) ret = -Errno.EAGAIN;
                  this.busyOnce = false;
                  if (ret < 0) stopped = options?.stopOnError === true;
                  else {
                    this.ring.push(id);
                    this.delivered.push(id);
                  }
                  return { op: "sendv", ret };
                });
                const last = out[out.length - 1];
                ran.ok = last?.op === "sendv" && last.ret >= 0;
                resolve(out);
              });
            }),
        );
      this.#tail = run.then(() => undefined);
      return run;
    },
  } as unknown as HypercallClient;

  /** The receiver takes `n` messages (all by default) and notifies: a VIRQ. */
  consume(n = this.ring.length): void {
    this.ring = this.ring.slice(n);
    this.virq();
  }
}

/** What each send settled with: "sent" or the error's message. */
function outcome(p: Promise<number>): Promise<string> {
  return p.then(
    () => "sent",
    (e: unknown) => (e as Error).message,
  );
}

describe("argo sender (the send half of sockets and channels)", { timeout: 10_000 }, () => {
  it("a sendv refused with -EAGAIN parks the sender until the next VIRQ; then it and the messages behind it go, in order", async () => {
    const host = new ScriptedHost();
    host.scripts.push(
      () => [1],
      () => [-Errno.EAGAIN, 1],
    );
    const { s, stats } = sender(host);
    const sends = [10, 11, 12].map((m) => outcome(s.send(m)));
    await until("parked", () => host.parked.size === 1);
    assert.equal(s.pending, 2);
    assert.equal(host.batches.length, 2);
    host.virq();
    assert.deepEqual(await Promise.all(sends), ["sent", "sent", "sent"]);
    assert.deepEqual(host.batches, [[10], [11, 12], [11, 12]]);
    assert.equal(stats.eagains, 1);
    assert.equal(stats.sent, 3);
  });

  it("a VIRQ that arrives while the batch is out makes an -EAGAIN retry at once, without parking", async () => {
    const host = new ScriptedHost();
    host.scripts.push(() => {
      host.virq(); // the waiter fired before the reply came back
      return [-Errno.EAGAIN];
    });
    const { s } = sender(host);
    const sent = outcome(s.send(10));
    // Event-loop turns, not time: a parked sender would wait a second for its backstop.
    await untilTurns("the retry", () => host.batches.length === 2);
    assert.equal(host.parked.size, 0);
    assert.equal(await sent, "sent");
  });

  it("-EBUSY (no waiter queued) retries on a timer with no VIRQ", async () => {
    const host = new ScriptedHost();
    host.scripts.push(() => [-Errno.EBUSY]);
    const { s, stats } = sender(host);
    assert.equal(await outcome(s.send(10)), "sent");
    assert.equal(stats.ebusys, 1);
    assert.equal(host.virqs, 0);
    assert.equal(host.batches.length, 2);
  });

  it("another negative ret fails only its message; the skipped ones behind it go in the next batch", async () => {
    const host = new ScriptedHost();
    host.scripts.push(
      () => [1],
      () => [-Errno.ECONNREFUSED, 1],
    );
    const { s, stats } = sender(host);
    const sends = [10, 11, 12].map((m) => outcome(s.send(m)));
    assert.deepEqual(await Promise.all(sends), [
      "sent",
      `refused 11: ${-Errno.ECONNREFUSED}`,
      "sent",
    ]);
    assert.equal(stats.sendErrors, 1);
    assert.deepEqual(host.batches, [[10], [11, 12], [12]]);
  });

  it("a multicall lost with the link fails every message of that batch with the owner's error", async () => {
    const host = new ScriptedHost();
    host.scripts.push(
      () => [1],
      () => new Error("link down"),
    );
    const { s } = sender(host);
    const sends = [10, 11, 12].map((m) => outcome(s.send(m)));
    assert.deepEqual(await Promise.all(sends), [
      "sent",
      "lost 11: Error: link down",
      "lost 12: Error: link down",
    ]);
  });

  it("trailing calls ride after the sendvs and run only if every sendv was accepted: an -EAGAIN skips them until the retry", async () => {
    const host = new ScriptedHost();
    host.scripts.push(
      () => [1, 0],
      () => [-Errno.EAGAIN, 1, 0],
      () => [1, 1, 0],
    );
    const settled: string[] = [];
    const trailingOwner: SendOwner<number> = {
      ...owner,
      build: (queue) => {
        const batch = owner.build(queue) as SendBatch<number>;
        const store: HypercallOp = { op: "writeMemory", gpa: 0, data: Buffer.alloc(4) };
        return {
          ...batch,
          ops: [...batch.ops, store],
          trailing: 1,
          settleTrailing: (outcomes) => {
            const o = outcomes[0];
            settled.push(o?.op === "writeMemory" ? `ran ${o.ret}` : "skipped");
          },
        };
      },
    };
    const stats: SenderStats = {
      sent: 0,
      sentBytes: 0,
      eagains: 0,
      ebusys: 0,
      batches: 0,
      sendErrors: 0,
    };
    const s = new ArgoSender(host, trailingOwner, stats);
    const sends = [10, 11, 12].map((m) => outcome(s.send(m)));
    await until("parked", () => host.parked.size === 1);
    assert.deepEqual(
      settled,
      ["ran 0", "skipped"],
      "11's sendv failed: the trailing call did not run",
    );
    host.virq();
    assert.deepEqual(await Promise.all(sends), ["sent", "sent", "sent"]);
    assert.deepEqual(host.batches, [
      [10, -1],
      [11, 12, -1],
      [11, 12, -1],
    ]);
    assert.deepEqual(settled, ["ran 0", "skipped", "ran 0"]);
  });

  it("close lets the batch in flight finish and rejects what is queued behind it", async () => {
    const host = new ScriptedHost();
    let release = (): void => undefined;
    host.hold = new Promise((r) => (release = r));
    const { s } = sender(host);
    const first = outcome(s.send(10));
    await until("the first batch is out", () => host.batches.length === 1);
    const second = outcome(s.send(11));
    const closed = s.close();
    release();
    await closed;
    assert.equal(await first, "sent");
    assert.equal(await second, "closed 11");
    assert.equal(host.batches.length, 1);
  });

  it("close of a parked sender rejects its queue at once", async () => {
    const host = new ScriptedHost();
    host.scripts.push(() => [-Errno.EAGAIN]);
    const { s } = sender(host);
    const first = outcome(s.send(10));
    await until("parked", () => host.parked.size === 1);
    await s.close();
    assert.equal(await first, "closed 10");
    assert.equal(host.parked.size, 0);
  });

  it("with dependent batches, the next batch goes out while one is in flight, after it on its chain", async () => {
    const host = new RingHost(1000);
    const { s, stats } = sender(host, ownerOf(2), 3);
    const sends = [1, 2, 3, 4, 5, 6, 7].map((m) => outcome(s.send(m)));
    assert.deepEqual(await Promise.all(sends), Array(7).fill("sent"));
    assert.deepEqual(host.delivered, [1, 2, 3, 4, 5, 6, 7]);
    assert.equal(host.mostInFlight, 3, "three batches of two were out at once");
    assert.deepEqual(
      host.batches.map((b) => [b.ids, b.chained]),
      [
        // The first send goes out at once; what was sent in the same task follows together.
        [[1], false],
        [[2, 3], true],
        [[4, 5], true],
        [[6, 7], true],
      ],
    );
    assert.equal(stats.batches, 4);
    // Once the pipeline emptied, the next batch starts a new chain: it depends on nothing.
    assert.equal(await outcome(s.send(8)), "sent");
    assert.equal(host.batches[4]?.chained, false);
  });

  it("a client that does not honour dependent batches gets one batch at a time", async () => {
    const host = new RingHost(1000, () => false, false);
    const { s } = sender(host, ownerOf(2), 3);
    const sends = [1, 2, 3, 4, 5].map((m) => outcome(s.send(m)));
    assert.deepEqual(await Promise.all(sends), Array(5).fill("sent"));
    assert.equal(host.mostInFlight, 1);
    assert.deepEqual(host.delivered, [1, 2, 3, 4, 5]);
  });

  it("batch N stops at -EAGAIN while N+1 is in flight: N+1 is skipped whole, and after the VIRQ N's rest and N+1 go, in order", async () => {
    const host = new RingHost(2);
    const { s, stats } = sender(host, ownerOf(2), 2);
    const sends = [1, 2, 3, 4, 5].map((m) => outcome(s.send(m)));
    await until("parked", () => host.parked.size === 1);
    // [1] went in; [2, 3] stopped at 3 (ring full) while [4, 5], sent once [1] was answered,
    // was out: it ran after 3, so it ran nothing.
    assert.deepEqual(host.delivered, [1, 2]);
    assert.deepEqual(
      host.batches.map((b) => [b.ids, b.chained]),
      [
        [[1], false],
        [[2, 3], true],
        [[4, 5], true],
      ],
    );
    assert.equal(s.pending, 3, "3, 4 and 5 are queued again, nothing was lost");
    assert.equal(host.inFlight, 0);
    host.room = 1000;
    host.consume();
    assert.deepEqual(await Promise.all(sends), Array(5).fill("sent"));
    assert.deepEqual(host.delivered, [1, 2, 3, 4, 5]);
    assert.deepEqual(
      host.batches.slice(3).map((b) => b.ids),
      [[3, 4], [5]],
      "the stopped batch's rest first, then the skipped batch's messages",
    );
    assert.equal(stats.eagains, 1);
  });

  it("a refused message in batch N fails alone; N+1, skipped behind it, goes again after N's rest", async () => {
    const host = new RingHost(1000, (id) => id === 2);
    const { s, stats } = sender(host, ownerOf(3), 2);
    const sends = [1, 2, 3, 4, 5, 6].map((m) => outcome(s.send(m)));
    assert.deepEqual(await Promise.all(sends), [
      "sent",
      `refused 2: ${-Errno.ECONNREFUSED}`,
      "sent",
      "sent",
      "sent",
      "sent",
    ]);
    assert.deepEqual(host.delivered, [1, 3, 4, 5, 6]);
    assert.equal(stats.sendErrors, 1);
  });

  it("close with batches in flight lets them settle, then rejects the rest in order", async () => {
    const host = new RingHost(1);
    let release = (): void => undefined;
    host.gate = new Promise((r) => (release = r));
    const { s } = sender(host, ownerOf(1), 2);
    const sends = [1, 2, 3].map((m) => outcome(s.send(m)));
    await untilTurns("both out", () => host.batches.length === 2);
    const closed = s.close();
    release();
    await closed;
    // [2] found the ring full (1 message): a closing sender does not wait for room.
    assert.deepEqual(await Promise.all(sends), ["sent", "closed 2", "closed 3"]);
    assert.deepEqual(host.delivered, [1]);
    assert.equal(host.batches.length, 2, "nothing was sent once closing");
  });

  it("whatever stops where, every message is delivered once and in order, or refused (property)", async () => {
    const seed = Number(process.env["HMX_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`argo-sender pipeline seed ${seed} (replay with HMX_TEST_SEED=${seed})`);
    const random = seededRandom(seed);
    for (let run = 0; run < 40; run++) {
      const refused = new Set<number>();
      const count = 1 + Math.floor(random() * 60);
      for (let id = 1; id <= count; id++) if (random() < 0.05) refused.add(id);
      const host = new RingHost(1 + Math.floor(random() * 8), (id) => refused.has(id));
      const inFlight = 1 + Math.floor(random() * 4);
      const { s } = sender(host, ownerOf(1 + Math.floor(random() * 6)), inFlight);
      let settled = 0;
      const sends: Promise<string>[] = [];
      const settle = (p: Promise<string>): Promise<string> =>
        p.finally(() => {
          settled++;
        });
      for (let id = 1; id <= count; id++) {
        sends.push(settle(outcome(s.send(id))));
        if (random() < 0.2) await new Promise((r) => setImmediate(r));
      }
      for (let turn = 0; settled < count; turn++) {
        assert.ok(turn < 100_000, `run ${run} (seed ${seed}): stuck with ${count - settled} left`);
        await new Promise((r) => setImmediate(r));
        if (random() < 0.02) host.busyOnce = true;
        if (host.parked.size > 0 || random() < 0.3)
          host.consume(Math.floor(random() * (host.ring.length + 1)));
      }
      const want = Array.from({ length: count }, (_, i) => i + 1);
      assert.deepEqual(
        host.delivered,
        want.filter((id) => !refused.has(id)),
        `run ${run} (seed ${seed}): delivered once each, in order`,
      );
      assert.deepEqual(
        await Promise.all(sends),
        want.map((id) => (refused.has(id) ? `refused ${id}: ${-Errno.ECONNREFUSED}` : "sent")),
        `run ${run} (seed ${seed})`,
      );
      assert.ok(host.mostInFlight <= inFlight, `run ${run}: at most ${inFlight} in flight`);
      await s.close();
    }
  });
});
