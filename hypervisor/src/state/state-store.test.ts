// SPDX-License-Identifier: Apache-2.0
/**
 * `StateStore`: a hypervisor core recovered from a state dir is the core that wrote it, as of
 * the last committed record — domains, credentials, memory, rings, waiters, resume logs and
 * counters — wherever the writer was killed; and a damaged, foreign, or locked dir is refused.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import { ARGO_DOMID_ANY, PAGE_SIZE } from "@hmx/proto/abi";
import { pino } from "pino";

import { createHypervisorCore, type HypervisorCore } from "../core.js";
import { HypercallDispatcher } from "../dispatch/dispatcher.js";
import { CallStatusCode, type Hypercall } from "../dispatch/hypercall.js";
import { randomSeed, seededRandom } from "../faults/seeded-random.js";
import { FakeVirqSink } from "../test-utils/argo-harness.js";
import { Audit } from "../mac/audit.js";
import { MacController } from "../mac/mac-controller.js";
import { JOURNAL_FILE, StateStore } from "./state-store.js";
import { openJournalFile, type JournalFile } from "./journal-writer.js";

const log = pino({ level: "silent" });

/** The element at `index`, which the test knows exists. */
function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`no element ${index} of ${items.length}`);
  return item;
}
const scratch = mkdtempSync(join(tmpdir(), "hmx-state-test-"));
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});
let dirs = 0;
function freshDir(): string {
  return join(scratch, `d${dirs++}`);
}

interface World {
  readonly core: HypervisorCore;
  readonly dispatcher: HypercallDispatcher;
}

function world(mac?: MacController): World {
  const core = createHypervisorCore({
    argo: { enabled: true, macPermissive: true },
    maxTotalMemoryBytes: 64 * 1024 * 1024,
    maxDomainMemoryBytes: 1024 * 1024,
    virq: new FakeVirqSink(),
    ...(mac === undefined ? {} : { mac }),
  });
  const dispatcher = new HypercallDispatcher(core.argo, log, { maxEntries: 8, maxBytes: 4096 });
  return { core, dispatcher };
}

function open(
  dir: string,
  w: World,
  openFile?: (path: string) => JournalFile,
  mac?: MacController,
): StateStore {
  return StateStore.open(
    {
      dir,
      fsync: false,
      log,
      ...(openFile === undefined ? {} : { openFile }),
      ...(mac === undefined ? {} : { mac }),
    },
    w.core.domains,
    w.dispatcher,
  );
}

/** Everything recovery must bring back, as one comparable value. */
function fingerprint(w: World, credentials: ReadonlyMap<number, string>): unknown {
  return w.core.domains.list().map((d) => ({
    domid: d.domid,
    name: d.name,
    label: d.label,
    privileged: d.privileged,
    // Unary reads without a request id change nothing and are not journaled: their tallies
    // (hypercalls, errors) are the only counters a restart may lower.
    counters: { ...d.counters, hypercalls: 0, errors: 0 },
    memory: createHash("sha256")
      .update(d.memory.read(0, d.memory.sizeBytes) ?? Buffer.alloc(0))
      .digest("hex"),
    rings: w.core.argo.listRings(d),
    lastExecuted: w.dispatcher.resumeLog(d).lastExecuted,
    resumeSize: w.dispatcher.resumeLog(d).size,
    authenticates: w.core.domains.authenticate(credentials.get(d.domid) ?? "")?.domid,
  }));
}

/** One random input to the hypervisor: a toolstack action or a hypercall, some with request ids. */
function randomOp(
  rand: () => number,
  w: World,
  credentials: Map<number, string>,
  requestIds: Map<number, number>,
  names: { next: number },
): void {
  const pick = (n: number): number => Math.floor(rand() * n);
  const live = w.core.domains.list();
  const roll = rand();
  if (live.length < 2 || roll < 0.03) {
    if (live.length >= 5) return;
    const { domain, credential } = w.core.domains.create({
      name: `vm${names.next++}`,
      label: `label_${pick(3)}_t`,
      memoryBytes: (16 + 4 + pick(8)) * PAGE_SIZE,
      privileged: rand() < 0.2,
    });
    credentials.set(domain.domid, credential);
    return;
  }
  const domain = at(live, pick(live.length));
  if (roll < 0.04) {
    w.core.domains.destroy(domain.domid);
    return;
  }
  if (roll < 0.05) {
    credentials.set(domain.domid, w.core.domains.rotateCredential(domain.domid) ?? "");
    return;
  }
  const peer = at(live, pick(live.length));
  const pages = domain.memory.pageCount;
  const gfn = 16 + pick(pages - 16);
  const calls: (() => Hypercall)[] = [
    () => ({
      op: "writeMemory",
      gpa: gfn * PAGE_SIZE + pick(PAGE_SIZE),
      data: Buffer.from(Array.from({ length: 1 + pick(300) }, () => pick(256))),
    }),
    () => ({
      op: "registerRing",
      args: {
        aport: 1 + pick(3),
        partnerId: rand() < 0.3 ? ARGO_DOMID_ANY : peer.domid,
        len: 48 + 16 * pick(200),
        gfns: [gfn],
        flags: pick(2),
      },
    }),
    () => ({ op: "unregisterRing", args: { aport: 1 + pick(3), partnerId: peer.domid } }),
    () => ({
      op: "sendv",
      args: {
        src: { domainId: ARGO_DOMID_ANY, aport: pick(5) },
        dst: { domainId: peer.domid, aport: 1 + pick(3) },
        iovs: [{ gpa: gfn * PAGE_SIZE, len: pick(700) }],
        messageType: pick(4),
      },
    }),
    () => ({
      op: "notify",
      ringData:
        rand() < 0.3
          ? null
          : [{ ring: { domainId: peer.domid, aport: 1 + pick(3) }, spaceRequired: pick(4000) }],
    }),
    () => ({ op: "readMemory", gpa: gfn * PAGE_SIZE, length: 1 + pick(64) }),
  ];
  const call = at(calls, pick(calls.length))();
  const r = rand();
  if (r < 0.25) {
    w.dispatcher.execute(domain, call);
    return;
  }
  const id = (requestIds.get(domain.domid) ?? 0) + 1;
  requestIds.set(domain.domid, id);
  if (r < 0.3) {
    // A stop-on-error skip: answered without running.
    w.dispatcher.answerOnce(domain, id, () => ({
      op: "status",
      code: CallStatusCode.ABORTED,
      message: "skipped",
    }));
  } else {
    w.dispatcher.executeOnce(domain, id, call);
  }
  if (rand() < 0.2) w.dispatcher.acknowledge(domain, id - pick(3));
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

test("firewall changes made at run time are journaled in order with the hypercalls and come back, deciding the same", () => {
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
  const storeA = open(dir, a, undefined, macA);
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
  open(dir, b, undefined, macB).close();
  assert.deepEqual(
    macB.firewallTable.rules.map((r) => r.text),
    macA.firewallTable.rules.map((r) => r.text),
  );
  assert.equal(macB.firewallTable.defaultVerdict, "reject");
  assert.deepEqual(fingerprint(b, new Map()), fingerprint(a, new Map()));
});
