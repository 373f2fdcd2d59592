// SPDX-License-Identifier: Apache-2.0
/**
 * Test support for D-Bus across guests: `dbus-daemon` listens on a Unix socket behind an exit
 * tunnel (guest "bus"); a service (Python with GLib's Gio, owning org.hmx.Demo) reaches the bus
 * through its own entry tunnel (guest "service"); a client guest's entry tunnel gives the test
 * a bus address for `dbus-send` and `dbus-monitor`. Every D-Bus byte between them crosses
 * Argo. Debian packages dbus (dbus-daemon, dbus-send, dbus-monitor) and python3-gi +
 * gir1.2-glib-2.0 (the service); `dbusSkip` names what is missing.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Testbed, TestProcess } from "@hmx/testkit";
import { missing } from "./tunnel-pair.js";

/** Debian's interpreter, where python3-gi installs (a pyenv python3 first on PATH lacks it). */
const PYTHON = "/usr/bin/python3";
const hasGi = (): string | undefined =>
  spawnSync(PYTHON, ["-c", "from gi.repository import Gio"], { stdio: "ignore" }).status === 0
    ? undefined
    : "python3-gi is not installed (apt-get install python3-gi gir1.2-glib-2.0)";
export const dbusSkip = missing("dbus-daemon", "dbus") ?? missing("dbus-send", "dbus") ?? hasGi();

/**
 * org.hmx.Demo: Echo(s) → "echo: s" and the signal Echoed(s); Later(s, u ms) → "later: s"
 * after ms milliseconds (prints "later called" first: a call the test can cut in the middle).
 */
const SERVICE = `
import sys
from gi.repository import Gio, GLib
XML = """<node><interface name='org.hmx.Demo'>
  <method name='Echo'><arg type='s' direction='in'/><arg type='s' direction='out'/></method>
  <method name='Later'><arg type='s' direction='in'/><arg type='u' direction='in'/>
    <arg type='s' direction='out'/></method>
  <signal name='Echoed'><arg type='s'/></signal>
</interface></node>"""
flags = Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION
conn = Gio.DBusConnection.new_for_address_sync(sys.argv[1], flags, None, None)
def later(invocation, text):
    invocation.return_value(GLib.Variant('(s)', ('later: ' + text,)))
    return False
def call(conn, sender, path, iface, method, params, invocation):
    if method == 'Later':
        text, ms = params.unpack()
        print('later called', flush=True)
        GLib.timeout_add(ms, later, invocation, text)
        return
    text = params.unpack()[0]
    invocation.return_value(GLib.Variant('(s)', ('echo: ' + text,)))
    conn.emit_signal(None, '/org/hmx/Demo', 'org.hmx.Demo', 'Echoed', GLib.Variant('(s)', (text,)))
conn.register_object('/org/hmx/Demo', Gio.DBusNodeInfo.new_for_xml(XML).interfaces[0], call, None, None)
Gio.bus_own_name_on_connection(conn, 'org.hmx.Demo', 0, lambda *a: print('owned', flush=True), None)
GLib.MainLoop().run()
`;

export interface DbusBus {
  /** The client guest's end of the bus: a `--bus=` / `--address` value. */
  readonly clientBus: string;
  readonly guests: {
    readonly bus: TestProcess;
    readonly service: TestProcess;
    readonly client: TestProcess;
  };
  /** Everything the service printed so far. */
  serviceOutput(): string;
  /** Waits (bounded) until the service has printed `text`. */
  waitForService(text: string, what: string): Promise<void>;
  /** Kills the daemon, the service and whatever else was `adopt`ed; removes the socket dir. */
  stop(): void;
  /** A child process to kill in `stop()`. */
  adopt(child: ChildProcess): void;
}

/**
 * Starts the daemon, the three tunnel guests and the service. `hypervisorFor(name)` is the
 * address each guest ("bus", "service", "client") dials; default the bed's own.
 */
export async function startDbusBus(
  bed: Testbed,
  hypervisorFor: (name: string) => string = () => bed.listen,
): Promise<DbusBus> {
  const dir = mkdtempSync(join(tmpdir(), "hmx-dbus-"));
  const children: ChildProcess[] = [];
  let serviceOut = "";
  const stop = (): void => {
    for (const c of children) c.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  const tunnelGuest = async (name: string, args: readonly string[]): Promise<TestProcess> => {
    const { credential } = await bed.domain(name);
    const p = bed.runGuest(
      name,
      credential,
      ["--workload", "tunnel", ...args],
      hypervisorFor(name),
    );
    await p.waitFor((r) => r.msg === "guest ready", 20_000, `${name} ready`);
    return p;
  };
  const waitForService = async (text: string, what: string): Promise<void> => {
    for (let i = 0; !serviceOut.includes(text); i++) {
      if (i > 400) throw new Error(`${what}: the service printed ${JSON.stringify(serviceOut)}`);
      await sleep(50);
    }
  };
  try {
    const daemon = spawn(
      "dbus-daemon",
      ["--session", "--nofork", `--address=unix:path=${join(dir, "bus")}`, "--print-address"],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(daemon);
    await new Promise((resolve) => daemon.stdout.once("data", resolve));
    // The bus guest: Argo port 1000 → the daemon's socket (any peer: the ring is a wildcard).
    // The others name it (`--to bus:1000`, resolved with ListPeers).
    const bus = await tunnelGuest("bus", [
      "--serve",
      "1000",
      "--connect",
      `unix:${join(dir, "bus")}`,
    ]);
    const entry = (name: string): Promise<TestProcess> =>
      tunnelGuest(name, ["--listen", `unix:${join(dir, `${name}.sock`)}`, "--to", `bus:1000`]);
    const service = await entry("service");
    const client = await entry("client");
    writeFileSync(join(dir, "service.py"), SERVICE);
    const python = spawn(
      PYTHON,
      [join(dir, "service.py"), `unix:path=${join(dir, "service.sock")}`],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(python);
    python.stdout.on("data", (c: Buffer) => (serviceOut += c.toString()));
    python.stderr.on("data", (c: Buffer) => (serviceOut += c.toString()));
    await waitForService("owned", "the service did not own its name");
    return {
      clientBus: `unix:path=${join(dir, "client.sock")}`,
      guests: { bus, service, client },
      serviceOutput: () => serviceOut,
      waitForService,
      stop,
      adopt: (child) => children.push(child),
    };
  } catch (err) {
    stop();
    throw err;
  }
}
