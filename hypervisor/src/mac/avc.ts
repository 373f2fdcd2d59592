// SPDX-License-Identifier: Apache-2.0
/**
 * The access vector cache, after Flask's AVC (xen/xsm/flask/avc.c): it keeps the security
 * server's answer for each (source sid, target sid) pair of class `argo`, so a hypercall's
 * checks cost a map lookup. An AVC belongs to exactly one compiled policy; loading a policy
 * builds a new AVC and swaps both in one assignment (Flask's `avc_ss_reset` on load), so no
 * decision can outlive the policy that produced it. When full it empties itself, a simpler
 * reclaim than Flask's, still bounded.
 */
import type { AvDecision, CompiledPolicy } from "./policy.js";

/** Default capacity: Flask's AVC holds 512 nodes by default; hmx domains are few. */
export const AVC_DEFAULT_CAPACITY = 8192;

/** Cumulative AVC statistics (Flask's `avc_cache_stats`). */
export interface AvcStats {
  lookups: number;
  misses: number;
  reclaims: number;
}

export class AccessVectorCache {
  readonly policy: CompiledPolicy;
  readonly #entries = new Map<number, AvDecision>();
  readonly #capacity: number;
  readonly #width: number;
  readonly #stats: AvcStats;

  /**
   * @param stats counters shared across the AVCs of successive policies, so they accumulate.
   */
  constructor(
    policy: CompiledPolicy,
    stats: AvcStats = { lookups: 0, misses: 0, reclaims: 0 },
    capacity = AVC_DEFAULT_CAPACITY,
  ) {
    this.policy = policy;
    this.#capacity = capacity;
    this.#width = policy.typeCount;
    this.#stats = stats;
  }

  /** `avc_has_perm_noaudit`'s lookup: the decision for (ssid, tsid), computed on a miss. */
  lookup(ssid: number, tsid: number): AvDecision {
    this.#stats.lookups++;
    // sids are < typeCount, so the key is unique and stays far below 2^53.
    const key = ssid * this.#width + tsid;
    let decision = this.#entries.get(key);
    if (decision === undefined) {
      this.#stats.misses++;
      decision = this.policy.computeAv(ssid, tsid);
      if (this.#entries.size >= this.#capacity) {
        this.#entries.clear();
        this.#stats.reclaims++;
      }
      this.#entries.set(key, decision);
    }
    return decision;
  }

  /** Cached pairs. */
  get size(): number {
    return this.#entries.size;
  }

  get stats(): Readonly<AvcStats> {
    return this.#stats;
  }
}
