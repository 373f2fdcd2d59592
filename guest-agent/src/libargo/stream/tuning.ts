// SPDX-License-Identifier: Apache-2.0
/**
 * Stream tunables shared by connectors and listeners, their defaults and their checks. The
 * window defaults to half the default ring: a connector's ring then always has room for a full
 * window of DATA frames (headers and slot padding included) plus control frames, so one
 * connection's data alone never fills it.
 */
import { maxMessageSize } from "@hmx/proto/abi";
import { DEFAULT_RING_LEN } from "../rx-ring.js";
import { FRAME_HEADER_SIZE } from "./frame.js";
import { ArgoSocketError } from "../errors.js";

export interface StreamTuning {
  /** Receive ring length of the connector's (or listener's) ring; default 130,992. */
  readonly ringLen?: number;
  /** Receive window in bytes; default 64 KiB. */
  readonly window?: number;
  /** Most payload bytes in one DATA frame; default 16 KiB. */
  readonly maxSegment?: number;
  /** Silence before a keepalive PING, ms; 0 disables keepalive; default 5000. */
  readonly keepaliveMs?: number;
  /** Unanswered PINGs before the connection is reset; default 3. */
  readonly keepaliveProbes?: number;
}

export type ResolvedTuning = Required<StreamTuning>;

export const STREAM_DEFAULTS: ResolvedTuning = {
  ringLen: DEFAULT_RING_LEN,
  window: 64 * 1024,
  maxSegment: 16 * 1024,
  keepaliveMs: 5000,
  keepaliveProbes: 3,
};

/** Fills in defaults; throws EINVAL naming the bad value and its limits. */
export function resolveTuning(t: StreamTuning): ResolvedTuning {
  const r: ResolvedTuning = { ...STREAM_DEFAULTS, ...stripUndefined(t) };
  const check = (name: keyof ResolvedTuning, min: number, max: number): void => {
    const v = r[name];
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new ArgoSocketError(
        "EINVAL",
        `stream ${name} ${v} is not an integer in [${min}, ${max}]`,
      );
    }
  };
  check("window", 1, 1 << 30);
  check("maxSegment", 1, 1 << 20);
  check("keepaliveMs", 0, 3_600_000);
  check("keepaliveProbes", 1, 1000);
  return r;
}

function stripUndefined(t: StreamTuning): Partial<ResolvedTuning> {
  return Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined));
}

/**
 * The largest DATA payload a ring of `ringLen` bytes can take in one message, as SYN and ACK
 * advertise it (in `seq`): a bigger frame would fail its sendv with EMSGSIZE.
 */
export function maxPayloadForRing(ringLen: number): number {
  return Math.max(1, maxMessageSize(ringLen) - FRAME_HEADER_SIZE);
}
