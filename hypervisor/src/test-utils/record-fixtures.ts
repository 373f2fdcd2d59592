// SPDX-License-Identifier: Apache-2.0
/**
 * What the history's record tests (sendv-record.test.ts, history-binary.test.ts) share: a seeded
 * source of random picks, a sink that keeps the JSON lines, and a calling domain.
 */
import { crc32Of } from "../crc32.js";
import type { Domain } from "../domain/domain.js";
import { seededRandom } from "../faults/seeded-random.js";
import type { HistorySink } from "../observability/history.js";

/**
 * Integers in [0, limit) from one printed seed (HMX_TEST_SEED replays it), drawn from the fault
 * engine's mulberry32: an LCG's low bits would make `% 2` and `% 4` picks alternate.
 */
export function seededPicks(): { seed: number; random: (limit: number) => number } {
  const seed = Number(process.env["HMX_TEST_SEED"] ?? Date.now() % 100000);
  // eslint-disable-next-line no-console -- test output: the replay instruction
  console.log(`seed ${seed}`);
  const draw = seededRandom(seed);
  return { seed, random: (limit) => Math.floor(draw() * limit) };
}

/** The text path's lines, as a JSON subscriber gets them; never closed by the history. */
export class LineSink implements HistorySink {
  readonly lines: string[] = [];
  readonly bufferedAmount = 0;
  send(event: Uint8Array): void {
    this.lines.push(Buffer.from(event).toString());
  }
  close(): void {
    // The tests end their subscriptions themselves.
  }
}

/**
 * A caller whose memory holds `payload` everywhere below `limit` (a range past it is outside the
 * caller's memory: its digest is then "").
 */

export function fakeCaller(domid: number, payload: Buffer, limit: number): Domain {
  const memory = {
    contains: (gpa: number, len: number) => gpa + len <= limit,
    copyOut(_gpa: number, len: number, out: Buffer, at: number) {
      payload.copy(out, at, 0, len);
    },
    crc32: (_gpa: number, len: number, crc: number) => crc32Of(payload, 0, len, crc),
    read: (_gpa: number, len: number) => payload.subarray(0, len),
  };
  return { domid, memory } as unknown as Domain;
}
