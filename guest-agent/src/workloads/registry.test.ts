// SPDX-License-Identifier: Apache-2.0
/** Tests of the workload registry: every `--workload` name has exactly one entry. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { WORKLOAD_NAMES } from "./index.js";
import { WORKLOADS, type WorkloadContext } from "./registry.js";

describe("workload registry", () => {
  it("every --workload name has an entry, and nothing else does", () => {
    assert.deepEqual(Object.keys(WORKLOADS).sort(), [...WORKLOAD_NAMES].sort());
  });

  it("a ping or traffic config without a peer is refused naming the workload, before anything starts", () => {
    for (const workload of ["ping", "traffic"] as const) {
      const ctx = { config: { workload, peer: undefined } } as unknown as WorkloadContext;
      assert.throws(() => WORKLOADS[workload](ctx), {
        message: `the ${workload} workload needs a peer`,
      });
    }
  });
});
