// SPDX-License-Identifier: Apache-2.0
/**
 * Snapshots of the state dir: a core recovered from a snapshot plus the journal after it is the
 * core that wrote them, wherever snapshots were taken; a crash at any step of the switch leaves
 * a dir that recovers to the same state; a damaged, incomplete or missing snapshot is refused
 * naming the file and offset, and left as it was; the dir stays bounded under a long run.
 */
import assert from "node:assert/strict";
import {
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import { ARGO_DOMID_ANY, PAGE_SIZE, RING_RX_PTR_OFFSET } from "@hmx/proto/abi";

import { randomSeed, seededRandom } from "../faults/seeded-random.js";
import { snapshotFileName } from "./snapshot-format.js";
import { JOURNAL_FILE, type SnapshotStep, type StateStore } from "./state-store.js";
import { fingerprint, open, randomOp, world, type World } from "./state-test-world.js";

const scratch = mkdtempSync(join(tmpdir(), "hmx-state-snapshot-test-"));
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});
let dirs = 0;
function freshDir(): string {
  return join(scratch, `d${dirs++}`);
}

/** A copy of the dir as it is now: what a process killed at this instant leaves on disk. */
function crashImage(dir: string): string {
  const copy = freshDir();
  cpSync(dir, copy, { recursive: true });
  rmSync(join(copy, "LOCK"), { force: true });
  return copy;
}

/** Recovers `dir` into a new world and returns its fingerprint (the store closed, no snapshot). */
function recovered(dir: string, credentials: ReadonlyMap<number, string>): unknown {
  const w = world();
  const store = open(dir, w);
  const print = fingerprint(w, credentials);
  store.close();
  return print;
}

/** Sum of the sizes of the files in `dir` (a file renamed away meanwhile counts 0). */
function dirBytes(dir: string): number {
  return readdirSync(dir).reduce(
    (n, f) => n + (statSync(join(dir, f), { throwIfNoEntry: false })?.size ?? 0),
    0,
  );
}

/** A seeded random workload on one world, its credentials and request ids kept for the checks. */
function workload(seed: number): {
  w: World;
  credentials: Map<number, string>;
  step: () => void;
} {
  const rand = seededRandom(seed);
  const w = world();
  const credentials = new Map<number, string>();
  const requestIds = new Map<number, number>();
  const names = { next: 1 };
  return {
    w,
    credentials,
    step: () => {
      randomOp(rand, w, credentials, requestIds, names);
    },
  };
}

test("a core recovered from a snapshot taken at random points plus the journal after it equals the writer at that point", async () => {
  const seed = Number(process.env["HMX_TEST_SEED"] ?? randomSeed());
  console.log(`snapshot recovery equivalence: seed ${seed} (replay with HMX_TEST_SEED=${seed})`);
  const rand = seededRandom(seed ^ 0x5a5a);
  const { w, credentials, step } = workload(seed);
  const dir = freshDir();
  const store = open(dir, w);
  const images: { dir: string; print: unknown; credentials: Map<number, string> }[] = [];
  let snapshots = 0;
  for (let i = 0; i < 400; i++) {
    step();
    assert.equal(store.commit(), true);
    const roll = rand();
    if (roll < 0.08) {
      // Some inputs run while the snapshot is written: they go to the old journal and are
      // carried into the new one at the switch.
      const taking = store.snapshot();
      const during = Math.floor(rand() * 4);
      for (let k = 0; k < during; k++, i++) step();
      assert.equal(await taking, true, `seed ${seed}: snapshot at input ${i}`);
      snapshots++;
    }
    if (roll > 0.9) {
      assert.equal(store.commit(), true);
      images.push({
        dir: crashImage(dir),
        print: fingerprint(w, credentials),
        credentials: new Map(credentials),
      });
    }
  }
  store.close();
  assert.ok(snapshots >= 10, `seed ${seed}: ${snapshots} snapshots taken`);
  assert.ok(images.length >= 10, `seed ${seed}: ${images.length} images`);
  for (const [k, image] of images.entries()) {
    assert.deepEqual(
      recovered(image.dir, image.credentials),
      image.print,
      `seed ${seed}: image ${k}`,
    );
  }
});

test("a crash at every step of the snapshot switch leaves a dir that recovers to the state at that instant, and leftovers are removed", async () => {
  const seed = Number(process.env["HMX_TEST_SEED"] ?? randomSeed());
  console.log(`snapshot switch crashes: seed ${seed} (replay with HMX_TEST_SEED=${seed})`);
  const { w, credentials, step } = workload(seed);
  const dir = freshDir();
  const images: {
    step: SnapshotStep | "before";
    dir: string;
    print: unknown;
    credentials: Map<number, string>;
  }[] = [];
  const image = (s: SnapshotStep | "before"): void => {
    images.push({
      step: s,
      dir: crashImage(dir),
      print: fingerprint(w, credentials),
      credentials: new Map(credentials),
    });
  };
  const store: StateStore = open(dir, w, undefined, undefined, { onSnapshotStep: image });
  for (let generation = 1; generation <= 2; generation++) {
    for (let i = 0; i < 150; i++) step();
    assert.equal(store.commit(), true);
    image("before");
    const taking = store.snapshot();
    // Inputs while the file is written: they must survive a crash at any later step.
    for (let i = 0; i < 20; i++) step();
    assert.equal(await taking, true);
  }
  store.close();
  const steps: SnapshotStep[] = [
    "snapshot-written",
    "snapshot-renamed",
    "journal-written",
    "journal-renamed",
    "old-snapshot-removed",
  ];
  assert.deepEqual(
    images.map((i) => i.step),
    ["before", ...steps, "before", ...steps],
  );
  for (const taken of images) {
    assert.deepEqual(
      recovered(taken.dir, taken.credentials),
      taken.print,
      `seed ${seed}: crash at ${taken.step}`,
    );
    // Whatever the crash left, recovery leaves one journal and at most one snapshot.
    const files = readdirSync(taken.dir).filter((f) => f !== "LOCK");
    assert.ok(
      files.length <= 2 && files.includes(JOURNAL_FILE),
      `after ${taken.step}: ${files.join(", ")}`,
    );
  }
});

test("a clean close takes a snapshot, and a reopen starts from it with an empty journal", () => {
  const { w, credentials, step } = workload(7);
  const dir = freshDir();
  const store = open(dir, w, undefined, undefined, { snapshotBytes: 1 << 30 });
  for (let i = 0; i < 200; i++) step();
  store.close();
  const print = fingerprint(w, credentials);
  assert.deepEqual(readdirSync(dir).sort(), [JOURNAL_FILE, snapshotFileName(1)]);
  assert.equal(statSync(join(dir, JOURNAL_FILE)).size, 16, "the journal holds only its header");
  const b = world();
  const reopened = open(dir, b);
  assert.equal(reopened.recovery.snapshotGeneration, 1);
  assert.equal(reopened.recovery.records, 0);
  assert.deepEqual(fingerprint(b, credentials), print);
  reopened.close();
});

/** A dir with snapshot 1 and a journal after it, and the fingerprint of its state. */
async function snapshotted(): Promise<{ dir: string; snapshot: string }> {
  const { w, step } = workload(11);
  const dir = freshDir();
  const store = open(dir, w);
  for (let i = 0; i < 100; i++) step();
  assert.equal(await store.snapshot(), true);
  for (let i = 0; i < 10; i++) step();
  store.close();
  return { dir, snapshot: join(dir, snapshotFileName(1)) };
}

/** Asserts `dir` is refused with `pattern` and that no file in it changed. */
function assertRefusedUnchanged(dir: string, pattern: RegExp): void {
  const before = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))] as const);
  assert.throws(() => open(dir, world()), pattern);
  const after = readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))] as const);
  assert.deepEqual(after, before);
}

test("a damaged snapshot is refused naming the file and the offset, and the dir is left byte for byte", async () => {
  const { dir, snapshot } = await snapshotted();
  const bytes = readFileSync(snapshot);
  // A byte inside the first record's payload, and one inside a later record.
  for (const at of [16 + 12 + 2, Math.floor(bytes.length / 2)]) {
    const damaged = Buffer.from(bytes);
    damaged.writeUInt8(damaged.readUInt8(at) ^ 0x10, at);
    writeFileSync(snapshot, damaged);
    assertRefusedUnchanged(
      dir,
      new RegExp(`state snapshot ${snapshot} at offset \\d+: .*damaged.*nothing was changed`),
    );
  }
});

test("an incomplete snapshot (cut inside a record or at a record boundary) is refused, never read as a shorter state", async () => {
  const { dir, snapshot } = await snapshotted();
  const bytes = readFileSync(snapshot);
  const firstRecordEnd = 16 + 12 + bytes.readUInt32LE(16);
  writeFileSync(snapshot, bytes.subarray(0, bytes.length - 5));
  assertRefusedUnchanged(dir, /state snapshot .* ends inside a record.*damaged/);
  writeFileSync(snapshot, bytes.subarray(0, firstRecordEnd));
  assertRefusedUnchanged(
    dir,
    new RegExp(`${snapshot} at offset ${firstRecordEnd}: no end record after 1 records`),
  );
});

test("a journal whose snapshot is missing, or a snapshot of another generation, is refused naming them", async () => {
  const { dir, snapshot } = await snapshotted();
  const bytes = readFileSync(snapshot);
  rmSync(snapshot);
  assertRefusedUnchanged(
    dir,
    new RegExp(
      `journal ${join(dir, JOURNAL_FILE)} at offset 12: .*snapshot 1, but ${snapshot} is missing`,
    ),
  );
  const other = Buffer.from(bytes);
  other.writeUInt32LE(2, 12);
  writeFileSync(snapshot, other);
  assertRefusedUnchanged(dir, /at offset 12: generation 2, but the journal continues generation 1/);
  const foreign = Buffer.from(bytes);
  foreign.write("NOTSNAPS", 0, "latin1");
  writeFileSync(snapshot, foreign);
  assertRefusedUnchanged(dir, /at offset 0: not an hmx state snapshot/);
});

test("under 100,000 sendvs with a 256 KiB snapshot threshold the state dir stays below 768 KiB, and recovers to the writer", async () => {
  const a = world();
  const dir = freshDir();
  const threshold = 256 * 1024;
  const store = open(dir, a, undefined, undefined, { snapshotBytes: threshold });
  const sender = a.core.domains.create({ name: "tx", label: "x", memoryBytes: 256 * 1024 });
  const receiver = a.core.domains.create({ name: "rx", label: "x", memoryBytes: 256 * 1024 });
  const credentials = new Map([
    [sender.domain.domid, sender.credential],
    [receiver.domain.domid, receiver.credential],
  ]);
  a.dispatcher.execute(receiver.domain, {
    op: "registerRing",
    args: { aport: 1, partnerId: ARGO_DOMID_ANY, len: 4032, gfns: [16], flags: 0 },
  });
  a.dispatcher.execute(sender.domain, {
    op: "writeMemory",
    gpa: 20 * PAGE_SIZE,
    data: Buffer.from("a message of forty bytes, more or less."),
  });
  let largest = 0;
  let requestId = 0;
  for (let i = 0; i < 100_000; i++) {
    const sent = a.dispatcher.executeOnce(sender.domain, ++requestId, {
      op: "sendv",
      args: {
        src: { domainId: ARGO_DOMID_ANY, aport: 7 },
        dst: { domainId: receiver.domain.domid, aport: 1 },
        iovs: [{ gpa: 20 * PAGE_SIZE, len: 40 }],
        messageType: 0,
      },
    });
    if (sent.op === "sendv" && sent.ret === -11) {
      // The ring is full: the receiver consumes everything (rx_ptr = tx_ptr) and notifies.
      const [ring] = a.core.argo.listRings(receiver.domain);
      const rx = Buffer.alloc(4);
      rx.writeUInt32LE(ring?.txPtr ?? 0);
      a.dispatcher.execute(receiver.domain, {
        op: "writeMemory",
        gpa: 16 * PAGE_SIZE + RING_RX_PTR_OFFSET,
        data: rx,
      });
      a.dispatcher.execute(receiver.domain, { op: "notify", ringData: null });
    }
    if (i % 100 === 0) {
      a.dispatcher.acknowledge(sender.domain, requestId);
      // Turns pass, so the group commit and the background snapshot can run. This loop makes
      // journal far faster than gRPC traffic could (~100 MB/s), so a snapshot's fsyncs would
      // let the journal run far past the threshold: it waits for a running snapshot, as if the
      // write were quick next to the traffic. (The journal's growth while a snapshot is written
      // is the rate times the write's duration; docs/state.md.)
      largest = Math.max(largest, dirBytes(dir));
      do await new Promise((resolve) => setImmediate(resolve));
      while (store.snapshotting);
      largest = Math.max(largest, dirBytes(dir));
    }
  }
  while (store.snapshotting) await new Promise((resolve) => setTimeout(resolve, 5));
  store.close();
  largest = Math.max(largest, dirBytes(dir));
  console.log(
    `100k sendvs: largest state dir ${largest} bytes, ${store.lastSnapshot?.count ?? 0} snapshots`,
  );
  assert.ok((store.lastSnapshot?.count ?? 0) >= 10, "snapshots were taken");
  assert.ok(largest < 768 * 1024, `state dir reached ${largest} bytes`);
  assert.deepEqual(recovered(dir, credentials), fingerprint(a, credentials));
});
