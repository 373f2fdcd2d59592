// SPDX-License-Identifier: Apache-2.0
/**
 * Each toxic on one direction of a connection (a FaultPipe between in-memory streams): what
 * arrives, when (on mocked timers, never the wall clock), and what happens to the connection.
 */
import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { afterEach, beforeEach, mock, test } from "node:test";
import { FaultPipe } from "./fault-pipe.js";
import { seededRandom } from "./seeded-random.js";
import { parseToxicSpec } from "./toxic-spec.js";
import { createStage, sliceBounds } from "./toxic-stages.js";

/** Lets promise chains and stream events run (setImmediate is not mocked). */
const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

/** Advances mocked time in `step` ms ticks, letting the pipe run between them. */
async function advance(ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    mock.timers.tick(step);
    await flush();
  }
}

function rig(toxic: Record<string, unknown>, highWaterMark?: number) {
  const source = new PassThrough();
  const writes: Buffer[] = [];
  let ended = false;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk);
      callback();
    },
    final(callback) {
      ended = true;
      callback();
    },
  });
  const pipe = new FaultPipe(source, destination, () => Date.now(), highWaterMark);
  const events: string[] = [];
  const spec = parseToxicSpec(toxic);
  pipe.attach(spec.name, (signal) =>
    createStage(spec, {
      signal,
      control: {
        close: (reason) => events.push(`close: ${reason}`),
        reset: (reason) => events.push(`reset: ${reason}`),
      },
      random: seededRandom(1),
      now: () => Date.now(),
    }),
  );
  return {
    source,
    pipe,
    spec,
    writes,
    events,
    received: () => Buffer.concat(writes),
    ended: () => ended,
  };
}

beforeEach(() => {
  mock.timers.enable({ apis: ["setTimeout", "Date"], now: 0 });
});
afterEach(() => {
  mock.timers.reset();
});

test("latency: a chunk arrives only once the latency has passed, and chunks keep their order", async () => {
  const r = rig({ type: "latency", attributes: { latency: 100 } });
  r.source.write("first");
  await advance(50);
  r.source.write("second");
  await advance(40);
  assert.equal(r.received().length, 0, "nothing before 100 ms");
  await advance(20);
  assert.equal(r.received().toString(), "first", "the first chunk after its 100 ms");
  await advance(50);
  assert.equal(r.received().toString(), "firstsecond", "the second 100 ms after it was read");
});

test("latency with jitter: every chunk waits within latency ± jitter", async () => {
  const r = rig({ type: "latency", attributes: { latency: 100, jitter: 50 } });
  r.source.write("x");
  await advance(40);
  assert.equal(r.received().length, 0, "nothing before latency - jitter");
  await advance(120);
  assert.equal(r.received().toString(), "x", "delivered by latency + jitter");
});

test("timeout 0: a black hole holds every byte until the toxic is removed, then delivers them", async () => {
  const r = rig({ type: "timeout", attributes: { timeout: 0 } });
  r.source.write("held ");
  r.source.write("bytes");
  await advance(10_000, 1000);
  assert.equal(r.received().length, 0, "nothing passes while the toxic acts");
  assert.deepEqual(r.events, [], "timeout 0 never closes");
  r.pipe.detach(r.spec.name);
  await flush();
  assert.equal(r.received().toString(), "held bytes");
});

test("timeout N: the connection is closed N ms after the toxic starts, data or not", async () => {
  const r = rig({ type: "timeout", attributes: { timeout: 300 } });
  await advance(290);
  assert.deepEqual(r.events, []);
  await advance(20);
  assert.deepEqual(r.events, ["close: timeout after 300 ms"]);
});

test("reset_peer: the first data triggers a reset after the timeout, and is not delivered", async () => {
  const r = rig({ type: "reset_peer", attributes: { timeout: 200 } });
  await advance(500);
  assert.deepEqual(r.events, [], "no data, no reset");
  r.source.write("data");
  await advance(190);
  assert.deepEqual(r.events, []);
  await advance(20);
  assert.deepEqual(r.events, ["reset: reset_peer after 200 ms"]);
  assert.equal(r.received().length, 0);
});

test("slicer: every chunk is cut into slices of average_size ± size_variation, nothing lost", async () => {
  const r = rig({ type: "slicer", attributes: { average_size: 16, size_variation: 0, delay: 0 } });
  const data = Buffer.from(Array.from({ length: 1024 }, (_, i) => i % 251));
  r.source.write(data);
  await flush();
  assert.deepEqual(
    r.writes.map((w) => w.length),
    Array<number>(64).fill(16),
  );
  assert.deepEqual(r.received(), data);
});

test("slicer bounds: slices cover the chunk, none empty, none above average + variation (seeded)", () => {
  const seed = 11;
  const random = seededRandom(seed);
  for (let round = 0; round < 200; round++) {
    const length = 1 + Math.floor(random() * 5000);
    const average = 1 + Math.floor(random() * 64);
    const variation = Math.floor(random() * average);
    const cuts = sliceBounds(length, average, variation, random);
    let start = 0;
    for (const end of cuts) {
      assert.ok(end > start, `seed ${seed} round ${round}: empty slice`);
      assert.ok(end - start <= average + variation, `seed ${seed} round ${round}: slice too large`);
      start = end;
    }
    assert.equal(start, length, `seed ${seed} round ${round}: slices cover the chunk`);
  }
});

test("slicer delay: slices are spaced by delay µs", async () => {
  const r = rig({
    type: "slicer",
    attributes: { average_size: 4, size_variation: 0, delay: 100_000 },
  });
  r.source.write("aaaabbbbccccdddd");
  await flush();
  assert.equal(r.received().toString(), "aaaa");
  await advance(100);
  assert.equal(r.received().toString(), "aaaabbbb");
  await advance(200);
  assert.equal(r.received().toString(), "aaaabbbbccccdddd");
});

test("limit_data: exactly N bytes pass, then the connection is closed", async () => {
  const r = rig({ type: "limit_data", attributes: { bytes: 10 } });
  r.source.write("0123456");
  await flush();
  assert.deepEqual(r.events, []);
  r.source.write("789abcdef");
  await flush();
  assert.equal(r.received().toString(), "0123456789");
  assert.deepEqual(r.events, ["close: limit_data reached 10 bytes"]);
});

test("bandwidth: 10 KB at 1 KB/s takes 10 s, delivered at the rate as it goes", async () => {
  const r = rig({ type: "bandwidth", attributes: { rate: 1 } });
  r.source.write(Buffer.alloc(10_000));
  await advance(5_000, 100);
  const half = r.received().length;
  assert.ok(half >= 4_800 && half <= 5_200, `about half after 5 s, got ${half}`);
  await advance(5_100, 100);
  assert.equal(r.received().length, 10_000);
});

test("slow_close: the end of the stream is passed on only after the delay", async () => {
  const r = rig({ type: "slow_close", attributes: { delay: 1000 } });
  r.source.end("last");
  await advance(900, 100);
  assert.equal(r.received().toString(), "last", "data is not delayed");
  assert.equal(r.ended(), false, "the end is");
  await advance(200, 100);
  assert.equal(r.ended(), true);
});

test("backpressure: a destination that stops draining pauses the source; nothing is lost", async () => {
  const source = new PassThrough();
  const pending: (() => void)[] = [];
  const writes: Buffer[] = [];
  const destination = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      writes.push(chunk);
      pending.push(callback);
    },
  });
  const pipe = new FaultPipe(source, destination, () => Date.now(), 64 * 1024);
  for (let i = 0; i < 64; i++) source.write(Buffer.alloc(4096, i));
  await flush();
  assert.equal(source.isPaused(), true, "the source is paused");
  assert.ok(
    pipe.delivered <= 4096 * 2,
    `at most a chunk past the stalled write: ${pipe.delivered}`,
  );
  while (pending.length > 0 || writes.reduce((n, w) => n + w.length, 0) < 64 * 4096) {
    for (const callback of pending.splice(0)) callback();
    await flush();
  }
  const all = Buffer.concat(writes);
  assert.equal(all.length, 64 * 4096);
  for (let i = 0; i < 64; i++) assert.equal(all[i * 4096], i, `chunk ${i} in place`);
});
