// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

// In a child process: the failure was the process itself exiting (code 13, an unsettled
// top-level await) because nothing held the event loop during an endless readiness wait.
const CHILD = `
import { enrol } from ${JSON.stringify(new URL("./platform-client.js", import.meta.url).href)};
const log = { warn: () => { console.log("retrying"); process.exit(0); } };
await enrol("unix:/nonexistent/hmx-guest.sock", "token", "instance", { timeoutMs: Infinity, log });
`;

test("an enrolment with no time limit keeps retrying an absent hypervisor instead of exiting", () => {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", CHILD], {
    encoding: "utf8",
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `exit ${r.status ?? r.signal}: ${r.stderr}`);
  assert.equal(r.stdout.trim(), "retrying");
});
