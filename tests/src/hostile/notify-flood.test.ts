// SPDX-License-Identifier: Apache-2.0
/** Hostile guest: three Session frames of 1,024 notify calls of 256 entries (testkit/src/hostile/notify-flood.ts). */
import { notifyFlood } from "@hmx/testkit";
import { test } from "node:test";
import { runGuestAttack } from "./hostile-check.js";

test("three Session frames of 1,024 notify calls of 256 entries: peak growth ≤ 256 MiB, the service stays up and a victim pair keeps being served", async (t) => {
  await runGuestAttack(t, notifyFlood, 10);
});
