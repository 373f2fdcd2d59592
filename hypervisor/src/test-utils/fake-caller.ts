// SPDX-License-Identifier: Apache-2.0
/**
 * A calling domain for the history's record tests (sendv-record.test.ts, history-binary.test.ts):
 * just the memory a record reads its payload's digest from, holding `payload` everywhere below
 * `limit` (a range past it is outside the caller's memory, whose digest is then "").
 */
import type { Domain } from "../domain/domain.js";

export function fakeCaller(domid: number, payload: Buffer, limit: number): Domain {
  const memory = {
    contains: (gpa: number, len: number) => gpa + len <= limit,
    copyOut(_gpa: number, len: number, out: Buffer, at: number) {
      payload.copy(out, at, 0, len);
    },
    read: (_gpa: number, len: number) => payload.subarray(0, len),
  };
  return { domid, memory } as unknown as Domain;
}
