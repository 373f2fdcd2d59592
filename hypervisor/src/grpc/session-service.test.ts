// SPDX-License-Identifier: Apache-2.0
/**
 * The Session stream's rules (hypervisor.proto, DESIGN.md §3.2), checked with raw frames so the
 * protocol itself is under test, not a client's interpretation of it.
 */
import * as grpc from "@grpc/grpc-js";
import {
  ARGO_DOMID_ANY,
  Errno,
  MAX_MEMORY_ACCESS,
  FIRST_GUEST_GFN,
  PAGE_SIZE,
  RING_RX_PTR_OFFSET,
  VIRQ_ARGO,
} from "@hmx/proto/abi";
import type { Hypercall } from "@hmx/proto/gen/hmx/argo/v1/Hypercall.js";
import type { SessionOpen } from "@hmx/proto/gen/hmx/argo/v1/SessionOpen.js";
import type { SessionReady__Output } from "@hmx/proto/gen/hmx/argo/v1/SessionReady.js";
import type { SessionRequest } from "@hmx/proto/gen/hmx/argo/v1/SessionRequest.js";
import type { SessionResponse__Output } from "@hmx/proto/gen/hmx/argo/v1/SessionResponse.js";
import type { HypercallResult__Output } from "@hmx/proto/gen/hmx/argo/v1/HypercallResult.js";
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { VIRQ_RING_BYTES_MAX } from "./virq-ring-data.js";
import {
  startTestHypervisor,
  type TestGuest,
  type TestHypervisor,
} from "../test-utils/test-hypervisor.js";

/** A Session stream with an awaitable queue of incoming frames. */
class RawSession {
  readonly call: grpc.ClientDuplexStream<SessionRequest, SessionResponse__Output>;
  private readonly frames: SessionResponse__Output[] = [];
  /** Every frame's kind, in arrival order. */
  readonly arrived: (string | undefined)[] = [];
  private waiters: (() => void)[] = [];
  status: grpc.StatusObject | undefined;
  error: grpc.ServiceError | undefined;

  constructor(guest: TestGuest) {
    this.call = guest.client.session(guest.metadata);
    this.call.on("data", (f: SessionResponse__Output) => {
      this.frames.push(f);
      this.arrived.push(f.kind);
      this.wake();
    });
    this.call.on("error", (err: grpc.ServiceError) => {
      this.error = err;
      this.wake();
    });
    this.call.on("status", (s: grpc.StatusObject) => {
      this.status = s;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(frame: SessionRequest): void {
    this.call.write(frame);
  }

  /** Sends `open` and waits for the answer: the session's `ready`. */
  async open(open: SessionOpen = {}): Promise<SessionReady__Output | null | undefined> {
    this.send({ open });
    return (await this.next("ready")).ready;
  }

  /** The next frame that is not a VIRQ event (unless `events` is set). */
  async next(kind?: "ready" | "results" | "event"): Promise<SessionResponse__Output> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const i = this.frames.findIndex((f) =>
        kind === undefined ? f.kind !== "event" : f.kind === kind,
      );
      const [frame] = i >= 0 ? this.frames.splice(i, 1) : [];
      if (frame !== undefined) return frame;
      if (this.error !== undefined) throw this.error;
      if (Date.now() > deadline) throw new Error(`no ${kind ?? "frame"} within 5 s`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  async results(): Promise<HypercallResult__Output[]> {
    return (await this.next("results")).results?.results ?? [];
  }

  async ended(): Promise<grpc.ServiceError> {
    const deadline = Date.now() + 5000;
    while (this.error === undefined) {
      if (Date.now() > deadline) throw new Error("session did not end within 5 s");
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.error;
  }
}

const GPA = String(FIRST_GUEST_GFN * PAGE_SIZE);

function write(id: number, data: string) {
  return { requestId: String(id), writeMemory: { gpa: GPA, data: Buffer.from(data) } };
}
function read(id: number, length: number) {
  return { requestId: String(id), readMemory: { gpa: GPA, length } };
}

describe("Session stream", () => {
  let t: TestHypervisor;
  before(async () => {
    t = await startTestHypervisor({ resumeWindow: 16, maxBatch: 32 });
  });
  after(async () => {
    await t.stop();
  });

  /** A guest with a Session opened and its `ready` frame read. */
  async function openSession(name: string, memoryBytes?: number) {
    const g = await t.createGuest(name, memoryBytes);
    const s = new RawSession(g);
    await s.open();
    return { g, s };
  }

  test("the first frame must be open; a batch first ends the session with INVALID_ARGUMENT", async () => {
    const g = await t.createGuest("first-frame");
    const s = new RawSession(g);
    s.send({ batch: { calls: [read(1, 1)] } });
    assert.equal((await s.ended()).code, grpc.status.INVALID_ARGUMENT);
  });

  test("ready reports the domid, the last executed request id and the limits", async () => {
    const g = await t.createGuest("ready");
    const s = new RawSession(g);
    const ready = await s.open({ ackThrough: "0" });
    assert.deepEqual(ready, {
      domid: g.domid,
      lastExecuted: "0",
      resumeWindow: 16,
      maxBatch: 32,
      virqRingBytes: 0,
      dependentBatches: true,
    });
    s.call.end();
  });

  test("a batch executes strictly in order and stop_on_error skips the calls after the first failure", async () => {
    const { g, s } = await openSession("ordered");
    s.send({
      batch: {
        stopOnError: true,
        calls: [
          write(1, "abc"),
          read(2, 3),
          {
            requestId: "3",
            sendv: {
              src: { aport: 1, domainId: ARGO_DOMID_ANY },
              dst: { domainId: g.domid, aport: 99 },
              iovs: [],
              messageType: 0,
            },
          },
          write(4, "zzz"),
        ],
      },
    });
    const results = await s.results();
    assert.deepEqual(
      results.map((r) => [r.requestId, r.outcome]),
      [
        ["1", "writeMemory"],
        ["2", "readMemory"],
        ["3", "sendv"],
        ["4", "status"],
      ],
    );
    assert.equal(
      results[1]?.readMemory?.data.toString(),
      "abc",
      "the read saw the write before it",
    );
    assert.equal(results[2]?.sendv?.ret, -Errno.ECONNREFUSED);
    assert.equal(results[3]?.status?.code, grpc.status.ABORTED);
    const check = await g.call<{ data: Buffer }>("ReadMemory", { gpa: GPA, length: 3 });
    assert.equal(check.data.toString(), "abc", "the skipped write did not run");
    s.call.end();
  });

  test("a batch (multicall) with a WriteMemory into gfn 0 fails that call with -EFAULT, writes nothing there, and stop_on_error skips the rest", async () => {
    const { g, s } = await openSession("gfn0-batch");
    s.send({
      batch: {
        stopOnError: true,
        calls: [
          write(1, "ok1"),
          { requestId: "2", writeMemory: { gpa: "0", data: Buffer.from("forged table") } },
          write(3, "zzz"),
        ],
      },
    });
    const results = await s.results();
    assert.deepEqual(
      results.map((r) => [r.requestId, r.outcome]),
      [
        ["1", "writeMemory"],
        ["2", "writeMemory"],
        ["3", "status"],
      ],
    );
    assert.equal(results[0]?.writeMemory?.ret, 0);
    assert.equal(results[1]?.writeMemory?.ret, -Errno.EFAULT);
    assert.equal(results[2]?.status?.code, grpc.status.ABORTED);
    const gfn0 = await g.call<{ data: Buffer }>("ReadMemory", { gpa: "0", length: 12 });
    assert.deepEqual(gfn0.data, Buffer.alloc(12), "gfn 0 unchanged");
    const mine = await g.call<{ data: Buffer }>("ReadMemory", { gpa: GPA, length: 3 });
    assert.equal(mine.data.toString(), "ok1", "the call before ran, the skipped one did not");
    // Without stop_on_error the refusal is just that call's result; the rest run.
    s.send({
      batch: {
        calls: [
          { requestId: "4", writeMemory: { gpa: "0", data: Buffer.from("again") } },
          write(5, "ok5"),
        ],
      },
    });
    const more = await s.results();
    assert.equal(more[0]?.writeMemory?.ret, -Errno.EFAULT);
    assert.equal(more[1]?.writeMemory?.ret, 0);
    assert.deepEqual(
      (await g.call<{ data: Buffer }>("ReadMemory", { gpa: "0", length: 12 })).data,
      Buffer.alloc(12),
    );
    s.call.end();
  });

  test("a batch `after` a call that failed or was aborted, or never ran, runs none of its calls", async () => {
    const { g, s } = await openSession("after-failed");
    const refused = (id: number) => ({
      requestId: String(id),
      sendv: {
        src: { aport: 1, domainId: ARGO_DOMID_ANY },
        dst: { domainId: g.domid, aport: 99 },
        iovs: [],
        messageType: 0,
      },
    });
    // Three batches in flight at once, each after the last call of the one before: the first
    // stops at its sendv (no ring: -ECONNREFUSED), so its last call is ABORTED, and so on.
    s.send({ batch: { stopOnError: true, calls: [write(1, "abc"), refused(2), write(3, "zz3")] } });
    s.send({ batch: { stopOnError: true, after: "3", calls: [write(4, "zz4"), read(5, 3)] } });
    s.send({ batch: { after: "5", calls: [write(6, "zz6")] } });
    const results: HypercallResult__Output[] = [];
    while (results.length < 6) results.push(...(await s.results()));
    assert.deepEqual(
      results.map((r) => [r.requestId, r.outcome, r.status?.code]),
      [
        ["1", "writeMemory", undefined],
        ["2", "sendv", undefined],
        ["3", "status", grpc.status.ABORTED],
        ["4", "status", grpc.status.ABORTED],
        ["5", "status", grpc.status.ABORTED],
        ["6", "status", grpc.status.ABORTED],
      ],
    );
    assert.match(results[3]?.status?.message ?? "", /runs after did not succeed/);
    // A request id never executed (past the last one) and one never sent both abort.
    s.send({ batch: { after: "99", calls: [write(7, "zz7")] } });
    assert.equal((await s.results())[0]?.status?.code, grpc.status.ABORTED);
    const check = await g.call<{ data: Buffer }>("ReadMemory", { gpa: GPA, length: 3 });
    assert.equal(check.data.toString(), "abc", "no call of a dependent batch ran");
    // The aborted ids are consumed: they are answered from the log, not run on a resend.
    s.send({ batch: { calls: [write(4, "zz4"), write(7, "zz7")] } });
    assert.deepEqual(
      (await s.results()).map((r) => r.status?.code),
      [grpc.status.ABORTED, grpc.status.ABORTED],
    );
    assert.equal(
      (await g.call<{ data: Buffer }>("ReadMemory", { gpa: GPA, length: 3 })).data.toString(),
      "abc",
    );
    s.call.end();
  });

  test("a batch `after` a call that succeeded runs, pipelined behind it", async () => {
    const { g, s } = await openSession("after-ok");
    s.send({ batch: { stopOnError: true, calls: [write(1, "one")] } });
    s.send({ batch: { stopOnError: true, after: "1", calls: [read(2, 3), write(3, "two")] } });
    s.send({ batch: { stopOnError: true, after: "3", calls: [read(4, 3)] } });
    const results: HypercallResult__Output[] = [];
    while (results.length < 4) results.push(...(await s.results()));
    assert.deepEqual(
      results.map((r) => r.outcome),
      ["writeMemory", "readMemory", "writeMemory", "readMemory"],
    );
    assert.equal(results[1]?.readMemory?.data.toString(), "one");
    assert.equal(results[3]?.readMemory?.data.toString(), "two");
    // Any call that ran with ret >= 0 will do, not only the last of a batch.
    s.send({ batch: { after: "2", calls: [write(5, "thr")] } });
    assert.equal((await s.results())[0]?.writeMemory?.ret, 0);
    assert.equal(
      (await g.call<{ data: Buffer }>("ReadMemory", { gpa: GPA, length: 3 })).data.toString(),
      "thr",
    );
    s.call.end();
  });

  test("a dependent batch resent on a new session replays what ran and looks `after` up for the rest", async () => {
    const g = await t.createGuest("after-resume");
    const s1 = new RawSession(g);
    await s1.open();
    s1.send({ batch: { calls: [write(1, "one")] } });
    s1.send({ batch: { after: "1", calls: [write(2, "two")] } });
    await s1.results();
    await s1.results();
    // Overwrite behind the log's back: a re-run of request 2 would restore "two".
    await g.call("WriteMemory", { gpa: GPA, data: Buffer.from("xxx") });
    // Resent with one more call. While 1 is kept, the new call runs after the replayed one.
    const s2 = new RawSession(g);
    await s2.open();
    s2.send({ batch: { after: "1", calls: [write(2, "two"), read(3, 3)] } });
    const kept = await s2.results();
    assert.deepEqual(
      kept.map((r) => r.outcome),
      ["writeMemory", "readMemory"],
    );
    assert.equal(kept[1]?.readMemory?.data.toString(), "xxx", "request 2 was not run again");
    // Once 1 is acknowledged it is no longer known to have succeeded: a call still to run aborts,
    // while the one already executed is still answered from the log.
    const s3 = new RawSession(g);
    await s3.open({ ackThrough: "1" });
    s3.send({ batch: { after: "1", calls: [read(3, 3), write(4, "yyy")] } });
    const acked = await s3.results();
    assert.deepEqual(
      acked.map((r) => [r.outcome, r.status?.code]),
      [
        ["readMemory", undefined],
        ["status", grpc.status.ABORTED],
      ],
    );
    assert.equal(
      (await g.call<{ data: Buffer }>("ReadMemory", { gpa: GPA, length: 3 })).data.toString(),
      "xxx",
    );
    s3.call.end();
  });

  test("a batch resent on a new session is answered from the resume log, not run again", async () => {
    const g = await t.createGuest("resume");
    const s1 = new RawSession(g);
    await s1.open();
    s1.send({ batch: { calls: [write(1, "one"), write(2, "two")] } });
    await s1.results();
    // Overwrite behind the log's back: a re-run of request 2 would restore "two".
    await g.call("WriteMemory", { gpa: GPA, data: Buffer.from("xxx") });
    const s2 = new RawSession(g);
    assert.equal((await s2.open({ ackThrough: "0" }))?.lastExecuted, "2");
    s2.send({ batch: { calls: [write(1, "one"), write(2, "two"), read(3, 3)] } });
    const results = await s2.results();
    assert.deepEqual(
      results.map((r) => r.outcome),
      ["writeMemory", "writeMemory", "readMemory"],
    );
    assert.equal(
      results[2]?.readMemory?.data.toString(),
      "xxx",
      "requests 1 and 2 were not applied twice",
    );
    s2.call.end();
  });

  test("the newest session of a domain takes over and the older one ends with ABORTED", async () => {
    const g = await t.createGuest("takeover");
    const s1 = new RawSession(g);
    await s1.open();
    const s2 = new RawSession(g);
    await s2.open();
    assert.equal((await s1.ended()).code, grpc.status.ABORTED);
    s2.call.end();
  });

  test("an executed request id that left the resume log is FAILED_PRECONDITION", async () => {
    const { s } = await openSession("forgotten");
    s.send({ batch: { calls: Array.from({ length: 20 }, (_, i) => write(i + 1, "x")) } });
    await s.results();
    s.send({ batch: { calls: [write(1, "x"), write(20, "x")] } });
    const [old, recent] = await s.results();
    assert.equal(
      old?.status?.code,
      grpc.status.FAILED_PRECONDITION,
      "id 1 fell out of a 16-entry window",
    );
    assert.equal(recent?.outcome, "writeMemory");
    s.call.end();
  });

  test("acknowledged results leave the log: ack_through frees them", async () => {
    const { s } = await openSession("acked");
    s.send({ batch: { calls: [write(1, "a"), write(2, "b")] } });
    await s.results();
    s.send({ batch: { ackThrough: "1", calls: [write(1, "a"), write(2, "b")] } });
    const [one, two] = await s.results();
    assert.equal(one?.status?.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(two?.outcome, "writeMemory");
    s.call.end();
  });

  test("a batch larger than max_batch ends the session with RESOURCE_EXHAUSTED", async () => {
    const { s } = await openSession("toolarge");
    s.send({ batch: { calls: Array.from({ length: 33 }, (_, i) => read(i + 1, 1)) } });
    assert.equal((await s.ended()).code, grpc.status.RESOURCE_EXHAUSTED);
  });

  test("a hypercall with no operation is answered INVALID_ARGUMENT without ending the session", async () => {
    const { s } = await openSession("noop");
    s.send({ batch: { calls: [{ requestId: "1" }, read(2, 1)] } });
    const [bad, good] = await s.results();
    assert.equal(bad?.status?.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(good?.readMemory?.ret, 0);
    s.call.end();
  });

  const STAGED = String((FIRST_GUEST_GFN + 1) * PAGE_SIZE);

  /** A sendv of `len` staged bytes from aport 7 to the guest's own ring (aport 1). */
  function selfSendv(requestId: string, domid: number, len: number): Hypercall {
    return {
      requestId,
      sendv: {
        src: { aport: 7, domainId: ARGO_DOMID_ANY },
        dst: { domainId: domid, aport: 1 },
        iovs: [{ gpa: STAGED, len }],
        messageType: 0,
      },
    };
  }

  /**
   * Opens a session asking for `virqRingBytes`, registers a 4032-byte ring on the guest's first
   * page and sends itself `payload` (staged on the second page); returns the open session and
   * the VIRQ that follows.
   */
  async function selfSendSession(name: string, virqRingBytes: number, payload: Buffer) {
    const g = await t.createGuest(name);
    const s = new RawSession(g);
    const ready = await s.open({ virqRingBytes });
    s.send({
      batch: {
        calls: [
          { requestId: "1", writeMemory: { gpa: GPA, data: Buffer.alloc(64) } },
          { requestId: "2", writeMemory: { gpa: STAGED, data: payload } },
          {
            requestId: "3",
            registerRing: {
              aport: 1,
              partnerId: g.domid,
              len: 4032,
              gfns: [String(FIRST_GUEST_GFN)],
              flags: 0,
            },
          },
          selfSendv("4", g.domid, payload.length),
        ],
      },
    });
    const results = await s.results();
    assert.equal(results[3]?.sendv?.ret, payload.length);
    const virq = (await s.next("event")).event?.virq;
    return { s, domid: g.domid, ready, virq };
  }

  /** `selfSendSession`, its session ended once the VIRQ came. */
  async function selfSendVirq(name: string, virqRingBytes: number, payload: Buffer) {
    const { s, domid, ready, virq } = await selfSendSession(name, virqRingBytes, payload);
    s.call.end();
    return { domid, ready, virq, arrived: s.arrived };
  }

  test("the session pushes VIRQ_ARGO when a message arrives for the domain", async () => {
    const { virq } = await selfSendVirq("virq", 0, Buffer.from("ping"));
    assert.equal(virq?.virq, VIRQ_ARGO);
    assert.deepEqual(virq.rings, [], "a session that did not ask gets no ring data");
  });

  test("a round's VIRQ is written before the round's results (the receiver's path first)", async () => {
    const { arrived } = await selfSendVirq("virq-first", 4096, Buffer.from("first"));
    assert.deepEqual(arrived, ["ready", "event", "results"]);
  });

  test("a session that asks for virq_ring_bytes gets each ring's unread bytes with the VIRQ", async () => {
    const payload = Buffer.from("hello, ring");
    const { domid, ready, virq } = await selfSendVirq("virq-data", 4096, payload);
    assert.equal(ready?.virqRingBytes, 4096);
    assert.equal(virq?.rings.length, 1);
    const ring = virq.rings[0];
    // The message as the guest would read it: 16-byte header (len, source, type), then payload,
    // up to tx (the slot's padding: this ring's fresh zeroed bytes).
    const header = Buffer.alloc(16);
    header.writeUInt32LE(16 + payload.length, 0);
    header.writeUInt32LE(7, 4);
    header.writeUInt16LE(domid, 8);
    assert.deepEqual(
      { ...ring, data: ring?.data.toString("hex") },
      {
        aport: 1,
        partnerId: domid,
        len: 4032,
        txPtr: 32,
        at: 0,
        data: Buffer.concat([header, payload, Buffer.alloc(5)]).toString("hex"),
      },
    );
  });

  test("a VIRQ's ring data stops at the session's budget but still lists the ring and its tx", async () => {
    const { virq } = await selfSendVirq("virq-budget", 20, Buffer.alloc(100, 0xab));
    assert.equal(virq?.rings.length, 1);
    const [ring] = virq.rings;
    assert.equal(ring?.txPtr, 128);
    assert.equal(ring.data.length, 20);
  });

  test("each ring byte crosses a session in one VIRQ at most: the next VIRQ carries the ring from where the last one stopped", async () => {
    const { s, domid, virq } = await selfSendSession("virq-delta", 20, Buffer.alloc(100, 0xab));
    assert.deepEqual([virq?.rings[0]?.at, virq?.rings[0]?.data.length], [0, 20]);
    // A second message: the VIRQ goes on at byte 20, not again from rx (0).
    s.send({ batch: { calls: [selfSendv("5", domid, 100)] } });
    assert.equal((await s.results())[0]?.sendv?.ret, 100);
    const next = (await s.next("event")).event?.virq;
    assert.deepEqual(
      { at: next?.rings[0]?.at, bytes: next?.rings[0]?.data.length, tx: next?.rings[0]?.txPtr },
      { at: 20, bytes: 20, tx: 256 },
    );
    assert.deepEqual(next?.rings[0]?.data, Buffer.alloc(20, 0xab));
    s.call.end();
  });

  test("a push cursor that rx overtook starts again from rx", async () => {
    const { s, domid } = await selfSendSession("virq-rx-passed", 20, Buffer.alloc(100, 0xcd));
    // The guest consumed the first message (rx 128, past the cursor at 20), then a second arrives.
    const rx = Buffer.alloc(4);
    rx.writeUInt32LE(128, 0);
    const rxGpa = String(FIRST_GUEST_GFN * PAGE_SIZE + RING_RX_PTR_OFFSET);
    s.send({ batch: { calls: [{ requestId: "5", writeMemory: { gpa: rxGpa, data: rx } }] } });
    assert.equal((await s.results())[0]?.writeMemory?.ret, 0);
    s.send({ batch: { calls: [selfSendv("6", domid, 100)] } });
    assert.equal((await s.results())[0]?.sendv?.ret, 100);
    const next = (await s.next("event")).event?.virq;
    assert.deepEqual([next?.rings[0]?.at, next?.rings[0]?.txPtr], [128, 256]);
    // The second message's header: its length (16 + 100) first.
    assert.equal(next?.rings[0]?.data.readUInt32LE(0), 116);
    s.call.end();
  });

  test(`virq_ring_bytes above ${VIRQ_RING_BYTES_MAX} ends the session with INVALID_ARGUMENT naming both`, async () => {
    const g = await t.createGuest("virq-too-much");
    const s = new RawSession(g);
    s.send({ open: { virqRingBytes: VIRQ_RING_BYTES_MAX + 1 } });
    const err = await s.ended();
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, new RegExp(`${VIRQ_RING_BYTES_MAX + 1}.*${VIRQ_RING_BYTES_MAX}`));
  });

  test("a destroyed domain's session ends with UNAUTHENTICATED", async () => {
    const { g, s } = await openSession("doomed");
    await t.toolstack.destroyDomain(g.domid);
    assert.equal((await s.ended()).code, grpc.status.UNAUTHENTICATED);
  });

  test("an invalid request id anywhere in a batch ends the session before any of its calls runs", async () => {
    const { g, s } = await openSession("bad-id-mid-batch");
    s.send({ batch: { calls: [write(1, "abc"), { ...read(2, 3), requestId: "0" }] } });
    const err = await s.ended();
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.match(err.details, /request id "0"/);
    const again = new RawSession(g);
    assert.equal((await again.open())?.lastExecuted, "0", "the valid first call did not run");
    again.send({ batch: { calls: [read(1, 3)] } });
    assert.deepEqual([...((await again.results())[0]?.readMemory?.data ?? [])], [0, 0, 0]);
    again.call.end();
  });

  test("results larger than one frame may carry come back split across frames, each within the guest's limit", async () => {
    const { s } = await openSession("split-results", 64 * 1024 * 1024);
    const length = MAX_MEMORY_ACCESS;
    s.send({ batch: { calls: [read(1, length), read(2, length), read(3, 8)] } });
    const got: HypercallResult__Output[] = [];
    let frames = 0;
    while (got.length < 3) {
      got.push(...(await s.results()));
      frames++;
    }
    assert.deepEqual(
      got.map((r) => [r.requestId, r.readMemory?.ret, r.readMemory?.data.length]),
      [
        ["1", 0, length],
        ["2", 0, length],
        ["3", 0, 8],
      ],
    );
    assert.ok(frames >= 2, `${frames} results frames`);
    assert.equal(s.error, undefined, "the session is still open");
    s.call.end();
  });
});
