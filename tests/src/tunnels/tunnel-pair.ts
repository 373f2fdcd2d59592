// SPDX-License-Identifier: Apache-2.0
/**
 * Test support for the tunnel end-to-end tests: free local ports, a tunnel pair (an exit guest
 * serving an Argo port onward to a local server, an entry guest listening on a local port and
 * carrying connections to it), and a check that a Debian program is installed (a test skips,
 * naming the package, when it is not).
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import type { Testbed, TestProcess } from "@hmx/testkit";

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/** Undefined if `program` runs, else the reason to skip naming the Debian package. */
export function missing(program: string, debianPackage: string): string | undefined {
  const r = spawnSync(program, ["--version"], { stdio: "ignore" });
  return r.error === undefined
    ? undefined
    : `${program} is not installed (apt-get install ${debianPackage})`;
}

export interface TunnelPair {
  readonly entry: TestProcess;
  readonly exit: TestProcess;
  readonly entryDomid: number;
  readonly exitDomid: number;
  /** The entry side's local port: connect here to reach the exit side's server. */
  readonly port: number;
}

/**
 * Starts an exit guest (`--serve aport --connect tcp:127.0.0.1:serverPort`, accepting only the
 * entry guest) and an entry guest (`--listen tcp:127.0.0.1:<free> --to exit:aport`); resolves
 * once both say "guest ready".
 */
export async function tunnelPair(
  bed: Testbed,
  name: string,
  serverPort: number,
  aport: number,
): Promise<TunnelPair> {
  const entryDom = await bed.domain(`${name}entry`);
  const exitDom = await bed.domain(`${name}exit`);
  const exit = bed.runGuest(`${name}exit`, exitDom.credential, [
    "--workload",
    "tunnel",
    "--serve",
    String(aport),
    "--connect",
    `tcp:127.0.0.1:${serverPort}`,
    "--peer",
    String(entryDom.domid),
  ]);
  await exit.waitFor((r) => r.msg === "guest ready", 20_000, `${name} exit ready`);
  const port = await freePort();
  const entry = bed.runGuest(`${name}entry`, entryDom.credential, [
    "--workload",
    "tunnel",
    "--listen",
    `tcp:127.0.0.1:${port}`,
    "--to",
    `${exitDom.domid}:${aport}`,
  ]);
  await entry.waitFor((r) => r.msg === "guest ready", 20_000, `${name} entry ready`);
  return { entry, exit, entryDomid: entryDom.domid, exitDomid: exitDom.domid, port };
}
