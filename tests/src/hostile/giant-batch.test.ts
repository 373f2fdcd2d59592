// SPDX-License-Identifier: Apache-2.0
/** Hostile guest: one Session frame asking for 32 reads of 16 MiB (testkit/src/hostile/giant-batch.ts). */
import { giantBatch } from "@hmx/testkit";
import { test } from "node:test";
import { runGuestAttack } from "./hostile-check.js";

test("one Session frame asking for 32 reads of 16 MiB: peak growth ≤ 256 MiB, the service stays up and a victim pair keeps being served", async (t) => {
  await runGuestAttack(t, giantBatch, 10);
});
