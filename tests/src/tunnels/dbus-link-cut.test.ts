// SPDX-License-Identifier: Apache-2.0
/**
 * D-Bus under link faults (the bus, service and client guests of dbus-bus.ts, each reaching
 * the hypervisor through its own cuttable link). A method call whose links all go down for 3 s
 * while the service is answering it completes with the right reply: the guests' Sessions
 * reconnect and resume, and the streams carry on. A service whose guest is killed while a call
 * waits on it fails the call cleanly: the bus sees the service's connection close (the stream
 * is reset when its keepalive expires) and answers the caller with an error, never a wrong
 * reply. Skipped, naming the Debian packages, without them.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Testbed } from "@hmx/testkit";
import { dbusSkip, startDbusBus, type DbusBus } from "./dbus-bus.js";
import { Link } from "./tunnel-pair.js";

const run = promisify(execFile);

describe("D-Bus through tunnels whose links fail", { timeout: 240_000, skip: dbusSkip }, () => {
  let bed: Testbed;
  let dbus: DbusBus | undefined;
  const links = new Map<string, Link>();

  /** dbus-send from the client guest, waiting up to 60 s for the reply. */
  const call = (method: string, ...args: string[]) =>
    run("dbus-send", [
      `--bus=${dbus?.clientBus ?? ""}`,
      "--print-reply",
      "--reply-timeout=60000",
      "--dest=org.hmx.Demo",
      "/org/hmx/Demo",
      `org.hmx.Demo.${method}`,
      ...args,
    ]);

  before(async () => {
    bed = await Testbed.start(["--argo-mac-permissive"]);
    for (const name of ["bus", "service", "client"]) links.set(name, await Link.to(bed.listen));
    dbus = await startDbusBus(bed, (name) => links.get(name)?.address ?? bed.listen);
  });
  after(async () => {
    for (const l of links.values()) await l.down();
    dbus?.stop();
    await bed.stopAll();
  });

  test("a method call whose links go down for 3 s while it is answered gets its reply", async () => {
    const pending = call("Later", "string:mid-cut", "uint32:1000");
    await dbus?.waitForService("later called", "the call did not reach the service");
    // Every guest loses the hypervisor; the service answers into the outage.
    await Promise.all([...links.values()].map((l) => l.down()));
    await sleep(3000);
    await Promise.all([...links.values()].map((l) => l.up()));
    const { stdout } = await pending;
    assert.match(stdout, /method return/);
    assert.match(stdout, /string "later: mid-cut"/);
    // And the bus carries on.
    assert.match((await call("Echo", "string:after")).stdout, /string "echo: after"/);
    for (const g of Object.values(dbus?.guests ?? {})) {
      assert.ok(
        g.records.some((r) => r.msg === "session resumed"),
        `${g.child.name} resumed its session`,
      );
      assert.equal(g.last("guest stats")?.["failed"], 0, `${g.child.name}: no stream failed`);
    }
  });

  test("a service whose guest is killed while a call waits fails the call with an error, not a reply", async () => {
    const pending = call("Later", "string:never", "uint32:30000").then(
      (r) => `replied: ${r.stdout}`,
      (err: unknown) => `failed: ${(err as { stderr?: string }).stderr ?? "(no stderr)"}`,
    );
    const calls = (dbus?.serviceOutput().match(/later called/g) ?? []).length;
    for (let i = 0; (dbus?.serviceOutput().match(/later called/g) ?? []).length === calls; i++) {
      if (i > 400) assert.fail("the call did not reach the service");
      await sleep(50);
    }
    const { service, bus } = dbus?.guests ?? assert.fail("no bus");
    service.child.process.kill("SIGKILL");
    await service.child.exited;
    const outcome = await pending;
    assert.match(outcome, /^failed: .*(NoReply|disconnected|Disconnected)/s);
    assert.doesNotMatch(outcome, /later: never/);
    const failed = await bus.waitFor(
      (r) => r.msg === "tunnel stream failed",
      30_000,
      "the bus tunnel to report the reset",
    );
    assert.match(String(failed["err"]), /keepalive|refused|reset/);
  });
});
