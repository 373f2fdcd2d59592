// SPDX-License-Identifier: Apache-2.0
/**
 * A full disk under `--state-dir` (issue 13 item 3, docs/state.md): a real hypervisor whose state
 * dir is a small tmpfs refuses mutating hypercalls with UNAVAILABLE once the journal cannot
 * write, says so in its metrics, refuses state-changing toolstack calls the same way while
 * still serving reads, accepts them again when space returns, and after a SIGKILL and
 * restart every write a guest saw succeed is there. Needs root (mount); skipped otherwise.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { HypercallStatusError, SessionClient } from "@hmx/guest-agent";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import { Testbed } from "@hmx/testkit";

const UNAVAILABLE = 14;

/** Mounts a 2 MiB tmpfs; undefined when this process may not mount (not root, no CAP_SYS_ADMIN). */
function smallTmpfs(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), "hmx-full-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir], { stdio: "ignore" });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

const mountPoint = smallTmpfs();

test(
  "a full disk refuses mutating hypercalls and state-changing toolstack calls with UNAVAILABLE (toolstack reads served) and reports it in the metrics; with space back they run again, and nothing a guest saw succeed is lost",
  { skip: mountPoint === undefined ? "cannot mount a tmpfs here (needs root)" : false },
  async () => {
    if (mountPoint === undefined) return;
    const stateDir = join(mountPoint, "state");
    mkdirSync(stateDir);
    const args = ["--state-dir", stateDir, "--http-listen", "127.0.0.1:0"];
    let bed = await Testbed.start(args);
    let client: SessionClient | undefined;
    try {
      const http = String(bed.hypervisor.last("hypervisor ready")?.["httpListen"]);
      const metric = async (name: string): Promise<number> => {
        const res = await fetch(`http://${http}/metrics`, {
          headers: { authorization: `Bearer ${bed.adminToken}` },
        });
        const line = (await res.text()).split("\n").find((l) => l.startsWith(`${name} `));
        return Number(line?.split(" ")[1]);
      };
      const { credential } = await bed.domain("writer", 8 * 1024 * 1024);
      // Leave ~256 KiB free: the journal fills it within a few 64 KiB writes.
      const free = statfsSync(mountPoint).bavail * statfsSync(mountPoint).bsize;
      writeFileSync(join(mountPoint, "filler"), Buffer.alloc(Math.max(0, free - 256 * 1024)));
      client = await SessionClient.connect({ address: bed.listen, credential });
      const base = FIRST_GUEST_GFN * PAGE_SIZE;
      const chunk = (i: number): Buffer => Buffer.alloc(64 * 1024, i % 251);
      let succeeded = 0;
      let refusal: HypercallStatusError | undefined;
      for (let i = 0; i < 64 && refusal === undefined; i++) {
        try {
          assert.equal(await client.writeMemory(base + (i % 100) * 65536, chunk(i)), 0);
          succeeded = i + 1;
        } catch (err) {
          if (!(err instanceof HypercallStatusError)) throw err;
          refusal = err;
        }
      }
      assert.ok(refusal !== undefined, "a write was refused once the disk was full");
      assert.equal(refusal.code, UNAVAILABLE);
      assert.match(refusal.message, /state journal write failed: .*ENOSPC/);
      assert.equal(await metric("hmx_state_degraded"), 1);
      assert.ok((await metric("hmx_state_write_errors_total")) >= 1);
      // The toolstack while degraded: a call that changes state is refused before it runs,
      // naming the failure; a read is served.
      await assert.rejects(
        bed.toolstack.createDomain({ name: "late", label: "late_t", memoryBytes: 65536 }),
        (err: { code?: number; message?: string }) =>
          err.code === UNAVAILABLE &&
          /state journal write failed: .*ENOSPC/.test(err.message ?? ""),
      );
      const listed = await bed.toolstack.listDomains();
      assert.deepEqual(
        listed.map((d) => d.name),
        ["writer"],
        "reads are served, and the refused domain was not created",
      );
      // Space returns: the retry (every second) writes the kept records, and writes run again.
      rmSync(join(mountPoint, "filler"));
      const deadline = Date.now() + 20_000;
      for (;;) {
        try {
          assert.equal(await client.writeMemory(base + succeeded * 65536, chunk(succeeded)), 0);
          succeeded++;
          break;
        } catch (err) {
          if (!(err instanceof HypercallStatusError) || Date.now() > deadline) throw err;
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      assert.equal(await metric("hmx_state_degraded"), 0);
      await client.close();
      client = undefined;
      // SIGKILL and restart on the same state dir: every write that succeeded is there.
      bed.hypervisor.child.process.kill("SIGKILL");
      await bed.hypervisor.child.exited;
      bed.toolstack.close();
      bed = await Testbed.start(args);
      client = await SessionClient.connect({ address: bed.listen, credential });
      for (let i = 0; i < succeeded; i++) {
        const { data } = await client.readMemory(base + (i % 100) * 65536, 64 * 1024);
        assert.ok(data.equals(chunk(i)), `write ${i} survived`);
      }
    } finally {
      await client?.close();
      await bed.stopAll();
      execFileSync("umount", [mountPoint]);
      rmSync(mountPoint, { recursive: true, force: true });
    }
  },
);
