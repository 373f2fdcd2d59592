// SPDX-License-Identifier: Apache-2.0
/**
 * About how many bytes a result takes once encoded: what a reply or a results frame is charged
 * to its domain (dispatch/held-bytes.ts) and what decides where a results frame is cut. An
 * upper estimate of the protobuf encoding, not the exact size: it only has to track the bytes
 * that grow with guest input (read data, notify entries, messages).
 */
import type { HypercallResult } from "../dispatch/hypercall.js";

/** Request id, op tag, ret and framing of any result. */
const RESULT_OVERHEAD_BYTES = 32;
/** One notify result entry (address, flags, space, max message size). */
const NOTIFY_ENTRY_BYTES = 32;

export function resultWireBytes(result: HypercallResult): number {
  switch (result.op) {
    case "readMemory":
      return RESULT_OVERHEAD_BYTES + result.data.length;
    case "notify":
      return RESULT_OVERHEAD_BYTES + result.entries.length * NOTIFY_ENTRY_BYTES;
    case "status":
      return RESULT_OVERHEAD_BYTES + Buffer.byteLength(result.message);
    case "getDomainInfo":
      return RESULT_OVERHEAD_BYTES + Buffer.byteLength(result.info.label);
    case "writeMemory":
    case "registerRing":
    case "unregisterRing":
    case "sendv":
      return RESULT_OVERHEAD_BYTES;
  }
}
