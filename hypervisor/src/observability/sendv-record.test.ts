// SPDX-License-Identifier: Apache-2.0
/**
 * Sendvs (ok or failed), successful ReadMemorys and WriteMemorys are recorded as binary records and rendered
 * when read (sendv-record.ts, memory-record.ts):
 * the line must be exactly what the text path writes, the clock's byte writer must agree with
 * its string formatter, and binary records must share the byte ring with JSON lines without
 * breaking the window's retention rules. Randomised cases are bounded and print their seed.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ARGO_DOMID_ANY } from "@hmx/proto/abi";
import type { Domain } from "../domain/domain.js";
import { fakeCaller, LineSink, seededPicks } from "../test-utils/record-fixtures.js";
import type { Hypercall } from "../dispatch/hypercall.js";
import { History, NO_DOMID } from "./history.js";
import { RecordingObserver, hypercallValue } from "./recording-observer.js";
import { Rfc3339Clock } from "./rfc3339-clock.js";
import { resultLabel } from "./metrics.js";

/** EAGAIN, ECONNREFUSED, and a number no errno has. */
const SENDV_ERRNOS = [11, 111, 999];

const { seed, random } = seededPicks();

function randomSendv(): { caller: Domain; call: Hypercall } {
  const payload = Buffer.alloc(256);
  for (let i = 0; i < payload.length; i++) payload[i] = random(256);
  const len = 1 + random(256);
  // Sometimes the payload lies outside the sender's memory: the digest is then "".
  const caller = fakeCaller(random(0x7ff0), payload, random(4) === 0 ? 0 : 1 << 20);
  const call = {
    op: "sendv",
    args: {
      src: {
        domainId: random(3) === 0 ? ARGO_DOMID_ANY : random(0x7ff0),
        aport: random(2) === 0 ? 0xffffffff : random(70000),
      },
      dst: { domainId: random(0x7ff0), aport: random(1 << 30) },
      iovs: [{ gpa: 4096, len }],
      messageType: random(3) === 0 ? 0xffffffff : random(10),
    },
  } as unknown as Hypercall;
  return { caller, call };
}

/** A successful ReadMemory or WriteMemory anywhere in a 2^53-byte space, as binary-recorded. */
function randomMemoryOp(): { caller: Domain; call: Hypercall } {
  const caller = fakeCaller(random(0x7ff0), Buffer.alloc(0), 0);
  const gpa = random(2) === 0 ? random(1 << 30) : random(1 << 30) * 2 ** 22 + random(1 << 22);
  const call =
    random(2) === 0
      ? { op: "readMemory", gpa, length: random(3) === 0 ? 0 : random(1 << 20) }
      : {
          op: "writeMemory",
          gpa,
          data: Buffer.from(Array.from({ length: random(64) }, () => random(256))),
        };
  return { caller, call: call as unknown as Hypercall };
}

describe("sendv records", () => {
  test("a sendv's (ok or failed), a ReadMemory's or a WriteMemory's binary record renders exactly the line the text path writes", async () => {
    const h = new History({ capacity: 1000, maxBufferedBytes: 1 << 20, maxLagEpisodes: 3 });
    const sink = new LineSink();
    h.subscribe(sink, { closeWhenBehind: true });
    const observer = new RecordingObserver(h, undefined);
    const expected: string[] = [];
    for (let n = 0; n < 300; n++) {
      const { caller, call } = random(3) === 0 ? randomMemoryOp() : randomSendv();
      // A sendv fails now and then, with a known errno or one without a name.
      const failed = call.op === "sendv" && random(3) === 0;
      const ret =
        call.op !== "sendv" ? 0 : failed ? -(SENDV_ERRNOS[random(3)] ?? 11) : random(1 << 20);
      const seq = h.nextSeq;
      observer.hypercall(caller, call, { op: call.op, ret } as never, 0);
      const value = JSON.stringify(hypercallValue(caller, call, !failed));
      const error = failed ? `,"error":"${resultLabel({ op: "sendv", ret } as never)}"` : "";
      expected.push(
        `{"seq":${seq},"time":"TIME","kind":"hypercall","type":"${failed ? "fail" : "ok"}","f":"${call.op}",` +
          `"process":${caller.domid},"ret":${ret},"value":${value}${error}}`,
      );
    }
    await new Promise((r) => setImmediate(r));
    assert.equal(sink.lines.length, expected.length);
    sink.lines.forEach((line, i) => {
      const time = /"time":"([^"]*)"/.exec(line)?.[1] ?? "";
      assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
      assert.equal(line, expected[i]?.replace("TIME", time), `seed ${seed}, event ${i}`);
    });
  });

  test("the clock writes the same bytes as it formats, for any reading", () => {
    const clock = new Rfc3339Clock(Date.UTC(2026, 0, 2, 3, 4, 5, 999), 1000);
    const out = Buffer.alloc(64);
    for (let n = 0; n < 2000; n++) {
      const mono = 1000 + random(1 << 30) / 1000 + random(1000) / 1e6;
      const end = clock.writeTo(mono, out, 3);
      assert.equal(out.toString("latin1", 3, end), clock.format(mono), `seed ${seed}, ${mono}`);
    }
  });

  test("binary records of both sizes and JSON lines share the byte ring: every retained event stays intact as it wraps", () => {
    const h = new History({
      capacity: 1000,
      maxBufferedBytes: 1 << 20,
      maxLagEpisodes: 3,
      maxBytes: 4096,
    });
    const observer = new RecordingObserver(h, undefined);
    h.startRecording();
    for (let round = 0; round < 60; round++) {
      for (let k = 1 + (round % 7); k > 0; k--) {
        if (random(2) === 0) {
          const { caller, call } = random(2) === 0 ? randomMemoryOp() : randomSendv();
          observer.hypercall(caller, call, { op: call.op, ret: 1 } as never, 0);
        } else h.append("hypercall", 1, NO_DOMID, { pad: "é".repeat(random(200)) });
      }
      const sink = new LineSink();
      h.subscribe(sink, { since: h.oldestSeq - 1, closeWhenBehind: true }).cancel();
      const seqs = sink.lines.map((l) => (JSON.parse(l) as { seq: number }).seq);
      assert.ok(seqs.length > 0, `seed ${seed}, round ${round}: something is retained`);
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => h.oldestSeq + i),
        `seed ${seed}, round ${round}`,
      );
      assert.equal(seqs.at(-1), h.nextSeq - 1, "the newest event is always retained");
    }
  });
});
