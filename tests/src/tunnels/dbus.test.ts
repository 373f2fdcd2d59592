// SPDX-License-Identifier: Apache-2.0
/**
 * D-Bus across guests, the seed's use case (the bus, service and client guests of
 * dbus-bus.ts): a method call from the client guest reaches the service in another guest, and
 * the signal the service emits for it comes back to a `dbus-monitor` in the client guest. Every
 * D-Bus byte between them crosses Argo. Skipped, naming the Debian packages, without them.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Testbed } from "@hmx/testkit";
import { dbusSkip, startDbusBus, type DbusBus } from "./dbus-bus.js";

const run = promisify(execFile);

describe("D-Bus through Argo tunnels", { timeout: 120_000, skip: dbusSkip }, () => {
  let bed: Testbed;
  let dbus: DbusBus | undefined;

  before(async () => {
    bed = await Testbed.start(["--argo-mac-permissive"]);
    dbus = await startDbusBus(bed);
  });
  after(async () => {
    dbus?.stop();
    await bed.stopAll();
  });

  test("a method call from one guest reaches a service in another, and the service's signal comes back", async () => {
    const clientBus = dbus?.clientBus ?? assert.fail("no bus");
    const monitor = spawn(
      "dbus-monitor",
      ["--address", clientBus, "type='signal',interface='org.hmx.Demo'"],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    dbus?.adopt(monitor);
    let seen = "";
    monitor.stdout.on("data", (c: Buffer) => (seen += c.toString()));
    // The monitor is subscribed once it has printed its own NameAcquired preamble.
    await new Promise((resolve) => monitor.stdout.once("data", resolve));
    const { stdout } = await run("dbus-send", [
      `--bus=${clientBus}`,
      "--print-reply",
      "--dest=org.hmx.Demo",
      "/org/hmx/Demo",
      "org.hmx.Demo.Echo",
      "string:over argo",
    ]);
    assert.match(stdout, /method return/);
    assert.match(stdout, /string "echo: over argo"/);
    for (let i = 0; !seen.includes('string "over argo"'); i++) {
      if (i > 200) assert.fail(`no Echoed signal at the monitor: ${seen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(seen, /member=Echoed/);
  });
});
