// SPDX-License-Identifier: Apache-2.0
/**
 * A pair the policy does not allow: under a Flask policy that lets the entry guest bind its
 * ring but not send to the exit guest, a client connecting through the tunnel is closed at once
 * (no bytes, no hang), the entry guest logs an error naming the peer, the port and the policy,
 * and the hypervisor audits the denied send.
 */
import assert from "node:assert/strict";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Testbed } from "@hmx/testkit";
import { freePort, tunnelPair, type TunnelPair } from "./tunnel-pair.js";

const POLICY = `
attribute tunnel_domain;
type denyentry_t, tunnel_domain;
type denyexit_t, tunnel_domain;
allow tunnel_domain xen_t:argo enable;
allow denyentry_t denyexit_t:argo register_single_source;
allow denyexit_t denyentry_t:argo register_single_source;
# No "allow denyentry_t denyexit_t:argo send": the pair is denied.
`;

describe("a tunnel between a denied pair", { timeout: 60_000 }, () => {
  let bed: Testbed;
  let pair: TunnelPair;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "hmx-denied-"));
    const policy = join(dir, "deny.te");
    writeFileSync(policy, POLICY);
    bed = await Testbed.start(["--policy", policy]);
    pair = await tunnelPair(bed, "deny", await freePort(), 6379);
  });
  after(async () => {
    await bed.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the client's connection is closed, the entry guest names the denial, and the hypervisor audits it", async () => {
    const received = await new Promise<number>((resolve, reject) => {
      const s = connect(pair.port, "127.0.0.1");
      let bytes = 0;
      s.on("data", (b: Buffer) => (bytes += b.length));
      s.on("close", () => {
        resolve(bytes);
      });
      s.on("error", () => {
        resolve(bytes);
      });
      s.write("PING\r\n");
      setTimeout(() => {
        reject(new Error("the denied connection was not closed within 20 s"));
      }, 20_000).unref();
    });
    assert.equal(received, 0, "nothing came back over a denied pair");
    const failure = await pair.entry.waitFor(
      (r) => r.msg === "tunnel connection failed",
      10_000,
      "the tunnel's error line",
    );
    assert.equal(
      failure["err"],
      `connect to vm${pair.exitDomid}:0x18eb denied by MAC policy or firewall for vm${pair.entryDomid} (EACCES)`,
    );
    const audit = await bed.hypervisor.waitFor(
      (r) =>
        typeof r.msg === "string" &&
        r.msg.startsWith("avc: denied { send }") &&
        r.msg.includes(`sdomid=${pair.entryDomid} tdomid=${pair.exitDomid}`),
      10_000,
      "the audit record of the denied send",
    );
    assert.match(String(audit.msg), /scontext=denyentry_t tcontext=denyexit_t/);
    const stats = await pair.entry.waitFor(
      (r) => r.msg === "guest stats" && Number(r["failed"]) === 1,
      5_000,
      "failed counted",
    );
    assert.equal(stats["active"], 0);
  });
});
