// SPDX-License-Identifier: Apache-2.0
/**
 * The fleet workload end to end over gRPC, the way container guests run it: each guest enrols
 * with a template's token (no pre-issued credential), finds its peers with ListPeers, streams
 * numbered messages to every peer it may reach, and checks what it receives — while a Flask
 * policy denies one direction on purpose, which the sender reports and the hypervisor audits.
 */
import { embeddedHypervisorConfig, startHypervisor, type RunningHypervisor } from "@hmx/hypervisor";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { pino } from "pino";
import { runGuest } from "./agent.js";
import type { GuestConfig } from "./config.js";

const GUEST_TOKEN = "guest-enrolment-token-0123456789";
const ISOLATED_TOKEN = "isolated-enrolment-token-0123456";

// guest_t talk to each other and may send to isolated_t? No: that direction is what the demo
// denies. isolated_t may send to guest_t.
const POLICY = `
attribute fleet;
type guest_t, fleet;
type isolated_t, fleet;
allow fleet xen_t:argo { enable register_any_source };
allow guest_t guest_t:argo send;
allow isolated_t guest_t:argo send;
`;

/** Collects one guest's JSON log records. */
class Records extends Writable {
  readonly records: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    for (const line of chunk.toString().split("\n"))
      if (line !== "") this.records.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
  lastStats(): Record<string, unknown> | undefined {
    return this.records.filter((r) => r["msg"] === "guest stats").at(-1);
  }
}

function num(r: Record<string, unknown> | undefined, key: string): number {
  const v = r?.[key];
  return typeof v === "number" ? v : Number.NaN;
}

describe("fleet workload with enrolment over gRPC", { timeout: 60_000 }, () => {
  let hv: RunningHypervisor;
  before(async () => {
    hv = await startHypervisor(
      {
        ...embeddedHypervisorConfig(randomBytes(24).toString("base64url")),
        maxTotalMemoryBytes: 256 * 1024 * 1024,
        maxDomainMemoryBytes: 64 * 1024 * 1024,
        xsm: "flask",
        policy: { fileName: "fleet-test.te", source: POLICY },
        enrolmentTemplates: [
          {
            name: "guest",
            label: "guest_t",
            memoryBytes: 8 * 1024 * 1024,
            maxDomains: 8,
            token: GUEST_TOKEN,
          },
          {
            name: "isolated",
            label: "isolated_t",
            memoryBytes: 8 * 1024 * 1024,
            maxDomains: 1,
            token: ISOLATED_TOKEN,
          },
        ],
      },
      pino({ level: "silent" }),
    );
  });
  after(async () => {
    await hv.stop();
  });

  test("enrolled guests stream to every reachable peer with nothing lost, and the denied direction is reported", async () => {
    const abort = new AbortController();
    const config = (instance: string, token: string): GuestConfig => ({
      hypervisor: hv.listen,
      credential: "",
      enrolmentToken: token,
      instance,
      stateDir: undefined,
      healthFile: undefined,
      workload: "fleet",
      port: 9,
      peer: undefined,
      size: 64,
      count: 0,
      rate: 50,
      intervalMs: 0,
      statsIntervalMs: 100,
      logLevel: "info",
    });
    const guests = [
      { name: "a", token: GUEST_TOKEN },
      { name: "b", token: GUEST_TOKEN },
      { name: "iso", token: ISOLATED_TOKEN },
    ].map((g) => {
      const out = new Records();
      const run = runGuest(config(g.name, g.token), {
        signal: abort.signal,
        logger: pino({ level: "info" }, out),
      });
      return { ...g, out, run };
    });
    try {
      const [a, b, iso] = guests;
      assert.ok(a !== undefined && b !== undefined && iso !== undefined);
      const deadline = Date.now() + 30_000;
      // a and b each receive from the other and from iso; iso receives nothing (guest_t → isolated_t is denied).
      while (!(
        num(a.out.lastStats(), "received") >= 50 &&
        num(b.out.lastStats(), "received") >= 50 &&
        num(a.out.lastStats(), "denied") === 1 &&
        num(b.out.lastStats(), "denied") === 1 &&
        num(a.out.lastStats(), "streams") >= 2
      )) {
        if (Date.now() > deadline)
          throw new Error(
            `fleet did not settle: a=${JSON.stringify(a.out.lastStats())} b=${JSON.stringify(b.out.lastStats())}`,
          );
        await new Promise((r) => setTimeout(r, 100));
      }
      for (const g of [a, b]) {
        const s = g.out.lastStats();
        assert.deepEqual(
          [num(s, "gaps"), num(s, "duplicates"), num(s, "reordered")],
          [0, 0, 0],
          `${g.name} saw a clean stream`,
        );
        assert.ok(
          g.out.records.some(
            (r) =>
              r["msg"] === "sending to peer denied by policy" && r["peerLabel"] === "isolated_t",
          ),
        );
        assert.ok(g.out.records.some((r) => r["msg"] === "enrolled"));
      }
      assert.equal(
        num(iso.out.lastStats(), "received"),
        0,
        "nobody may send to the isolated guest",
      );
      assert.equal(
        num(iso.out.lastStats(), "denied"),
        0,
        "the isolated guest may send to both others",
      );
    } finally {
      abort.abort();
      await Promise.allSettled(guests.map((g) => g.run));
    }
  });
});
