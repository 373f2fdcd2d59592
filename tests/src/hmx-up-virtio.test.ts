// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx up` (VirtIO is part of the default) as a user runs it: a back-end guest serves virtio-blk, -net and -console to
 * front-end guests over Argo, found through the gfn-0 table. The live status line shows the
 * device traffic: disks written and read back with no mismatch, frames switched, consoles
 * written, and the front end the policy forbids failing its devices cleanly.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { test } from "node:test";
import { HMX_BIN } from "@hmx/cli/supervisor";
import { processesWithMarker } from "@hmx/testkit";

/** The numbers a guest's bracket shows on the status line, e.g. `vdemo1[devices 3, blkReads 12]`. */
function bracket(out: string, guest: string): Record<string, number> {
  const lines = out.split("\n").filter((l) => l.includes(`${guest}[`));
  const last = lines.at(-1) ?? "";
  const inner = /\[([^\]]*)\]/.exec(last.slice(last.indexOf(`${guest}[`)))?.[1] ?? "";
  const stats: Record<string, number> = {};
  for (const part of inner.split(", ")) {
    const m = /^(\w+) (-?\d+)$/.exec(part.trim());
    if (m?.[1] !== undefined) stats[m[1]] = Number(m[2]);
  }
  return stats;
}

test("hmx up serves disks, a network and consoles across guests, and refuses the forbidden front end", async () => {
  const marker = randomUUID();
  const child = spawn(process.execPath, [HMX_BIN, "up", "--refresh-ms", "500"], {
    env: { ...process.env, HMX_TEST_MARKER: marker },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      resolve(code);
    });
  });
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const backend = bracket(out, "vbackend");
      const demo1 = bracket(out, "vdemo1");
      const demo2 = bracket(out, "vdemo2");
      if (
        (backend["netFramesSwitched"] ?? 0) > 0 &&
        (demo1["blkReads"] ?? 0) > 0 &&
        (demo2["blkReads"] ?? 0) > 0 &&
        (backend["consoleBytes"] ?? 0) > 0
      )
        break;
      if (Date.now() > deadline)
        throw new Error(`no device traffic within 60 s; output:\n${out.slice(-3000)}`);
      if (child.exitCode !== null)
        throw new Error(`hmx up exited early (${child.exitCode}):\n${out.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    // The default runs the Argo guests alongside: eight domains, and the sink's stream arrives.
    assert.match(out, /8 domains/);
    assert.ok((bracket(out, "sink")["received"] ?? 0) > 0, "the Argo sink received its stream");
    for (const g of ["vdemo1", "vdemo2"]) {
      const s = bracket(out, g);
      assert.equal(s["blkVerifyErrors"], 0, `${g}: what was written to disk reads back intact`);
      assert.equal(s["failedDevices"], 0, `${g}: every device probed`);
    }
    // vrogue's label may not use the back end: its disk fails the probe (EACCES), cleanly.
    const rogue = await (async () => {
      const until = Date.now() + 30_000;
      for (;;) {
        const r = bracket(out, "vrogue");
        if ((r["failedDevices"] ?? 0) > 0 || Date.now() > until) return r;
        await new Promise((res) => setTimeout(res, 250));
      }
    })();
    assert.ok(
      (rogue["failedDevices"] ?? 0) >= 1,
      `the forbidden front end's device failed its probe: ${JSON.stringify(rogue)}`,
    );
    assert.equal(rogue["blkReads"] ?? 0, 0, "and it never reached the disk");
  } finally {
    child.kill("SIGINT");
  }
  assert.equal(await exited, 0, `hmx up exit code; output:\n${out.slice(-3000)}`);
  assert.deepEqual(processesWithMarker(marker), [], "no process left behind");
});
