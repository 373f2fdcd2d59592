// SPDX-License-Identifier: Apache-2.0
/**
 * End to end over real gRPC: a hypervisor service on loopback port 0 (not mac-permissive),
 * two domains made through the toolstack, and two `runGuest` guests connected with the real
 * `SessionClient`: traffic to sink with nothing lost, then echo and ping. Bounded by counts
 * and by the test timeout.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { embeddedHypervisorConfig, startHypervisor, type RunningHypervisor } from "@hmx/hypervisor";
import { ToolstackClient } from "@hmx/client";
import { pino } from "pino";
import { runGuest } from "./agent.js";
import type { GuestConfig } from "./config.js";
import { createGuestLogger } from "./logger.js";

class Lines extends Writable {
  readonly records: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString().split("\n"))
      if (line !== "") this.records.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
  last(msg: string, workload: string): Record<string, unknown> | undefined {
    return this.records.filter((r) => r["msg"] === msg && r["workload"] === workload).at(-1);
  }
}

describe("guest runner over gRPC", { timeout: 60_000 }, () => {
  let hv: RunningHypervisor;
  let toolstack: ToolstackClient;
  let n = 0;
  const domain = async () =>
    toolstack.createDomain({ name: `g${++n}`, label: "domU_t", memoryBytes: 8 * 1024 * 1024 });

  before(async () => {
    const adminToken = randomBytes(24).toString("base64url");
    hv = await startHypervisor(
      {
        ...embeddedHypervisorConfig(adminToken),
        argoMacPermissive: false,
        maxTotalMemoryBytes: 256 * 1024 * 1024,
        maxDomainMemoryBytes: 64 * 1024 * 1024,
      },
      pino({ level: "silent" }),
    );
    toolstack = new ToolstackClient(hv.controlListen, adminToken);
  });

  after(async () => {
    toolstack.close();
    await hv.stop();
  });

  const config = (
    over: Partial<GuestConfig> & Pick<GuestConfig, "credential" | "workload">,
  ): GuestConfig => ({
    hypervisor: hv.listen,
    port: 9,
    enrolmentToken: undefined,
    instance: "test",
    stateDir: undefined,
    healthFile: undefined,
    peer: undefined,
    size: 64,
    count: 0,
    rate: 0,
    intervalMs: 0,
    statsIntervalMs: 200,
    logLevel: "info",
    ...over,
  });

  it("traffic to sink over the Session stream: 5,000 messages, zero gaps, duplicates or reorders", async () => {
    const [s, t] = [await domain(), await domain()];
    const out = new Lines();
    const log = createGuestLogger("info", out);
    const stop = new AbortController();
    const N = 5000;
    const started = performance.now();
    await Promise.all([
      runGuest(config({ credential: s.credential, workload: "sink", peer: t.domid, count: N }), {
        signal: stop.signal,
        logger: log,
      }),
      runGuest(config({ credential: t.credential, workload: "traffic", peer: s.domid, count: N }), {
        signal: stop.signal,
        logger: log,
      }),
    ]);
    const seconds = (performance.now() - started) / 1000;
    const sink = out.last("guest stats", "sink");
    const traffic = out.last("guest stats", "traffic");
    assert.deepEqual(
      [
        sink?.["received"],
        sink?.["gaps"],
        sink?.["lost"],
        sink?.["duplicates"],
        sink?.["reordered"],
      ],
      [N, 0, 0, 0, 0],
    );
    assert.equal(traffic?.["sent"], N);
    assert.equal(traffic["errors"], 0);
    console.log(
      `traffic→sink over gRPC: ${N} x 64 B in ${seconds.toFixed(2)} s (${Math.round(N / seconds)} msgs/s incl. setup)`,
    );
  });

  it("echo and ping over the Session stream", async () => {
    const [e, p] = [await domain(), await domain()];
    const out = new Lines();
    const log = createGuestLogger("info", out);
    const stop = new AbortController();
    const echo = runGuest(
      config({ credential: e.credential, workload: "echo", port: 7, peer: p.domid }),
      { signal: stop.signal, logger: log },
    );
    await runGuest(
      config({ credential: p.credential, workload: "ping", port: 7, peer: e.domid, count: 20 }),
      { signal: stop.signal, logger: log },
    );
    stop.abort();
    await echo;
    const ping = out.last("guest stats", "ping");
    assert.equal(ping?.["received"], 20);
    assert.equal(ping["lost"], 0);
    console.log(
      `ping over gRPC: p50 ${String(ping["rttP50Us"])} µs, p99 ${String(ping["rttP99Us"])} µs`,
    );
    assert.ok(out.last("guest ready", "echo") !== undefined);
  });
});
