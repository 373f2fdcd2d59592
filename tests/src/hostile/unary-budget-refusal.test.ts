// SPDX-License-Identifier: Apache-2.0
/**
 * The held-bytes budget seen from a unary caller: once a domain holds more unsent reply bytes
 * than `--domain-held-bytes`, its next call is refused RESOURCE_EXHAUSTED with a message naming
 * the flag, the limit and the value; once the unread replies are gone, its calls are served again.
 */
import { Testbed, RawGrpcConnection } from "@hmx/testkit";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import assert from "node:assert/strict";
import { test } from "node:test";

const BUDGET = 2 * 1024 * 1024;
const READ = 4 * 1024 * 1024;

test("a domain over its held-bytes budget gets RESOURCE_EXHAUSTED naming the limit and value, and is served again once its replies are gone", async () => {
  const bed = await Testbed.start([
    "--argo-mac-permissive",
    "--domain-held-bytes",
    String(BUDGET),
    "--resume-log-bytes",
    "1M",
  ]);
  const hog = new RawGrpcConnection(bed.listen);
  const polite = new RawGrpcConnection(bed.listen);
  try {
    const { credential } = await bed.domain("budget-hog");
    const read = { gpa: String(FIRST_GUEST_GFN * PAGE_SIZE), length: READ };
    // One reply larger than the budget, never read: it ran (a call is atomic) and is held.
    const unread = hog.open("ReadMemory", credential, [read]);
    const first = await RawGrpcConnection.headers(unread);
    assert.equal(first["grpc-status"], undefined, "the first read was answered");
    const refused = await RawGrpcConnection.headers(hog.open("ReadMemory", credential, [read]));
    assert.equal(refused["grpc-status"], "8", "RESOURCE_EXHAUSTED");
    const details = decodeURIComponent(String(refused["grpc-message"]));
    assert.match(details, new RegExp(`holds \\d+ bytes .*--domain-held-bytes budget of ${BUDGET}`));
    // The hog's unread stream goes: its reply is freed and the domain is served again.
    // (The hypervisor learns of the reset asynchronously: ask again until it has, boundedly.)
    await hog.close();
    let again: Record<string, unknown> = {};
    for (let attempt = 0; attempt < 100; attempt++) {
      again = await RawGrpcConnection.headers(
        polite.open("ReadMemory", credential, [{ ...read, length: 8 }]),
      );
      if (again["grpc-status"] === undefined) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(again["grpc-status"], undefined, `served again: ${JSON.stringify(again)}`);
  } finally {
    await polite.close();
    await hog.close();
    await bed.stopAll();
  }
});
