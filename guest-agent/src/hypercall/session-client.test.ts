// SPDX-License-Identifier: Apache-2.0
/**
 * Tests of `SessionClient` against `FakeSessionServer` (a real grpc-js server on 127.0.0.1
 * following the Session rules of hypervisor.proto). Each test is named after the rule it checks;
 * link failures are injected per batch, by ending the stream, or by killing the server's
 * connections outright.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import { SESSION_FLOW_CONTROL_WINDOW } from "@hmx/proto";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import {
  BatchChain,
  DomainLostError,
  HypercallStatusError,
  type HypercallOp,
} from "./hypercall-client.js";
import { SessionClient, type SessionClientOptions, type SessionLogger } from "./session-client.js";
import { BlackholeProxy } from "./test-utils/blackhole-proxy.js";
import { FakeSessionServer, type BatchFault } from "./test-utils/fake-session-server.js";
import { until } from "@hmx/virtio/test-utils";

const SELF = { aport: 1, domainId: 0x7ff4 };
const PEER = { aport: 9, domainId: 2 };
const REFUSING = { aport: 0, domainId: 2 }; // the fake answers -ECONNREFUSED for aport 0

/** An 8-byte sendv from SELF to `dst`, told apart by its message type. */
function send(dst: typeof PEER, messageType: number): HypercallOp {
  return { op: "sendv", src: SELF, dst, iovs: [{ gpa: 0, len: 8 }], messageType };
}

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function setup(
  serverOptions: Parameters<typeof FakeSessionServer.start>[0] = {},
  clientOptions: Partial<SessionClientOptions> = {},
): Promise<{ fake: FakeSessionServer; client: SessionClient }> {
  const fake = await FakeSessionServer.start(serverOptions);
  const client = await SessionClient.connect({
    address: fake.address,
    credential: fake.credential,
    backoff: { initialMs: 10, maxMs: 100 },
    ...clientOptions,
  });
  cleanups.push(async () => {
    await client.close();
    await fake.stop();
  });
  return { fake, client };
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

function captureLogger(): SessionLogger & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const log =
    (level: string) =>
    (obj: object, msg: string): void => {
      lines.push({ level, obj, msg });
    };
  return { lines, debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") };
}

describe("SessionClient: session basics", () => {
  it("connect opens a session and takes the domid from the ready frame", async () => {
    const { fake, client } = await setup({ domid: 42 });
    assert.equal(client.domid, 42);
    assert.equal(client.state, "ready");
    assert.equal(fake.opens.length, 1);
    assert.equal(fake.opens[0]?.ackThrough, 0);
  });

  it("request ids continue after lastExecuted from the ready frame", async () => {
    const { fake, client } = await setup({ lastExecuted: 41 });
    assert.equal(await client.writeMemory(0, u32le(1)), 0);
    await client.batch([
      { op: "writeMemory", gpa: 4, data: u32le(2) },
      { op: "writeMemory", gpa: 8, data: u32le(3) },
    ]);
    assert.deepEqual(
      fake.batches.map((b) => b.ids),
      [[42], [43, 44]],
    );
    assert.equal(client.nextRequestId, 45);
  });

  it("a batch runs its calls in order and resolves every outcome in order", async () => {
    const { fake, client } = await setup({ domid: 3 });
    const outcomes = await client.batch([
      { op: "writeMemory", gpa: 0x100, data: Buffer.from("hello") },
      { op: "readMemory", gpa: 0x100, length: 5 },
      { op: "sendv", src: SELF, dst: PEER, iovs: [{ gpa: 0x100, len: 5 }], messageType: 7 },
      { op: "notify", ringData: [{ ring: PEER, spaceRequired: 64 }] },
      { op: "getDomainInfo" },
      { op: "registerRing", aport: 5, partnerId: 2, len: 4016, gfns: [16], flags: 0 },
      { op: "unregisterRing", aport: 6, partnerId: 2 },
      { op: "readMemory", gpa: 2 ** 40, length: 1 },
    ]);
    assert.deepEqual(outcomes, [
      { op: "writeMemory", ret: 0 },
      { op: "readMemory", ret: 0, data: Buffer.from("hello") },
      { op: "sendv", ret: 5 },
      { op: "notify", ret: 0, entries: [{ flags: 1, maxMessageSize: 4064 }] },
      {
        op: "getDomainInfo",
        ret: 0,
        info: { domid: 3, memoryBytes: 1 << 20, pageSize: 4096, label: "fake" },
      },
      { op: "registerRing", ret: 0 },
      { op: "unregisterRing", ret: -2 },
      { op: "readMemory", ret: -14, data: Buffer.alloc(0) },
    ]);
    assert.equal(fake.batches.length, 1);
  });

  it("convenience methods return ret, and a negative errno is a result, not an exception", async () => {
    const { client } = await setup();
    assert.equal(await client.sendv(SELF, PEER, [{ gpa: 0, len: 100 }], 1), 100);
    assert.equal(await client.sendv(SELF, REFUSING, [{ gpa: 0, len: 100 }], 1), -111);
    assert.equal(await client.writeMemory(16, Buffer.from("abc")), 0);
    assert.deepEqual(await client.readMemory(16, 3), { ret: 0, data: Buffer.from("abc") });
    assert.deepEqual(await client.notify(null), { ret: 0, entries: [] });
    assert.equal((await client.getDomainInfo()).pageSize, 4096);
    assert.equal(
      await client.registerRing({ aport: 1, partnerId: 2, len: 4016, gfns: [16], flags: 0 }),
      0,
    );
    assert.equal(await client.unregisterRing(1, 2), -2);
  });

  it("a status outcome rejects a convenience method with HypercallStatusError", async () => {
    const { fake, client } = await setup();
    fake.maxBatch = 0; // the fake now answers every call RESOURCE_EXHAUSTED (8)
    await assert.rejects(client.writeMemory(0, u32le(1)), (err: unknown) => {
      assert.ok(err instanceof HypercallStatusError);
      assert.equal(err.code, 8);
      return true;
    });
  });

  it("an argument the wire cannot carry rejects the batch before any id is used", async () => {
    const { fake, client } = await setup();
    await assert.rejects(client.readMemory(-1, 1), RangeError);
    await assert.rejects(client.sendv(SELF, { aport: 1, domainId: 2 ** 32 }, [], 0), RangeError);
    assert.equal(fake.batches.length, 0);
    assert.equal(client.nextRequestId, 1);
  });

  it("a batch with stopOnError skips the calls after the first negative ret", async () => {
    const { fake, client } = await setup();
    const outcomes = await client.batch(
      [send(PEER, 1), send(REFUSING, 2), send(PEER, 3), send(PEER, 4)],
      { stopOnError: true },
    );
    assert.deepEqual(
      outcomes.map((o) => (o.op === "status" ? `status ${o.code}` : o.ret)),
      [8, -111, "status 10", "status 10"],
    );
    assert.deepEqual(
      fake.applied.map((a) => a.tag),
      [1, 2],
    );
    assert.equal(fake.batches[0]?.stopOnError, true);
    // Without stopOnError every call runs.
    await client.batch([send(REFUSING, 5), send(PEER, 6)]);
    assert.deepEqual(
      fake.applied.map((a) => a.tag),
      [1, 2, 5, 6],
    );
  });

  it("a batch longer than maxBatch is split, unless it has stopOnError", async () => {
    const { fake, client } = await setup({ maxBatch: 4 });
    const ops: HypercallOp[] = Array.from({ length: 10 }, (_, i) => ({
      op: "writeMemory",
      gpa: i * 4,
      data: u32le(i),
    }));
    await assert.rejects(client.batch(ops, { stopOnError: true }), RangeError);
    const outcomes = await client.batch(ops);
    assert.equal(outcomes.length, 10);
    assert.deepEqual(
      fake.batches.map((b) => b.ids.length),
      [4, 4, 2],
    );
    assert.deepEqual(
      fake.applied.map((a) => a.tag),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
  });

  it("results arriving in several frames complete the batch", async () => {
    const { client } = await setup({ splitResults: true });
    const outcomes = await client.batch(
      Array.from({ length: 5 }, (_, i) => ({
        op: "writeMemory" as const,
        gpa: i * 4,
        data: u32le(i),
      })),
    );
    assert.equal(outcomes.length, 5);
  });
});

describe("SessionClient: pipelining and acknowledgement", () => {
  it("many batches are pipelined, with at most resumeWindow calls in flight", async () => {
    const window = 8;
    const { fake, client } = await setup({ resumeWindow: window, maxBatch: 4 });
    let maxSeen = 0;
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      all.push(client.writeMemory(i * 4, u32le(i)));
      if (i % 10 === 0) all.push(client.batch([{ op: "notify", ringData: null }]));
      maxSeen = Math.max(maxSeen, client.inFlight);
    }
    assert.ok(client.queued > 0, "calls beyond the window wait in the queue");
    await Promise.all(all);
    assert.ok(maxSeen <= window, `inFlight reached ${maxSeen}`);
    for (const b of fake.batches) {
      const top = Math.max(...b.ids);
      assert.ok(top - b.ackThrough <= window, `frame ${b.ids.join(",")} ack ${b.ackThrough}`);
    }
    assert.ok(fake.batches.length > 1);
    assert.equal(client.inFlight, 0);
    assert.equal(client.callsSent, 220);
  });

  it("ackThrough piggybacks the highest id whose results all arrived", async () => {
    const { fake, client } = await setup();
    await client.writeMemory(0, u32le(1));
    await client.batch([
      { op: "notify", ringData: null },
      { op: "notify", ringData: null },
    ]);
    await client.writeMemory(0, u32le(2));
    assert.deepEqual(
      fake.batches.map((b) => b.ackThrough),
      [0, 1, 3],
    );
    assert.equal(fake.resumeLog.size, 1, "acknowledged results left the resume log");
  });

  it("a batch on a chain runs after the last call of the one before it while that one is out", async () => {
    const { fake, client } = await setup();
    assert.equal(client.dependentBatches, true);
    const chain = new BatchChain();
    const first = client.batch([send(PEER, 1), send(REFUSING, 2), send(PEER, 3)], {
      stopOnError: true,
      chain,
    });
    const second = client.batch([send(PEER, 4)], { stopOnError: true, chain });
    const third = client.batch([send(PEER, 5)], { stopOnError: true, chain });
    const other = client.batch([send(PEER, 6)], { stopOnError: true, chain: new BatchChain() });
    const code = (o: { op: string; code?: number; ret?: number }): number | string =>
      o.op === "status" ? `status ${o.code}` : (o.ret ?? 0);
    assert.deepEqual((await first).map(code), [8, -111, "status 10"]);
    assert.deepEqual((await second).map(code), ["status 10"], "the batch before it stopped");
    assert.deepEqual((await third).map(code), ["status 10"], "so did the one before this");
    assert.deepEqual((await other).map(code), [8], "another chain depends on nothing here");
    assert.deepEqual(
      fake.batches.map((b) => b.after),
      [0, 3, 4, 0],
    );
    assert.deepEqual(
      fake.applied.map((a) => a.tag),
      [1, 2, 6],
    );
    // The chain's last batch failed: the next one on it names it and is skipped too (a caller
    // starts a new chain once it has handled the failure); one after a success names nothing.
    assert.deepEqual((await client.batch([send(PEER, 7)], { chain })).map(code), ["status 10"]);
    const fresh = new BatchChain();
    await client.batch([send(PEER, 8)], { chain: fresh });
    await client.batch([send(PEER, 9)], { chain: fresh });
    assert.deepEqual(
      fake.batches.slice(4).map((b) => b.after),
      [5, 0, 0],
    );
    await assert.rejects(
      client.batch(
        Array.from({ length: 300 }, () => send(PEER, 0)),
        { chain },
      ),
      RangeError,
      "a chained batch is never split",
    );
  });

  it("a client never acknowledges the id a batch in flight runs after, not even on reconnect", async () => {
    const { fake, client } = await setup();
    const chain = new BatchChain();
    const write = (i: number): HypercallOp => ({ op: "writeMemory", gpa: i * 4, data: u32le(i) });
    // The second frame (b) is lost with the link: b is resent on a new session, after a's
    // results came back. Acknowledging them in the open would make the hypervisor forget
    // id 2, and b would be skipped although a succeeded.
    fake.faultHook = (seq) => (seq === 2 ? "drop-before-execute" : "none");
    const a = client.batch([write(1), write(2)], { stopOnError: true, chain });
    const b = client.batch([write(3)], { stopOnError: true, chain });
    assert.deepEqual(
      (await a).map((o) => o.op),
      ["writeMemory", "writeMemory"],
    );
    assert.deepEqual(
      (await b).map((o) => (o.op === "status" ? `status ${o.code}` : o.ret)),
      [0],
      "b ran after a",
    );
    assert.equal(fake.memory.readUInt32LE(12), 3);
    assert.deepEqual(
      fake.batches.map((f) => [f.ids, f.after]),
      [
        [[1, 2], 0],
        [[3], 2],
        [[3], 2],
      ],
    );
    assert.ok(client.reconnects >= 1);
    for (const open of fake.opens.slice(1)) assert.ok(open.ackThrough < 2, `${open.ackThrough}`);
    // Once b is answered, everything is acknowledged as before.
    await client.batch([write(4)]);
    assert.equal(fake.batches.at(-1)?.ackThrough, 3);
  });

  it("against a hypervisor that predates dependent batches, dependentBatches is false", async () => {
    const fake = await FakeSessionServer.start({});
    fake.dependentBatches = false;
    const client = await SessionClient.connect({
      address: fake.address,
      credential: fake.credential,
    });
    cleanups.push(async () => {
      await client.close();
      await fake.stop();
    });
    assert.equal(client.dependentBatches, false);
  });

  it("batches keep flowing when the stream pushes back (large pipelined writes)", async () => {
    const { fake, client } = await setup({ memoryBytes: 16 << 20, resumeWindow: 64 });
    const chunk = 256 * 1024;
    const writes: Promise<number>[] = [];
    for (let i = 0; i < 48; i++) {
      writes.push(client.writeMemory(i * chunk, Buffer.alloc(chunk, i)));
    }
    assert.deepEqual(await Promise.all(writes), new Array(48).fill(0));
    for (let i = 0; i < 48; i++) assert.equal(fake.memory[i * chunk + 7], i);
  });

  it("asks for SESSION_FLOW_CONTROL_WINDOW per stream and per connection (grpc-node.flow_control_window)", async () => {
    // A bare HTTP/2 server: what the client's connection announces, before any gRPC.
    const server = http2.createServer();
    const announced = new Promise<{ initialWindowSize: number | undefined; window: number }>(
      (resolve) => {
        server.once("session", (session) => {
          session.once("remoteSettings", (settings: http2.Settings) => {
            // The client's WINDOW_UPDATE for its connection follows its SETTINGS.
            session.ping(() => {
              resolve({
                initialWindowSize: settings.initialWindowSize,
                window: session.state.remoteWindowSize ?? 0,
              });
              session.destroy();
            });
          });
        });
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const connecting = SessionClient.connect({
      address: `127.0.0.1:${port}`,
      credential: "c",
      connectTimeoutMs: 300,
      readyTimeoutMs: 300,
    });
    try {
      const { initialWindowSize, window } = await announced;
      assert.equal(initialWindowSize, SESSION_FLOW_CONTROL_WINDOW);
      assert.equal(window, SESSION_FLOW_CONTROL_WINDOW, "the connection's window too");
    } finally {
      await assert.rejects(connecting, "a server that never answers ready is given up on");
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    }
  });
});

describe("SessionClient: resilience", () => {
  it("a hypercall retried after a reconnect is applied at most once", async () => {
    const { fake, client } = await setup();
    fake.faultHook = (seq) => (seq === 1 ? "drop-after-execute" : "none");
    assert.equal(await client.sendv(SELF, PEER, [{ gpa: 0, len: 32 }], 77), 32);
    assert.equal(fake.sendvCount, 1);
    assert.deepEqual(
      fake.applied.map((a) => a.id),
      [1],
    );
    assert.deepEqual(
      fake.batches.map((b) => b.ids),
      [[1], [1]],
      "resent with its original request id",
    );
    assert.equal(client.reconnects, 1);
    assert.equal(client.callsResent, 1);
  });

  it("a batch lost before execution runs once after the reconnect", async () => {
    const { fake, client } = await setup();
    fake.faultHook = (seq) => (seq === 1 ? "drop-before-execute" : "none");
    await client.batch([
      { op: "writeMemory", gpa: 0, data: u32le(5) },
      { op: "writeMemory", gpa: 4, data: u32le(6) },
    ]);
    assert.deepEqual(
      fake.applied.map((a) => a.tag),
      [5, 6],
    );
  });

  it("after a drop in the middle of the results only the unanswered calls are resent", async () => {
    const { fake, client } = await setup();
    fake.faultHook = (seq) => (seq === 1 ? "drop-mid-results" : "none");
    const outcomes = await client.batch(
      Array.from({ length: 4 }, (_, i) => ({
        op: "writeMemory" as const,
        gpa: i * 4,
        data: u32le(i),
      })),
      { stopOnError: true },
    );
    assert.equal(outcomes.length, 4);
    assert.deepEqual(
      fake.batches.map((b) => [b.ids, b.stopOnError]),
      [
        [[1, 2, 3, 4], true],
        [[3, 4], true],
      ],
    );
    assert.equal(fake.opens[1]?.ackThrough, 2, "the re-open acknowledges the answered prefix");
    assert.equal(fake.applied.length, 4);
  });

  it("a stopOnError batch whose failure arrived before the drop is finished, not resent", async () => {
    const { fake, client } = await setup();
    fake.faultHook = (seq) => (seq === 1 ? "drop-mid-results" : "none");
    const send = (dst: typeof PEER): HypercallOp => ({
      op: "sendv",
      src: SELF,
      dst,
      iovs: [],
      messageType: 0,
    });
    const outcomes = await client.batch([send(PEER), send(REFUSING), send(PEER), send(PEER)], {
      stopOnError: true,
    });
    assert.deepEqual(
      outcomes.map((o) => (o.op === "status" ? `status ${o.code}` : o.ret)),
      [0, -111, "status 10", "status 10"],
    );
    assert.equal(fake.batches.length, 1);
    assert.equal(fake.applied.length, 2);
  });

  it("resent batches keep their boundaries, stopOnError flags and id order", async () => {
    const { fake, client } = await setup();
    let dropped = false;
    fake.faultHook = (_seq, b) => {
      if (!dropped && b.ids.includes(6)) {
        dropped = true;
        return "drop-before-execute";
      }
      return "none";
    };
    const w = (i: number): HypercallOp => ({ op: "writeMemory", gpa: i * 4, data: u32le(i) });
    const results = await Promise.all([
      client.batch([w(1), w(2)], { stopOnError: true }),
      client.batch([w(3)]),
      client.batch([w(4), w(5)], { stopOnError: true }),
      client.batch([w(6), w(7)]),
      client.batch([w(8)], { stopOnError: true }),
    ]);
    assert.equal(results.flat().length, 8);
    const resent = fake.batches.filter((b) => b.session === 2);
    assert.deepEqual(
      resent.map((b) => [b.ids, b.stopOnError]),
      [
        [[6, 7], false],
        [[8], true],
      ],
    );
    assert.deepEqual(
      fake.applied.map((a) => a.tag),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
  });

  it("a request id the server forgot surfaces as FAILED_PRECONDITION for that call", async () => {
    const { fake, client } = await setup();
    fake.faultHook = (seq) => {
      if (seq !== 1) return "none";
      // The result falls out of the log right after execution, before the client resends.
      queueMicrotask(() => {
        fake.resumeLog.clear();
      });
      return "drop-after-execute";
    };
    await assert.rejects(client.writeMemory(0, u32le(9)), (err: unknown) => {
      assert.ok(err instanceof HypercallStatusError);
      assert.equal(err.code, grpc.status.FAILED_PRECONDITION);
      return true;
    });
    assert.equal(fake.applied.length, 1, "still applied only once");
  });

  it("ABORTED (a newer session took over) is handled like a drop", async () => {
    const { fake, client } = await setup();
    await client.writeMemory(0, u32le(1));
    fake.dropCurrentStream(grpc.status.ABORTED);
    await until("reconnect", () => client.reconnects === 1);
    assert.equal(await client.writeMemory(0, u32le(2)), 0);
  });

  it("calls in flight survive the hypervisor's connections being killed", async () => {
    const { fake, client } = await setup();
    fake.faultHook = (seq) => {
      if (seq === 3) void fake.restart(150);
      return "none";
    };
    const writes = Array.from({ length: 20 }, (_, i) => client.writeMemory(i * 4, u32le(i)));
    assert.deepEqual(await Promise.all(writes), new Array(20).fill(0));
    assert.deepEqual(
      fake.applied.map((a) => a.tag),
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.ok(client.reconnects >= 1);
  });

  it("a silent partition is noticed by keepalive and the lost result is replayed, not re-run", async () => {
    const fake = await FakeSessionServer.start();
    const proxy = await BlackholeProxy.start(fake.address);
    const client = await SessionClient.connect({
      address: proxy.address,
      credential: fake.credential,
      keepaliveMs: 100,
      keepaliveTimeoutMs: 100,
      backoff: { initialMs: 10, maxMs: 50 },
    });
    cleanups.push(async () => {
      await client.close();
      await proxy.stop();
      await fake.stop();
    });
    assert.equal(await client.writeMemory(0, u32le(1)), 0);
    // Results (and ping acks) stop coming back; nothing closes the connection.
    proxy.blackhole("to-client");
    const started = Date.now();
    assert.equal(await client.sendv(SELF, PEER, [{ gpa: 0, len: 16 }], 5), 16);
    assert.ok(Date.now() - started < 5000);
    assert.equal(client.reconnects, 1);
    assert.equal(fake.sendvCount, 1, "executed before the partition was noticed, and only then");
    assert.deepEqual(
      fake.batches.map((b) => b.ids),
      [[1], [2], [2]],
    );
  });

  it("VIRQ listeners fire on an event and once after reconnect", async () => {
    const { fake, client } = await setup();
    let fired = 0;
    let otherFired = 0;
    client.onVirq(() => {
      throw new Error("a faulty listener must not stop the others");
    });
    const unsubscribe = client.onVirq(() => {
      fired += 1;
    });
    client.onVirq(() => {
      otherFired += 1;
    });
    fake.raiseVirq();
    await until("virq", () => fired === 1);
    fake.dropCurrentStream();
    await until("reconnect", () => client.reconnects === 1);
    assert.equal(fired, 2, "once more after the reconnect");
    unsubscribe();
    fake.raiseVirq();
    await until("virq to the remaining listener", () => otherFired === 3);
    assert.equal(fired, 2);
  });

  it("reconnects are logged with attempt and delay, and the credential never is", async () => {
    const logger = captureLogger();
    const { fake, client } = await setup({ credential: "s3cret-token" }, { logger });
    fake.dropCurrentStream();
    await until("reconnect", () => client.reconnects === 1);
    const warn = logger.lines.find((l) => l.msg === "session reconnecting");
    assert.ok(warn !== undefined);
    assert.equal((warn.obj as { attempt: number }).attempt, 1);
    assert.equal(typeof (warn.obj as { delayMs: unknown }).delayMs, "number");
    assert.ok(!JSON.stringify(logger.lines).includes("s3cret-token"));
  });

  it("a pino logger is accepted as the logger", async () => {
    const { client } = await setup({}, { logger: pino({ level: "silent" }) });
    assert.equal(await client.writeMemory(0, u32le(1)), 0);
  });

  it("UNAUTHENTICATED on connect rejects connect", async () => {
    const fake = await FakeSessionServer.start();
    cleanups.push(() => fake.stop());
    await assert.rejects(
      SessionClient.connect({ address: fake.address, credential: "wrong" }),
      (err: unknown) => err instanceof HypercallStatusError && err.code === 16,
    );
  });

  it("UNAUTHENTICATED on reconnect rejects pending calls and stops reconnecting", async () => {
    const { fake, client } = await setup();
    let fatal: Error | undefined;
    client.onFatal((err) => {
      fatal = err;
    });
    fake.faultHook = () => {
      fake.credential = "revoked";
      return "drop-before-execute";
    };
    const pending = [client.writeMemory(0, u32le(1)), client.writeMemory(4, u32le(2))];
    for (const p of pending) {
      await assert.rejects(
        p,
        (err: unknown) => err instanceof HypercallStatusError && err.code === 16,
      );
    }
    assert.ok(fatal instanceof HypercallStatusError);
    await assert.rejects(client.closed, HypercallStatusError);
    assert.equal(client.state, "failed");
    const rejected = fake.sessionsRejected;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(fake.sessionsRejected, rejected, "no reconnect after UNAUTHENTICATED");
    await assert.rejects(client.notify(null), HypercallStatusError);
    assert.equal(fake.applied.length, 0);
  });

  it("UNAUTHENTICATED after the session was up is a DomainLostError saying the hypervisor lost its state", async () => {
    const { fake, client } = await setup();
    fake.credential = "a-restarted-hypervisor-knows-no-domains";
    await fake.restart(50);
    await assert.rejects(client.closed, (err: unknown) => {
      assert.ok(err instanceof DomainLostError, String(err));
      assert.equal(err.code, grpc.status.UNAUTHENTICATED);
      assert.match(err.message, /restarted without its state \(--state-dir\)/);
      assert.match(err.message, new RegExp(`domain ${fake.domid}'s credential`));
      return true;
    });
  });

  it("a hypervisor that is gone for many backoff steps is waited for, and the session resumes on the new one", async () => {
    const { fake, client } = await setup({}, { backoff: { initialMs: 5, maxMs: 20 } });
    assert.equal(await client.writeMemory(0, u32le(1)), 0);
    fake.kill();
    // Queued while nothing listens: connection refused, again and again (20+ attempts).
    const pending = client.writeMemory(4, u32le(2));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(client.state === "ready", false, "no session while the server is gone");
    await fake.restart();
    assert.equal(await pending, 0);
    assert.equal(client.state, "ready");
    assert.ok(client.reconnects >= 1);
    assert.deepEqual(
      fake.applied.map((a) => a.tag),
      [1, 2],
      "each write applied exactly once, the one queued during the outage included",
    );
  });

  it("reconnectTimeoutMs bounds an outage: past it the client fails with UNAVAILABLE naming the timeout", async () => {
    const { fake, client } = await setup(
      {},
      { backoff: { initialMs: 5, maxMs: 20 }, reconnectTimeoutMs: 200 },
    );
    assert.equal(await client.writeMemory(0, u32le(1)), 0);
    fake.kill();
    const pending = client.writeMemory(4, u32le(2));
    await assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof HypercallStatusError);
      assert.equal(err.code, grpc.status.UNAVAILABLE);
      assert.match(err.message, /stayed unreachable for \d+ ms \(reconnect timeout 200 ms\)/);
      return true;
    });
    assert.equal(client.state, "failed");
  });

  it("a ready that never comes is retried after readyTimeoutMs", async () => {
    const fake = await FakeSessionServer.start();
    cleanups.push(() => fake.stop());
    fake.holdReady = true;
    const connecting = SessionClient.connect({
      address: fake.address,
      credential: fake.credential,
      readyTimeoutMs: 100,
      backoff: { initialMs: 10, maxMs: 20 },
    });
    await until("a first session", () => fake.sessionsOpened >= 1);
    await new Promise((resolve) => setTimeout(resolve, 150));
    fake.holdReady = false;
    const client = await connecting;
    cleanups.push(() => client.close());
    assert.ok(fake.sessionsOpened >= 2);
  });

  it("the first connect waits for a server that comes up late, and gives up at its deadline", async () => {
    const fake = await FakeSessionServer.start();
    cleanups.push(() => fake.stop());
    fake.kill();
    const late = SessionClient.connect({
      address: fake.address,
      credential: fake.credential,
      backoff: { initialMs: 10, maxMs: 50 },
    });
    setTimeout(() => void fake.restart(), 200);
    const client = await late;
    cleanups.push(() => client.close());
    assert.equal(client.state, "ready");

    const started = Date.now();
    await assert.rejects(
      SessionClient.connect({
        address: "127.0.0.1:1",
        credential: "x",
        connectTimeoutMs: 300,
        backoff: { initialMs: 10, maxMs: 50 },
      }),
      (err: unknown) => err instanceof HypercallStatusError && err.code === 14,
    );
    assert.ok(Date.now() - started < 3000);
  });

  it(
    "1,000 numbered writes and sendvs pipelined while the link drops are applied exactly once, in order",
    { timeout: 60_000 },
    async () => {
      const { fake, client } = await setup(
        { memoryBytes: 1 << 16, resumeWindow: 64, maxBatch: 16 },
        { backoff: { initialMs: 5, maxMs: 40 } },
      );
      const faults: BatchFault[] = [
        "drop-after-execute",
        "drop-before-execute",
        "drop-mid-results",
      ];
      let drops = 0;
      fake.faultHook = (seq) => {
        if (seq % 97 !== 0 || drops >= 9) return "none";
        drops += 1;
        if (drops === 5) {
          void fake.restart(30); // once, a real connection kill instead of a clean stream end
          return "none";
        }
        return faults[drops % faults.length] ?? "none";
      };
      const N = 1000;
      const pending: Promise<number>[] = [];
      for (let i = 0; i < N; i++) {
        pending.push(
          i % 2 === 0
            ? client.writeMemory(i * 4, u32le(i))
            : client.sendv(SELF, PEER, [{ gpa: i * 4, len: 4 }], i),
        );
        // Yield now and then so drops happen while calls are still being issued.
        if (i % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
      }
      const rets = await Promise.all(pending);
      rets.forEach((ret, i) => {
        assert.equal(ret, i % 2 === 0 ? 0 : 4, `call ${i}`);
      });
      const tags = fake.applied.map((a) => a.tag);
      assert.deepEqual(
        tags,
        Array.from({ length: N }, (_, i) => i),
        "each call applied exactly once, in order",
      );
      const ids = fake.applied.map((a) => a.id);
      for (let i = 1; i < ids.length; i++) assert.ok((ids[i] ?? 0) > (ids[i - 1] ?? 0));
      assert.equal(fake.sendvCount, N / 2);
      for (let i = 0; i < N; i += 2) assert.equal(fake.memory.readUInt32LE(i * 4), i);
      assert.ok(drops >= 5, `only ${drops} drops happened`);
      assert.ok(client.reconnects >= 5, `only ${client.reconnects} reconnects`);
      assert.equal(client.inFlight, 0);
    },
  );
});

describe("SessionClient: close", () => {
  it("close rejects pending calls with CANCELLED and settles closed", async () => {
    const { fake, client } = await setup();
    fake.faultHook = () => "drop-before-execute";
    const pending = client.writeMemory(0, u32le(1));
    await until("a drop", () => client.state !== "ready");
    // Expect the rejection before closing: close() rejects the call while it is still running.
    const rejected = assert.rejects(pending, (err: unknown) => {
      assert.ok(err instanceof HypercallStatusError);
      assert.equal(err.code, grpc.status.CANCELLED);
      return true;
    });
    await client.close();
    await rejected;
    await client.closed;
    assert.equal(client.state, "closed");
    await assert.rejects(client.notify(null), HypercallStatusError);
    await client.close(); // idempotent
  });

  it("close leaves no timers (process can exit)", { timeout: 30_000 }, async () => {
    const here = fileURLToPath(new URL(".", import.meta.url));
    // A child process: connect, work, lose the server (the client is then in backoff with a
    // timer armed), close. The child must exit on its own, without process.exit().
    const script = `
      import { SessionClient } from ${JSON.stringify(`${here}session-client.js`)};
      import { FakeSessionServer } from ${JSON.stringify(`${here}test-utils/fake-session-server.js`)};
      const fake = await FakeSessionServer.start();
      const client = await SessionClient.connect({ address: fake.address, credential: fake.credential,
        backoff: { initialMs: 200, maxMs: 1000 } });
      await client.writeMemory(0, Buffer.from([1, 2, 3, 4]));
      client.onVirq(() => {});
      fake.kill();
      await new Promise((r) => setTimeout(r, 100));
      const pending = client.notify(null).then(() => "resolved", (e) => e.code);
      await client.close();
      console.log("pending", await pending, "state", client.state);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let errOut = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (errOut += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const killer = setTimeout(() => {
        child.kill("SIGKILL");
      }, 10_000);
      child.on("exit", (c) => {
        clearTimeout(killer);
        resolve(c);
      });
    });
    assert.equal(code, 0, `child did not exit cleanly: ${errOut}`);
    assert.match(out, /pending 1 state closed/);
  });
});
