// SPDX-License-Identifier: Apache-2.0
/**
 * `ArgoSender`, the send half datagram sockets and virtio-argo channels share, against a
 * scripted hypercall client: each rule of its outcome ladder (argo-sender.ts) — -EAGAIN parks
 * until a VIRQ and keeps order, a VIRQ during the batch retries at once, -EBUSY retries on a
 * timer, another errno fails only its message, a lost link fails the batch, close rejects what
 * is queued but lets the batch in flight finish.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { status } from "@grpc/grpc-js";
import { ARGO_DOMID_ANY, Errno } from "@hmx/proto/abi";
import { until, untilTurns } from "@hmx/virtio/test-utils";
import type {
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

/** A host whose client answers each batch from `scripts` (all sent once they run out). */
class ScriptedHost implements SenderHost {
  virqs = 0;
  readonly parked = new Set<Wakeable>();
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

  virqCount(): number {
    return this.virqs;
  }
  park(s: Wakeable): void {
    this.parked.add(s);
  }
  unpark(s: Wakeable): void {
    this.parked.delete(s);
  }
  /** A VIRQ: count it and wake the parked, as the endpoint does. */
  virq(): void {
    this.virqs++;
    for (const s of [...this.parked]) s.wake();
  }
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

function sender(host: ScriptedHost): { s: ArgoSender<number>; stats: SenderStats } {
  const stats: SenderStats = {
    sent: 0,
    sentBytes: 0,
    eagains: 0,
    ebusys: 0,
    batches: 0,
    sendErrors: 0,
  };
  return { s: new ArgoSender(host, owner, stats), stats };
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
});
