// SPDX-License-Identifier: Apache-2.0
/**
 * V8 heap tuning for processes that move bytes (the hypervisor, guest agents), applied once at
 * process start by their entry points (`hmx hypervisor`, `hmx guest`, the benchmark's workers —
 * the baseline relay's too, so a comparison measures code, not V8 settings).
 *
 * Why a flag, and why this one. The hypervisor's JS heap is small (~12 MB) and nearly constant,
 * while every byte it moves passes through several short-lived large Buffers: grpc-js's
 * reassembly of an incoming frame, a ReadMemory snapshot, protobufjs's encode and grpc-js's
 * framing copy. V8 counts ArrayBuffer bytes allocated since the last mark-compact against the
 * OLD generation's allocation limit, which it sets to a small multiple of the live heap (a few
 * MB of headroom here). Measured on the 64 KiB bench: a full mark-compact every ~8 MB of
 * external memory, ~400 in one run, 54% of the hypervisor's busy CPU in the collector, although
 * almost every one of those Buffers dies young and a scavenge would free it. A higher growing
 * factor gives the limit ~100 MB of headroom, so the young-generation scavenges (which V8 also
 * triggers on external memory pressure) free those Buffers first: the same run then does one
 * mark-compact and the hypervisor's CPU per MB moved falls by about 3x. No code change can get
 * there: the copies are grpc-js's and protobufjs's, and the limit is V8's.
 *
 * `--heap-growing-percent` is the one heap knob V8 reads at run time (each time it recomputes
 * the limit after a full collection), so it can be set here rather than on every launcher's
 * command line. Cost: garbage, JS or external, may reach ~10x the live heap before a full
 * collection. That is ~100-130 MB only while the live heap is the idle ~12 MB; it is not a bound
 * by itself, because the live heap grows with what the service holds. Under hostile notify
 * batches it did not hold (1.66 GB): a whole 1,024-call batch ran in one go and all its results
 * were live at once. What bounds it now is what bounds the live heap (docs/budgets.md): per
 * domain at most `--domain-held-bytes` (64 MiB) of results held, 16 MiB of queued requests per
 * Session, and one scheduler slice of results in the making, so garbage stays within ~10x of
 * (12 MB + those bytes for each domain with work in flight). The hostile tests measure it: at
 * most 256 MiB of peak growth for one attacking guest. An operator's own `--heap-growing-percent`
 * on the node command line wins, and `HMX_HEAP_GROWING_PERCENT=0` leaves V8's default.
 */
import { setFlagsFromString } from "node:v8";

/** Heap limit = live heap x (1 + this / 100) after a full collection. */
export const DATA_PATH_HEAP_GROWING_PERCENT = 1000;

let applied = false;

/**
 * Sets V8's heap growing factor for a byte-moving service, once per process. Returns the percent
 * in force, or null when V8's default was left alone (operator flag, or the env override 0).
 */
export function tuneHeapForDataPath(env: NodeJS.ProcessEnv = process.env): number | null {
  if (process.execArgv.some((a) => a.startsWith("--heap-growing-percent"))) return null;
  const override = env["HMX_HEAP_GROWING_PERCENT"];
  const percent =
    override === undefined || override === "" ? DATA_PATH_HEAP_GROWING_PERCENT : Number(override);
  if (!Number.isSafeInteger(percent) || percent <= 0) return null;
  if (!applied) {
    setFlagsFromString(`--heap-growing-percent=${percent}`);
    applied = true;
  }
  return percent;
}
