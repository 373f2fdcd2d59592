// SPDX-License-Identifier: Apache-2.0
/**
 * Real hmx processes for end-to-end tests: a hypervisor started with `hmx hypervisor` (its
 * addresses read from the "hypervisor ready" line, exactly as a harness in any language would)
 * and guest agents started with `hmx guest`, whose JSON log records are collected so a test
 * can wait for a condition on them. Everything started here is stopped by `stopAll()`.
 */
import { ToolstackClient } from "@hmx/client";
import { SupervisedChild, type LogRecord } from "@hmx/cli/supervisor";
import { randomBytes } from "node:crypto";

export class TestProcess {
  readonly records: LogRecord[] = [];
  readonly text: string[] = [];
  readonly child: SupervisedChild;

  constructor(name: string, args: readonly string[], env: Record<string, string>) {
    this.child = new SupervisedChild(
      name,
      args,
      env,
      (r) => this.records.push(r),
      (line) => this.text.push(line),
    );
  }

  /** The latest record with this `msg`. */
  last(msg: string): LogRecord | undefined {
    for (let i = this.records.length - 1; i >= 0; i--)
      if (this.records[i]?.msg === msg) return this.records[i];
    return undefined;
  }

  /** Waits until `predicate` holds for some record (bounded by `timeoutMs`). */
  async waitFor(
    predicate: (r: LogRecord) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<LogRecord> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.records.find(predicate);
      if (hit !== undefined) return hit;
      if (!this.child.running)
        throw new Error(
          `${this.child.name} exited while waiting for ${what}; output: ${this.text.slice(-5).join(" | ")}`,
        );
      if (Date.now() > deadline)
        throw new Error(
          `${this.child.name}: no ${what} within ${timeoutMs} ms; last: ${JSON.stringify(this.records.at(-1))}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export class Testbed {
  private readonly processes: TestProcess[] = [];
  readonly adminToken = randomBytes(24).toString("base64url");
  listen = "";
  controlListen = "";
  toolstack!: ToolstackClient;
  hypervisor!: TestProcess;

  /** Starts `hmx hypervisor` on free loopback ports and connects a toolstack client. */
  /**
   * `env` adds variables for the hypervisor alone (e.g. enrolment tokens): secrets are not
   * inherited from this process's environment by supervised children.
   */
  static async start(
    extraArgs: readonly string[] = ["--argo-mac-permissive"],
    env: Readonly<Record<string, string>> = {},
  ): Promise<Testbed> {
    const bed = new Testbed();
    bed.hypervisor = bed.spawn(
      "hypervisor",
      ["hypervisor", "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0", ...extraArgs],
      { ...env, HMX_ADMIN_TOKEN: bed.adminToken },
    );
    const ready = await bed.hypervisor.waitFor(
      (r) => r.msg === "hypervisor ready",
      20_000,
      "ready line",
    );
    bed.listen = String(ready["listen"]);
    bed.controlListen = String(ready["controlListen"]);
    bed.toolstack = new ToolstackClient(bed.controlListen, bed.adminToken);
    return bed;
  }

  spawn(name: string, args: readonly string[], env: Record<string, string> = {}): TestProcess {
    const p = new TestProcess(name, args, env);
    this.processes.push(p);
    return p;
  }

  /** Creates a domain through the toolstack (16 MiB unless told otherwise). */
  domain(
    name: string,
    memoryBytes = 16 * 1024 * 1024,
  ): Promise<{ domid: number; credential: string }> {
    return this.toolstack.createDomain({ name, label: `${name}_t`, memoryBytes });
  }

  /** Starts `hmx guest` for a domain with the given workload flags. */
  runGuest(
    name: string,
    credential: string,
    workloadArgs: readonly string[],
    hypervisor = this.listen,
  ): TestProcess {
    return this.spawn(
      name,
      ["guest", "--hypervisor", hypervisor, "--stats-interval-ms", "200", ...workloadArgs],
      { HMX_DOMAIN_CREDENTIAL: credential },
    );
  }

  /** Creates a domain and starts `hmx guest` for it. */
  async guest(
    name: string,
    workloadArgs: readonly string[],
  ): Promise<{ domid: number; process: TestProcess }> {
    const { domid, credential } = await this.domain(name);
    return { domid, process: this.runGuest(name, credential, workloadArgs) };
  }

  async stopAll(): Promise<void> {
    const guests = this.processes.filter((p) => p !== this.hypervisor);
    await Promise.all(guests.map((p) => p.child.stop()));
    this.toolstack.close();
    await this.hypervisor.child.stop();
  }
}
