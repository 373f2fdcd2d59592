// SPDX-License-Identifier: Apache-2.0
/**
 * The guest runner end to end over the in-process hypervisor core: "guest ready" and
 * "guest stats" records on the log stream, clean stop on abort (rings unregistered, client
 * closed), credentials never logged, and a failing workload rejecting `runGuest`.
 */
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { runGuest } from "./agent.js";
import type { GuestConfig } from "./config.js";
import { createGuestLogger } from "./logger.js";
import { InProcessHypervisor, type InProcessClient } from "./test-utils/in-process-client.js";
import { until } from "@hmx/virtio/test-utils";

class Lines extends Writable {
  readonly records: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString().split("\n")) {
      if (line === "") continue;
      this.raw.push(line);
      this.records.push(JSON.parse(line) as Record<string, unknown>);
    }
    done();
  }
  find(msg: string): Record<string, unknown>[] {
    return this.records.filter((r) => r["msg"] === msg);
  }
}

function config(over: Partial<GuestConfig>): GuestConfig {
  return {
    hypervisor: "in-process:1",
    credential: "TOPSECRET-credential",
    workload: "echo",
    enrolmentToken: undefined,
    instance: "test",
    stateDir: undefined,
    healthFile: undefined,
    port: 7,
    peer: undefined,
    size: 64,
    count: 0,
    rate: 0,
    intervalMs: 1,
    statsIntervalMs: 100,
    logLevel: "debug",
    ...over,
  };
}

describe("guest runner", { timeout: 20_000 }, () => {
  it("an echo and a ping guest log ready and stats lines, then stop cleanly on abort", async () => {
    const hv = new InProcessHypervisor();
    const ce = hv.createGuest();
    const cp = hv.createGuest();
    const out = new Lines();
    const log = createGuestLogger("debug", out);
    const stop = new AbortController();
    const echo = runGuest(config({ workload: "echo", peer: cp.domid }), {
      signal: stop.signal,
      logger: log,
      connect: () => Promise.resolve(ce),
    });
    const ping = runGuest(config({ workload: "ping", peer: ce.domid, count: 10 }), {
      signal: stop.signal,
      logger: log,
      connect: () => Promise.resolve(cp),
    });
    await ping; // a finite count ends the guest by itself
    await until(
      'out.find("guest stats").some((r) => r["workload"] === "echo")',
      () => out.find("guest stats").some((r) => r["workload"] === "echo"),
      { timeoutMs: 2000 },
    );
    stop.abort();
    await echo;

    const ready = out.find("guest ready");
    assert.deepEqual(ready.map((r) => r["workload"]).sort(), ["echo", "ping"]);
    assert.equal(ready.find((r) => r["workload"] === "echo")?.["aport"], 7);
    const pingStats = out
      .find("guest stats")
      .filter((r) => r["workload"] === "ping")
      .at(-1);
    assert.equal(pingStats?.["domid"], cp.domid);
    assert.equal(pingStats["received"], 10);
    assert.equal(typeof pingStats["rttP50Us"], "number");
    assert.equal(pingStats["level"], 30); // info
    assert.equal(out.find("guest stopped").length, 2);
    // rings unregistered, clients closed
    for (const c of [ce, cp] as InProcessClient[]) {
      const d = hv.core.domains.get(c.domid);
      assert.ok(d);
      assert.equal(hv.core.argo.ringCount(d), 0);
      await assert.rejects(c.getDomainInfo(), /closed/);
    }
    assert.ok(
      out.raw.every((l) => !l.includes("TOPSECRET")),
      "the credential is never logged",
    );
  });

  it("a workload that cannot bind (wildcard without mac-permissive) rejects runGuest and still closes", async () => {
    const hv = new InProcessHypervisor();
    const c = hv.createGuest();
    const out = new Lines();
    const err = await runGuest(config({ workload: "sink", port: 9 }), {
      signal: new AbortController().signal,
      logger: createGuestLogger("info", out),
      connect: () => Promise.resolve(c),
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof Error);
    assert.equal((err as { code?: string }).code, "EPERM");
    assert.equal(out.find("workload failed").length, 1);
    await assert.rejects(c.getDomainInfo(), /closed/);
  });

  it("the logger redacts credentials and tokens wherever they appear", () => {
    const out = new Lines();
    const log = createGuestLogger("info", out);
    log.info(
      {
        credential: "abc123",
        config: { credential: "abc123" },
        meta: { authorization: "Bearer abc123" },
      },
      "x",
    );
    assert.ok(!out.raw.join("").includes("abc123"));
  });
});
