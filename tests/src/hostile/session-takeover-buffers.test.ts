// SPDX-License-Identifier: Apache-2.0
/** Hostile guest: 16 Session takeovers, each leaving 4 × 16 MiB of results unread (testkit/src/hostile/session-takeover-buffers.ts). */
import { sessionTakeoverBuffers } from "@hmx/testkit";
import { test } from "node:test";
import { runGuestAttack } from "./hostile-check.js";

test("16 Session takeovers, each leaving 4 × 16 MiB of results unread: peak growth ≤ 256 MiB, the service stays up and a victim pair keeps being served", async (t) => {
  await runGuestAttack(t, sessionTakeoverBuffers, 0);
});
