// SPDX-License-Identifier: Apache-2.0
/** Hostile guest: 512 sends of almost 16 MiB into a 16 MiB ring whose gfns repeat one page (testkit/src/hostile/stall-victim.ts). */
import { stallVictim } from "@hmx/testkit";
import { test } from "node:test";
import { runGuestAttack } from "./hostile-check.js";

test("512 sends of almost 16 MiB into a 16 MiB ring whose gfns repeat one page: peak growth ≤ 256 MiB, the service stays up and a victim pair keeps being served", async (t) => {
  await runGuestAttack(t, stallVictim, 10);
});
