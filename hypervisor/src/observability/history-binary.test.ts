// SPDX-License-Identifier: Apache-2.0
/**
 * The binary history format (`?format=binary`): for random hot events (sendv ok and failed,
 * ReadMemory, WriteMemory) and other events (a gap, long and non-ASCII JSON events), what the
 * binary sink writes, parsed as WebSocket frames and decoded by the client's decoder, deep-equals
 * `JSON.parse` of each line the text path writes, for clocks anchored anywhere from 1970 to 2200.
 * Bounded; prints its seed (HMX_TEST_SEED replays it).
 */
import assert from "node:assert/strict";
import type { Duplex } from "node:stream";
import { test } from "node:test";
import { WebSocket } from "ws";
import { ARGO_DOMID_ANY } from "@hmx/proto/abi";
import { decodeHistoryFrame, type HistoryEvent } from "@hmx/client";
import type { Domain } from "../domain/domain.js";
import { fakeCaller, LineSink, seededPicks } from "../test-utils/record-fixtures.js";
import type { Hypercall } from "../dispatch/hypercall.js";
import { binaryHistorySink } from "../http/binary-history-sink.js";
import { History, type HistorySink } from "./history.js";
import { RecordingObserver } from "./recording-observer.js";
import { Rfc3339Clock } from "./rfc3339-clock.js";

const { seed, random } = seededPicks();

/** The binary sink over a socket that keeps what is written, and the frames' payloads. */
function capturedBinarySink(): { sink: HistorySink; payloads: () => Buffer[] } {
  const written: Buffer[] = [];
  const socket = {
    write(chunk: Buffer, done: () => void) {
      written.push(Buffer.from(chunk));
      done();
      return true;
    },
  } as unknown as Duplex;
  const ws = { bufferedAmount: 0, readyState: WebSocket.OPEN } as unknown as WebSocket;
  const sink = binaryHistorySink(ws, socket, 1000);
  const payloads = (): Buffer[] => {
    const bytes = Buffer.concat(written);
    const out: Buffer[] = [];
    for (let at = 0; at < bytes.length;) {
      assert.equal(bytes[at], 0x82, `a final binary frame at ${at}`);
      let n = bytes[at + 1] ?? 0;
      let header = 2;
      if (n === 126) {
        n = bytes.readUInt16BE(at + 2);
        header = 4;
        assert.ok(n >= 126, `the length ${n} at ${at} takes the shortest header`);
      } else if (n === 127) {
        n = Number(bytes.readBigUInt64BE(at + 2));
        header = 10;
        assert.ok(n >= 65536, `the length ${n} at ${at} takes the shortest header`);
      }
      out.push(bytes.subarray(at + header, at + header + n));
      at += header + n;
    }
    return out;
  };
  return { sink, payloads };
}

/** A random hot hypercall and its result: sendv (ok, or failed with a named or unnamed errno), ReadMemory or WriteMemory. */
function randomHot(): { caller: Domain; call: Hypercall; ret: number } {
  const payload = Buffer.from(Array.from({ length: 256 }, () => random(256)));
  // Sometimes the payload lies outside the sender's memory: its digest is then "".
  const caller = fakeCaller(random(0x7ff0), payload, random(4) === 0 ? 0 : 1 << 20);
  switch (random(4)) {
    case 0: {
      const gpa = random(2) === 0 ? random(1 << 30) : random(1 << 30) * 2 ** 22 + random(1 << 22);
      return { caller, call: { op: "readMemory", gpa, length: random(1 << 20) } as never, ret: 0 };
    }
    case 1: {
      const data = Buffer.from(Array.from({ length: random(64) }, () => random(256)));
      const gpa = random(1 << 30) * 2 ** 22 + random(1 << 22);
      return { caller, call: { op: "writeMemory", gpa, data } as never, ret: 0 };
    }
    default: {
      const call = {
        op: "sendv",
        args: {
          src: {
            domainId: random(3) === 0 ? ARGO_DOMID_ANY : random(0x7ff0),
            aport: random(2) === 0 ? 0xffffffff : random(70000),
          },
          dst: { domainId: random(0x7ff0), aport: random(2) === 0 ? 0xffffffff : random(1 << 30) },
          iovs: [{ gpa: 4096, len: 1 + random(256) }],
          messageType: random(3) === 0 ? 0xffffffff : random(10),
        },
      } as unknown as Hypercall;
      const failed = random(3) === 0;
      const ret = failed ? -([11, 111, 999][random(3)] ?? 11) : random(1 << 20);
      return { caller, call, ret };
    }
  }
}

test("binary frames decode to exactly the events of the JSON lines, for every hot op and outcome and any other event", () => {
  for (let run = 0; run < 12; run++) {
    // Anchored anywhere from 1970 to 2200, at any millisecond: the u64 time's arithmetic.
    const anchor = random(7_258_118_400) * 1000 + random(1000);
    const clock = new Rfc3339Clock(anchor, performance.now() - random(5000));
    const h = new History({ capacity: 5000, maxBufferedBytes: 1 << 30, maxLagEpisodes: 3, clock });
    h.startRecording();
    const observer = new RecordingObserver(h, undefined);
    const events = 1 + random(run % 3 === 0 ? 3000 : 300);
    for (let n = 0; n < events; n++) {
      const pick = random(40);
      if (pick === 0)
        h.append("mac", 1, 2, {
          rule: "é ✓ \u2028",
          n: random(1000),
          pad: "x".repeat(random(300)),
        });
      else if (pick === 1 && run % 4 === 0)
        h.append("domain", 3, -1, { blob: "y".repeat(65536 + random(1000)) });
      else {
        const { caller, call, ret } = randomHot();
        observer.hypercall(caller, call, { op: call.op, ret } as never, 0);
      }
    }
    const text = new LineSink();
    const binary = capturedBinarySink();
    // Both from before the oldest retained event when the window has moved: each starts with a gap.
    const since = random(2) === 0 ? 0 : Math.max(0, h.oldestSeq - 1 - random(10));
    h.subscribe(text, { since, closeWhenBehind: false }).cancel();
    h.subscribe(binary.sink, { since, closeWhenBehind: false }).cancel();
    // A gap is timed when it is sent, which differs between the two subscriptions.
    const untimedGap = (e: { kind: string; time: string }): unknown =>
      e.kind === "gap" ? { ...e, time: "" } : e;
    const expected = text.lines.map((l) => untimedGap(JSON.parse(l) as HistoryEvent));
    const decoded = binary.payloads().flatMap((p) => decodeHistoryFrame(p).map(untimedGap));
    assert.equal(decoded.length, expected.length, `seed ${seed}, run ${run}: as many events`);
    decoded.forEach((event, i) => {
      assert.deepEqual(event, expected[i], `seed ${seed}, run ${run}, event ${i}`);
      // The same keys in the same order, as a harness printing them would see.
      assert.equal(
        JSON.stringify(event),
        JSON.stringify(expected[i]),
        `seed ${seed}, run ${run}, event ${i}`,
      );
    });
  }
});

test("a live binary subscriber gets every event as the JSON one does while the ring wraps under it, runs of records copied in frames of at most 64 KiB", async () => {
  // A small ring: records wrap to its start every few dozen events, which ends a run of
  // back-to-back records; a pump of thousands of events spans several frames.
  const h = new History({
    capacity: 4000,
    maxBufferedBytes: 1 << 30,
    maxLagEpisodes: 3,
    maxBytes: 4096,
  });
  const observer = new RecordingObserver(h, undefined);
  const text = new LineSink();
  const binary = capturedBinarySink();
  h.subscribe(text, { closeWhenBehind: true });
  h.subscribe(binary.sink, { closeWhenBehind: true });
  for (let turn = 0; turn < 40; turn++) {
    // Fewer events per turn than the ring holds, so neither subscriber is overtaken.
    for (let n = random(60); n > 0; n--) {
      if (random(20) === 0) h.append("virq", 1, -1, { domid: 1, virq: random(20) });
      else {
        const { caller, call, ret } = randomHot();
        observer.hypercall(caller, call, { op: call.op, ret } as never, 0);
      }
    }
    await new Promise((r) => setImmediate(r));
  }
  const payloads = binary.payloads();
  for (const p of payloads) assert.ok(p.length <= 65535, `a frame of ${p.length} bytes`);
  const expected = text.lines.map((l) => JSON.parse(l) as HistoryEvent);
  const decoded = payloads.flatMap((p) => decodeHistoryFrame(p));
  assert.ok(expected.length > 0);
  assert.equal(decoded.length, expected.length, `seed ${seed}: as many events`);
  decoded.forEach((event, i) => {
    assert.equal(JSON.stringify(event), JSON.stringify(expected[i]), `seed ${seed}, event ${i}`);
  });
});

test("one pump's records past 64 KiB are split into frames at entry boundaries", () => {
  const h = new History({ capacity: 20000, maxBufferedBytes: 1 << 30, maxLagEpisodes: 3 });
  h.startRecording();
  const observer = new RecordingObserver(h, undefined);
  for (let n = 0; n < 5000; n++) {
    const { caller, call, ret } = randomHot();
    observer.hypercall(caller, call, { op: call.op, ret } as never, 0);
  }
  const text = new LineSink();
  const binary = capturedBinarySink();
  h.subscribe(text, { since: 0, closeWhenBehind: false }).cancel();
  h.subscribe(binary.sink, { since: 0, closeWhenBehind: false }).cancel();
  const payloads = binary.payloads();
  assert.ok(payloads.length > 1, `${payloads.length} frames for 5000 events`);
  for (const p of payloads) assert.ok(p.length <= 65535, `a frame of ${p.length} bytes`);
  const decoded = payloads.flatMap((p) => decodeHistoryFrame(p));
  assert.deepEqual(
    decoded.map((e) => JSON.stringify(e)),
    text.lines.map((l) => JSON.stringify(JSON.parse(l))),
    `seed ${seed}`,
  );
});

test("the clock's u64 nanoseconds are the instant it formats, across second and low-word carries", () => {
  // A second whose nanosecond count's low word is within 10^9 of 2^32: its later instants carry.
  let carrySecond = 1_800_000_000;
  while ((BigInt(carrySecond) * 1_000_000_000n) % 2n ** 32n < 2n ** 32n - 900_000_000n)
    carrySecond++;
  const out = Buffer.alloc(8);
  for (let n = 0; n < 3000; n++) {
    const anchor =
      n % 3 === 0 ? carrySecond * 1000 + random(1000) : random(7_258_118_400) * 1000 + random(1000);
    const clock = new Rfc3339Clock(anchor, 1000);
    const mono = 1000 + random(2000) + random(1_000_000) / 1e6;
    clock.writeEpochNs(mono, out, 0);
    const text = clock.format(mono);
    const expected =
      (BigInt(Date.parse(`${text.slice(0, 19)}Z`)) / 1000n) * 1_000_000_000n +
      BigInt(text.slice(20, 29));
    assert.equal(out.readBigUInt64LE(0), expected, `seed ${seed}: ${anchor} ${mono} ${text}`);
  }
});
