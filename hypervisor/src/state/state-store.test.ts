// SPDX-License-Identifier: Apache-2.0
/**
 * `StateStore`: a hypervisor core recovered from a state dir is the core that wrote it, as of
 * the last committed record — domains, credentials, memory, rings, waiters, resume logs and
 * counters — wherever the writer was killed; and a damaged, foreign, or locked dir is refused.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import { ARGO_DOMID_ANY, PAGE_SIZE } from "@hmx/proto/abi";

import { CallStatusCode, type Hypercall } from "../dispatch/hypercall.js";
import { randomSeed, seededRandom } from "../faults/seeded-random.js";
import { Audit } from "../mac/audit.js";
import { MacController } from "../mac/mac-controller.js";
import { openJournalFile } from "./journal-writer.js";
import { JOURNAL_FILE } from "./state-store.js";
import { at, fingerprint, log, open, randomOp, world } from "./state-test-world.js";

const scratch = mkdtempSync(join(tmpdir(), "hmx-state-test-"));
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});
let dirs = 0;
function freshDir(): string {
  return join(scratch, `d${dirs++}`);
}

test("a core recovered from a journal cut at any record boundary equals the writer at that point; a torn cut equals the boundary before it", () => {
  const seed = Number(process.env["HMX_TEST_SEED"] ?? randomSeed());
  console.log(`state recovery equivalence: seed ${seed} (replay with HMX_TEST_SEED=${seed})`);
  const rand = seededRandom(seed);
  const dir = freshDir();
  const a = world();
  const store = open(dir, a);
  const credentials = new Map<number, string>();
  const requestIds = new Map<number, number>();
  const names = { next: 1 };
  const points: { length: number; print: unknown; credentials: Map<number, string> }[] = [];
  points.push({
    length: store.journalBytes,
    print: fingerprint(a, credentials),
    credentials: new Map(),
  });
  for (let i = 0; i < 400; i++) {
    randomOp(rand, a, credentials, requestIds, names);
    assert.equal(store.commit(), true);
    points.push({
      length: store.journalBytes,
      print: fingerprint(a, credentials),
      credentials: new Map(credentials),
    });
  }
  const journal = readFileSync(join(dir, JOURNAL_FILE));
  store.close();
  const cuts = 60;
  for (let k = 0; k < cuts; k++) {
    const point = at(points, Math.floor(rand() * points.length));
    const next = points.find((p) => p.length > point.length);
    // Half the cuts land exactly on a commit, half inside the first record after it (a torn
    // write; a cut between two records of one commit is a valid prefix, not a torn one).
    const torn = next !== undefined && rand() < 0.5;
    const firstRecord = torn ? 12 + journal.readUInt32LE(point.length) : 0;
    const cut = torn ? point.length + 1 + Math.floor(rand() * (firstRecord - 1)) : point.length;
    const copy = freshDir();
    mkdirSync(copy);
    writeFileSync(join(copy, JOURNAL_FILE), journal.subarray(0, cut));
    const b = world();
    const recovered = open(copy, b);
    assert.deepEqual(
      fingerprint(b, point.credentials),
      point.print,
      `seed ${seed}: cut at ${cut}${torn ? " (torn)" : ""}`,
    );
    recovered.close();
  }
});

test("a clean close and reopen keeps every domain and credential, and new domids continue past the old", () => {
  const dir = freshDir();
  const a = world();
  const first = open(dir, a);
  const { credential } = a.core.domains.create({ name: "a", label: "x", memoryBytes: 65536 });
  a.core.domains.create({ name: "gone", label: "x", memoryBytes: 65536 });
  a.core.domains.destroy(2);
  first.close();
  const b = world();
  const second = open(dir, b);
  assert.equal(b.core.domains.authenticate(credential)?.name, "a");
  assert.deepEqual(
    b.core.domains.list().map((d) => d.domid),
    [1],
  );
  assert.equal(
    b.core.domains.create({ name: "c", label: "x", memoryBytes: 65536 }).domain.domid,
    3,
  );
  second.close();
});

test("a damaged journal is refused naming the file and offset, and is left byte for byte as it was", () => {
  const dir = freshDir();
  const a = world();
  const store = open(dir, a);
  a.core.domains.create({ name: "a", label: "x", memoryBytes: 65536 });
  a.core.domains.create({ name: "b", label: "x", memoryBytes: 65536 });
  store.close();
  const path = join(dir, JOURNAL_FILE);
  const bytes = readFileSync(path);
  bytes.writeUInt8(bytes.readUInt8(16 + 12 + 3) ^ 0x20, 16 + 12 + 3); // inside the first record's payload
  writeFileSync(path, bytes);
  assert.throws(() => open(dir, world()), new RegExp(`${path} at offset 16: .*damaged`));
  assert.deepEqual(readFileSync(path), bytes);
});

test("a directory holding other files and no journal is refused as foreign, and nothing is written", () => {
  const dir = freshDir();
  mkdirSync(dir);
  writeFileSync(join(dir, "data.db"), "someone else's");
  assert.throws(() => open(dir, world()), /not an hmx state dir/);
  assert.throws(() => readFileSync(join(dir, JOURNAL_FILE)), /ENOENT/);
});

test("a lock held by a live process keeps a second hypervisor out of the state dir", () => {
  const dir = freshDir();
  mkdirSync(dir);
  // PID 1 is alive in every namespace; its real start time makes the lock live.
  const stat = readFileSync("/proc/1/stat", "utf8");
  const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  writeFileSync(join(dir, "LOCK"), `1 ${start}\n`);
  assert.throws(() => open(dir, world()), /held by live process 1 .*cannot share/);
  // A lock naming a process that is gone (pid 1 with another start time) is taken over.
  writeFileSync(join(dir, "LOCK"), `1 0\n`);
  open(dir, world()).close();
});

test("a failing journal write refuses mutating hypercalls with UNAVAILABLE, keeps the records, and accepts again once a write succeeds", () => {
  const dir = freshDir();
  const w = world();
  let failing = false;
  let writes = 0;
  const store = open(dir, w, (path) => {
    const real = openJournalFile(path);
    return {
      ...real,
      writeAt: (data, position) => {
        writes++;
        if (failing)
          throw Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
        real.writeAt(data, position);
      },
    };
  });
  const { domain, credential } = w.core.domains.create({
    name: "a",
    label: "x",
    memoryBytes: 131072,
  });
  assert.equal(store.commit(), true);
  failing = true;
  const write: Hypercall = { op: "writeMemory", gpa: 16 * PAGE_SIZE, data: Buffer.from("kept") };
  assert.deepEqual(w.dispatcher.executeOnce(domain, 1, write), { op: "writeMemory", ret: 0 });
  assert.equal(store.commit(), false);
  assert.match(store.failure ?? "", /ENOSPC/);
  const refused = w.dispatcher.executeOnce(domain, 2, write);
  assert.equal(refused.op === "status" ? refused.code : undefined, CallStatusCode.UNAVAILABLE);
  assert.equal(w.dispatcher.execute(domain, write).op, "status");
  // Reads without a request id change nothing and are still served.
  assert.equal(
    w.dispatcher.execute(domain, { op: "readMemory", gpa: 16 * PAGE_SIZE, length: 4 }).op,
    "readMemory",
  );
  failing = false;
  assert.equal(store.commit(), true);
  assert.equal(store.failure, undefined);
  assert.deepEqual(w.dispatcher.executeOnce(domain, 2, write), { op: "writeMemory", ret: 0 });
  store.close();
  assert.ok(writes >= 3);
  // Nothing was lost: the write made while failing is on disk.
  const b = world();
  open(dir, b).close();
  assert.equal(
    b.core.domains
      .authenticate(credential)
      ?.memory.read(16 * PAGE_SIZE, 4)
      ?.toString(),
    "kept",
  );
  assert.equal(b.dispatcher.resumeLog(at(b.core.domains.list(), 0)).lastExecuted, 2);
});

for (const snapshots of [false, true]) {
  test(`firewall changes made at run time are journaled in order with the hypercalls and come back, deciding the same${snapshots ? " (from a snapshot taken at close)" : ""}`, () => {
    const dir = freshDir();
    const dummyMac = (): MacController =>
      new MacController({ module: "dummy", macPermissive: true, audit: new Audit(log) });
    const sendFrom1: Hypercall = {
      op: "sendv",
      args: {
        src: { domainId: ARGO_DOMID_ANY, aport: 5 },
        dst: { domainId: 2, aport: 9 },
        iovs: [{ gpa: 16 * PAGE_SIZE, len: 8 }],
        messageType: 0,
      },
    };
    const macA = dummyMac();
    const a = world(macA);
    const storeA = open(dir, a, undefined, macA, snapshots ? { snapshotBytes: 1 << 30 } : {});
    for (const name of ["one", "two"]) {
      a.core.domains.create({ name, label: "x_t", memoryBytes: 131072 });
    }
    const [d1, d2] = a.core.domains.list();
    assert.ok(d1 !== undefined && d2 !== undefined);
    a.dispatcher.execute(d2, {
      op: "registerRing",
      args: { aport: 9, partnerId: ARGO_DOMID_ANY, len: 4032, gfns: [16], flags: 0 },
    });
    assert.ok(a.dispatcher.execute(d1, sendFrom1).op === "sendv");
    const accepted = a.dispatcher.execute(d1, sendFrom1);
    macA.addFirewallRule({
      src: { domain: { kind: "domid", domid: 1 }, port: null },
      dst: { domain: { kind: "any" }, port: 9 },
      verdict: "reject",
    });
    const rejected = a.dispatcher.execute(d1, sendFrom1);
    macA.setFirewallDefault("reject");
    storeA.close();
    assert.deepEqual(
      [accepted, rejected].map((r) => (r.op === "sendv" ? r.ret > 0 : r)),
      [true, false],
    );

    const macB = dummyMac();
    const b = world(macB);
    const storeB = open(dir, b, undefined, macB);
    assert.equal(storeB.recovery.snapshotGeneration, snapshots ? 1 : 0);
    storeB.close();
    assert.deepEqual(
      macB.firewallTable.rules.map((r) => r.text),
      macA.firewallTable.rules.map((r) => r.text),
    );
    assert.equal(macB.firewallTable.defaultVerdict, "reject");
    assert.deepEqual(fingerprint(b, new Map()), fingerprint(a, new Map()));
  });
}
