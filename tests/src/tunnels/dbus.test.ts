// SPDX-License-Identifier: Apache-2.0
/**
 * D-Bus across guests, the seed's use case: `dbus-daemon` listens on a Unix socket behind an
 * exit tunnel (guest "bus"); a service (Python with GLib's Gio, owning org.hmx.Demo) reaches
 * the bus through its own entry tunnel (guest "service"); a client guest's entry tunnel carries
 * `dbus-send` (a method call, and its reply) and `dbus-monitor` (the signal the service emits
 * for each call). Every D-Bus byte between them crosses Argo. Debian packages dbus (dbus-daemon,
 * dbus-send, dbus-monitor) and python3-gi + gir1.2-glib-2.0 (the service); skipped, naming
 * them, when absent.
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Testbed, type TestProcess } from "@hmx/testkit";
import { missing } from "./tunnel-pair.js";

const run = promisify(execFile);
/** Debian's interpreter, where python3-gi installs (a pyenv python3 first on PATH lacks it). */
const PYTHON = "/usr/bin/python3";
const hasGi = (): string | undefined =>
  spawnSync(PYTHON, ["-c", "from gi.repository import Gio"], { stdio: "ignore" }).status === 0
    ? undefined
    : "python3-gi is not installed (apt-get install python3-gi gir1.2-glib-2.0)";
const skip = missing("dbus-daemon", "dbus") ?? missing("dbus-send", "dbus") ?? hasGi();

const SERVICE = `
import sys
from gi.repository import Gio, GLib
XML = """<node><interface name='org.hmx.Demo'>
  <method name='Echo'><arg type='s' direction='in'/><arg type='s' direction='out'/></method>
  <signal name='Echoed'><arg type='s'/></signal>
</interface></node>"""
flags = Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
conn = Gio.DBusConnection.new_for_address_sync(sys.argv[1], flags, None, None)
def call(conn, sender, path, iface, method, params, invocation):
    text = params.unpack()[0]
    invocation.return_value(GLib.Variant('(s)', ('echo: ' + text,)))
    conn.emit_signal(None, '/org/hmx/Demo', 'org.hmx.Demo', 'Echoed', GLib.Variant('(s)', (text,)))
conn.register_object('/org/hmx/Demo', Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0], call, None, None)
Gio.bus_own_name_on_connection(conn, 'org.hmx.Demo', 0, lambda *a: print('owned', flush=True), None)
GLib.MainLoop().run()
`;

describe("D-Bus through Argo tunnels", { timeout: 120_000, skip }, () => {
  let bed: Testbed;
  let dir: string;
  const children: ChildProcess[] = [];
  /** The client guest's end of the bus. */
  let clientBus: string;
  let serviceOut = "";

  async function entry(name: string, busDomid: number, socket: string): Promise<TestProcess> {
    const g = await bed.guest(name, [
      "--workload",
      "tunnel",
      "--listen",
      `unix:${socket}`,
      "--to",
      `${busDomid}:1000`,
    ]);
    return g.process
      .waitFor((r) => r.msg === "guest ready", 20_000, `${name} ready`)
      .then(() => g.process);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hmx-dbus-"));
    bed = await Testbed.start(["--argo-mac-permissive"]);
    const daemon = spawn(
      "dbus-daemon",
      ["--session", "--nofork", `--address=unix:path=${join(dir, "bus")}`, "--print-address"],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    children.push(daemon);
    await new Promise((resolve) => daemon.stdout.once("data", resolve));
    // The bus guest: Argo port 1000 → the daemon's socket (any peer: the ring is a wildcard).
    const bus = await bed.guest("bus", [
      "--workload",
      "tunnel",
      "--serve",
      "1000",
      "--connect",
      `unix:${join(dir, "bus")}`,
    ]);
    await bus.process.waitFor((r) => r.msg === "guest ready", 20_000, "bus ready");
    await entry("service", bus.domid, join(dir, "service.sock"));
    await entry("client", bus.domid, join(dir, "client.sock"));
    clientBus = `unix:path=${join(dir, "client.sock")}`;
    writeFileSync(join(dir, "service.py"), SERVICE);
    const service = spawn(
      PYTHON,
      [join(dir, "service.py"), `unix:path=${join(dir, "service.sock")}`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(service);
    service.stdout.on("data", (c: Buffer) => (serviceOut += c.toString()));
    service.stderr.on("data", (c: Buffer) => (serviceOut += c.toString()));
    for (let i = 0; !serviceOut.includes("owned"); i++) {
      if (i > 200) throw new Error(`the service did not own its name: ${serviceOut}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  after(async () => {
    for (const c of children) c.kill();
    await bed.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test("a method call from one guest reaches a service in another, and the service's signal comes back", async () => {
    const monitor = spawn(
      "dbus-monitor",
      ["--address", clientBus, "type='signal',interface='org.hmx.Demo'"],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    children.push(monitor);
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
