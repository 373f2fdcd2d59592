// SPDX-License-Identifier: Apache-2.0
/**
 * The fault engine's only source of chance (toxicity, jitter, slice sizes): one seed, printed at
 * start, reproduces every draw made in the same order.
 */

/** A seeded generator of floats in [0, 1) (mulberry32: tiny, fast, good enough for faults). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh seed when none is given (an unsigned 32-bit integer). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296);
}
