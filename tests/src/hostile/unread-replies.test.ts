// SPDX-License-Identifier: Apache-2.0
/** Hostile guest: 32 unary ReadMemory calls of 16 MiB whose replies are never read (testkit/src/hostile/unread-replies.ts). */
import { unreadReplies } from "@hmx/testkit";
import { test } from "node:test";
import { runGuestAttack } from "./hostile-check.js";

test("32 unary ReadMemory calls of 16 MiB whose replies are never read: peak growth ≤ 256 MiB, the service stays up and a victim pair keeps being served", async (t) => {
  await runGuestAttack(t, unreadReplies, 0);
});
