// SPDX-License-Identifier: Apache-2.0
/**
 * What one hypercall cost, in the scheduler's work units: the bytes it actually copied or read,
 * plus a fixed cost per call and per entry (notify entry, iov, ring page) it processed. Counted
 * from the call and its result, not from the guest's quota: a ring whose gfns all repeat one
 * page costs one page of memory but a 16 MiB send into it still copies 16 MiB.
 */
import type { Hypercall, HypercallResult } from "./hypercall.js";

/** Work units a call costs before any byte it moves: decoding, dispatch, the result. */
export const CALL_WORK_UNITS = 256;
/** Work units per notify entry, iov or ring page processed. */
export const ENTRY_WORK_UNITS = 256;

export function workUnits(call: Hypercall, result: HypercallResult): number {
  let entries = 0;
  let bytes = 0;
  switch (call.op) {
    case "readMemory":
      bytes = result.op === "readMemory" ? result.data.length : 0;
      break;
    case "writeMemory":
      bytes = call.data.length;
      break;
    case "sendv":
      entries = call.args.iovs.length;
      bytes = result.op === "sendv" && result.ret > 0 ? result.ret : 0;
      break;
    case "notify":
      entries = call.ringData?.length ?? 0;
      break;
    case "registerRing":
      entries = call.args.gfns.length;
      break;
    case "unregisterRing":
    case "getDomainInfo":
      break;
  }
  return CALL_WORK_UNITS + entries * ENTRY_WORK_UNITS + bytes;
}
