// SPDX-License-Identifier: Apache-2.0
/**
 * Sanity of the MAC benchmark: its policy compiles with the decisive rules at the end, a short
 * run measures both configurations without a single denial, and the ratio is computed from
 * the rows (the 0.9 target itself is judged by `npm run bench`, not by the unit tests).
 */
import { compilePolicy } from "@hmx/hypervisor";
import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { MAC_BENCH_RULES, benchPolicy, runMacBench } from "./mac-bench.js";

describe("mac bench", () => {
  it("the benchmark policy has 1,000 allow rules with the decisive ones last", () => {
    const r = compilePolicy(benchPolicy(), "mac-bench.te");
    assert.ok(r.ok);
    assert.equal(r.policy.rules.length, MAC_BENCH_RULES);
    assert.equal(r.policy.rules.at(-1)?.text, "allow sender_t receiver_t:argo send;");
  });

  it("a short run measures dummy and flask+firewall with 1,000 rules each and reports the ratio", async () => {
    const result = await runMacBench({ messagesPerRound: 5000, maxRoundMs: 200, rounds: 1 });
    const [dummy, mac] = result.rows;
    assert.equal(dummy?.config, "dummy");
    assert.equal(mac?.config, "flask+firewall");
    assert.equal(mac.policyRules, 1000);
    assert.equal(mac.firewallRules, 1000);
    assert.ok(dummy.msgsPerSec > 0 && mac.msgsPerSec > 0);
    assert.equal(result.ratio, mac.msgsPerSec / dummy.msgsPerSec);
    assert.equal(result.targetRatio, 0.9);
  });
});
