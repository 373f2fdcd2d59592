// SPDX-License-Identifier: Apache-2.0
/**
 * Guests outlive the hypervisor (issue 13 item 2), with real processes: a fleet of `hmx guest`
 * processes (ping/echo, a numbered stream into a sink, a VirtIO back end and a front end using
 * disk, NIC and console) under a hypervisor that becomes unreachable, is SIGKILLed and comes
 * back on the same ports. Every guest carries the unhandled-rejection hook: a rejection nobody
 * handled would end it with exit code 70, never silently.
 *
 * - Unreachable for a while (connection refused): every guest waits and resumes, nothing lost.
 * - Restarted WITHOUT a state dir: the new hypervisor knows no domain, so every guest exits 4
 *   (DOMAIN_LOST) saying that the hypervisor restarted without its state — no crash.
 * - Restarted WITH `--state-dir` (h13's half of the issue): every guest resumes, nothing lost.
 *   Marked todo, with the reason, while `hmx hypervisor` has no `--state-dir`. The VirtIO disk
 *   works again too: the state dir keeps device placements and both tables at gfn 0.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, test } from "node:test";
import { TcpProxy, Testbed } from "@hmx/testkit";
import {
  UNHANDLED_REJECTION_EXIT,
  exitCodeOf,
  fleetIsBusy,
  killAndRestartHypervisor,
  latest,
  num,
  sleep,
  startRestartFleet,
  stateDirTodo,
  type RestartFleet,
} from "./fleet-restart-harness.js";

const DOMAIN_LOST_EXIT = 4;

/** Every guest made progress again: pings, the stream, and (with `disk`) the virtio disk. */
async function fleetProgressesPast(f: RestartFleet, what: string, disk = true): Promise<void> {
  const before = {
    pings: latest(f.pinger, "received"),
    sunk: latest(f.sink, "received"),
    writes: latest(f.vdemo, "blkWrites"),
  };
  const past = (p: typeof f.pinger, key: string, n: number, label: string) =>
    p.waitFor((r) => r.msg === "guest stats" && num(r, key) > n + 5, 60_000, `${label} ${what}`);
  await past(f.pinger, "received", before.pings, "ping replies");
  await past(f.sink, "received", before.sunk, "sink messages");
  if (!disk) return;
  await f.vdemo.waitFor(
    (r) => r.msg === "guest stats" && num(r, "blkWrites") > before.writes,
    60_000,
    `virtio-blk writes ${what}`,
  );
}

/** Nothing the sink received was lost, duplicated or reordered, and no guest exited. */
function assertNothingLost(f: RestartFleet, disk = true): void {
  for (const p of f.all) {
    assert.equal(p.child.running, true, `${p.child.name} is still running: ${p.text.join(" | ")}`);
  }
  for (const key of ["gaps", "lost", "duplicates", "reordered", "malformed"]) {
    assert.equal(latest(f.sink, key), 0, `sink ${key}`);
  }
  if (disk) assert.equal(latest(f.vdemo, "blkVerifyErrors"), 0, "disk contents verified");
}

describe("guests outlive the hypervisor", { timeout: 300_000 }, () => {
  let bed: Testbed | undefined;
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    for (const p of proxies.splice(0)) await p.close();
    await bed?.stopAll();
    bed = undefined;
  });

  test("a hypervisor unreachable for several seconds (connection refused) is waited for, and every guest resumes with nothing lost", async () => {
    bed = await Testbed.start(["--argo-mac-permissive"]);
    let proxy = await TcpProxy.start(bed.listen);
    proxies.push(proxy);
    const fleet = await startRestartFleet(bed, proxy.address);
    await fleetIsBusy(fleet);
    const port = proxy.port;
    await proxy.close();
    proxies.pop();
    // Several of the backoff's 2 s steps: connections are refused the whole time.
    await sleep(5000);
    proxy = await TcpProxy.start(bed.listen, port);
    proxies.push(proxy);
    await fleetProgressesPast(fleet, "after the outage");
    assertNothingLost(fleet);
  });

  test("restarted without a state dir, the hypervisor lost every domain: each guest exits 4 saying so, none on an unhandled rejection", async () => {
    bed = await Testbed.start(["--argo-mac-permissive"]);
    const fleet = await startRestartFleet(bed);
    await fleetIsBusy(fleet);
    await killAndRestartHypervisor(bed, ["--argo-mac-permissive"], 1000);
    for (const p of fleet.all) {
      const code = await exitCodeOf(p, 60_000);
      const output = p.text.join("\n");
      assert.notEqual(code, UNHANDLED_REJECTION_EXIT, `${p.child.name}: ${output}`);
      assert.equal(code, DOMAIN_LOST_EXIT, `${p.child.name} exit code; output: ${output}`);
      assert.match(
        output,
        /no longer accepts domain \d+'s credential .*restarted without its state \(--state-dir\)/,
        p.child.name,
      );
    }
  });

  /** SIGKILL + restart with a state dir, twice (the second with no pause: a crash loop). */
  async function restartTwiceWithState(disk: boolean): Promise<void> {
    const stateDir = mkdtempSync(join(tmpdir(), "hmx-state-"));
    const args = ["--argo-mac-permissive", "--state-dir", join(stateDir, "hv")];
    bed = await Testbed.start(args);
    const fleet = await startRestartFleet(bed);
    await fleetIsBusy(fleet);
    await killAndRestartHypervisor(bed, args, 1000);
    await fleetProgressesPast(fleet, "after the restart", disk);
    await killAndRestartHypervisor(bed, args);
    await fleetProgressesPast(fleet, "after the second restart", disk);
    assertNothingLost(fleet, disk);
  }

  test(
    "restarted with --state-dir after SIGKILL, the hypervisor still knows every domain: each guest resumes with nothing lost",
    { todo: stateDirTodo() },
    () => restartTwiceWithState(false),
  );

  test(
    "restarted with --state-dir, the VirtIO front end's disk works again (placements and the tables at gfn 0 are kept)",
    { todo: stateDirTodo() },
    () => restartTwiceWithState(true),
  );
});
