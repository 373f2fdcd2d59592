// SPDX-License-Identifier: Apache-2.0
/**
 * Test support for the tunnel end-to-end tests: free local ports, a tunnel pair (an exit guest
 * serving an Argo port onward to a local server, an entry guest listening on a local port and
 * carrying connections to it), a guest's link to the hypervisor that a test can take down and
 * bring back, and a check that a Debian program is installed (a test skips, naming the
 * package, when it is not).
 */
import { spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { TcpProxy, type Testbed, type TestProcess } from "@hmx/testkit";

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

/** One Redis command in RESP, as `redis-cli --pipe` and a raw socket take it. */
export function resp(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;
}

/** A link that can be taken down (refusing connections) and brought back on the same port. */
export class Link {
  private constructor(
    private readonly upstream: string,
    private proxy: TcpProxy | undefined,
    readonly address: string,
  ) {}

  static async to(upstream: string): Promise<Link> {
    const proxy = await TcpProxy.start(upstream);
    return new Link(upstream, proxy, proxy.address);
  }

  /** Resets the guest's connection and refuses new ones until `up()`. */
  async down(): Promise<void> {
    await this.proxy?.close();
    this.proxy = undefined;
  }

  async up(): Promise<void> {
    const port = Number(this.address.slice(this.address.lastIndexOf(":") + 1));
    this.proxy ??= await TcpProxy.start(this.upstream, port);
  }
}

export interface TunnelPair {
  readonly entry: TestProcess;
  readonly exit: TestProcess;
  readonly entryDomid: number;
  readonly exitDomid: number;
  /** The entry side's local port: connect here to reach the exit side's server. */
  readonly port: number;
  /** Starts the exit guest again, in its domain (after it was killed); resolves when ready. */
  readonly restartExit: () => Promise<TestProcess>;
}

export interface TunnelPairOptions {
  /** The hypervisor address each guest dials (default the bed's): a TcpProxy to cut its link. */
  readonly entryHypervisor?: string;
  readonly exitHypervisor?: string;
  /** `--to` names the exit domain (resolved with ListPeers) instead of giving its domid. */
  readonly toByName?: boolean;
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
  options: TunnelPairOptions = {},
): Promise<TunnelPair> {
  const entryDom = await bed.domain(`${name}entry`);
  const exitDom = await bed.domain(`${name}exit`);
  const startExit = async (): Promise<TestProcess> => {
    const p = bed.runGuest(
      `${name}exit`,
      exitDom.credential,
      [
        "--workload",
        "tunnel",
        "--serve",
        String(aport),
        "--connect",
        `tcp:127.0.0.1:${serverPort}`,
        "--peer",
        String(entryDom.domid),
      ],
      options.exitHypervisor,
    );
    await p.waitFor((r) => r.msg === "guest ready", 20_000, `${name} exit ready`);
    return p;
  };
  const exit = await startExit();
  const port = await freePort();
  const peer = options.toByName === true ? `${name}exit` : String(exitDom.domid);
  const entry = bed.runGuest(
    `${name}entry`,
    entryDom.credential,
    ["--workload", "tunnel", "--listen", `tcp:127.0.0.1:${port}`, "--to", `${peer}:${aport}`],
    options.entryHypervisor,
  );
  await entry.waitFor((r) => r.msg === "guest ready", 20_000, `${name} entry ready`);
  return {
    entry,
    exit,
    entryDomid: entryDom.domid,
    exitDomid: exitDom.domid,
    port,
    restartExit: startExit,
  };
}
