// SPDX-License-Identifier: Apache-2.0
/** The checks that decide `hmx up`'s exit code: which guest failed which counter, and why. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { failedChecks, type CheckedGuest } from "./checks.js";

function guest(
  name: string,
  workload: string,
  stats: Record<string, unknown> | undefined,
  running = true,
): CheckedGuest {
  return { spec: { name, workload }, stats, child: { running } };
}

describe("hmx up checks", () => {
  it("a clean fleet passes: zero correctness counters, every guest running", () => {
    assert.deepEqual(
      failedChecks([
        guest("sink", "sink", { received: 500, lost: 0, duplicates: 0, reordered: 0 }),
        guest("vdemo1", "virtio-demo", { blkVerifyErrors: 0, failedDevices: 0 }),
        guest("pinger", "ping", { lost: 3 }), // a ping timeout is the machine's, not a check
        guest("vrogue", "virtio-demo", { failedDevices: 1 }), // denied by policy, as designed
      ]),
      [],
    );
  });

  it("a sink that lost, duplicated or reordered fails, naming each counter and its value", () => {
    assert.deepEqual(
      failedChecks([guest("sink", "sink", { lost: 3, duplicates: 1, reordered: 0, malformed: 0 })]),
      [{ guest: "sink", check: "sink", detail: "3 lost, 1 duplicates" }],
    );
  });

  it("a virtio front end that read back other bytes than it wrote fails", () => {
    assert.deepEqual(failedChecks([guest("vdemo2", "virtio-demo", { blkVerifyErrors: 2 })]), [
      { guest: "vdemo2", check: "virtio-demo", detail: "2 blkVerifyErrors" },
    ]);
  });

  it("a guest that exited during the run fails, also before it reported any stats", () => {
    assert.deepEqual(failedChecks([guest("echo", "echo", undefined, false)]), [
      { guest: "echo", check: "running", detail: "exited during the run" },
    ]);
  });
});
