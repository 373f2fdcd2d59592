// SPDX-License-Identifier: Apache-2.0
/**
 * `--state-dir` keeps what the toolstack and enrolment add on top of the Argo core: VirtIO
 * device placements with both ends' tables at gfn 0 (byte for byte, same generations), and the
 * enrolment tables, so an enrolled guest resumes by instance secret after a restart and the
 * grace-period reaper still knows which domains are enrolled. Each world is a whole hypervisor
 * minus gRPC: registry, dispatcher, device manager, enrolment service and enrolment devices.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";

import { PAGE_SIZE } from "@hmx/proto/abi";
import { pino } from "pino";

import { DeviceManager, DeviceTypeId } from "../devices/device-manager.js";
import { HypercallDispatcher } from "../dispatch/dispatcher.js";
import { randomSeed, seededRandom } from "../faults/seeded-random.js";
import { EnrolmentDevices } from "../fleet/enrolment-devices.js";
import { EnrolmentError, EnrolmentService, type DomainTemplate } from "../fleet/enrolment.js";
import { createHarness } from "../test-utils/argo-harness.js";
import { StateStore } from "./state-store.js";

const log = pino({ level: "silent" });
const GUEST: DomainTemplate = {
  name: "guest",
  label: "guest_t",
  memoryBytes: 64 * 1024,
  maxDomains: 3,
  token: "guest-token-0123456789",
};
const BACKEND: DomainTemplate = {
  name: "vbackend",
  label: "vbackend_t",
  memoryBytes: 64 * 1024,
  maxDomains: 1,
  token: "vback-token-0123456789",
};
const GRACE_MS = 1000;

const scratch = mkdtempSync(join(tmpdir(), "hmx-state-devices-test-"));
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});
let dirs = 0;
function freshDir(): string {
  return join(scratch, `d${dirs++}`);
}

/**
 * A hypervisor without its listeners, journaling into `dir` (recovering what is there); with
 * `snapshots`, each clean close writes a snapshot, and the next world starts from it.
 */
function world(dir: string, snapshots = false) {
  const { core } = createHarness({ domains: 0, macPermissive: true });
  const dispatcher = new HypercallDispatcher(core.argo, log, { maxEntries: 8, maxBytes: 4096 });
  const devices = new DeviceManager({
    registry: core.domains,
    events: { raiseDeviceEvent: () => undefined },
    log,
  });
  const enrolment = new EnrolmentService(core.domains, [GUEST, BACKEND], GRACE_MS, log);
  const placer = new EnrolmentDevices(
    [{ frontendTemplate: "guest", backendTemplate: "vbackend", types: ["blk", "net"] }],
    devices,
    (t) => enrolment.domainsOf(t),
    log,
  );
  enrolment.onEnrolled((e) => {
    placer.enrolled(e);
  });
  const store = StateStore.open(
    { dir, fsync: false, log, devices, enrolment, snapshotBytes: snapshots ? 1 << 30 : 0 },
    core.domains,
    dispatcher,
  );
  return { core, devices, enrolment, store, snapshots };
}
type World = ReturnType<typeof world>;

/** Every placement and every domain's gfn 0 page, as one comparable value. */
function deviceFingerprint(w: World): unknown {
  return w.core.domains.list().map((d) => ({
    domid: d.domid,
    devices: w.devices.list(d.domid),
    hosted: w.devices.hostedBy(d.domid),
    gfn0: createHash("sha256")
      .update(d.memory.read(0, PAGE_SIZE) ?? Buffer.alloc(0))
      .digest("hex"),
  }));
}

/** Closes `w` and opens its state dir again in a new world (a clean restart). */
function restart(w: World, dir: string): World {
  w.store.close();
  return world(dir, w.snapshots);
}

test("VirtIO placements and both tables at gfn 0 come back byte for byte after a restart, and later changes continue from them", () => {
  const dir = freshDir();
  const a = world(dir);
  const make = (name: string): number =>
    a.core.domains.create({ name, label: "vm_t", memoryBytes: 64 * 1024 }).domain.domid;
  const [fe, be, be2, fe2] = [make("fe"), make("be"), make("be2"), make("fe2")];
  a.devices.attach(fe, [
    { type: DeviceTypeId.blk, backendDomid: be, capacityBytes: 1024 * 1024 },
    { type: DeviceTypeId.net, backendDomid: be },
  ]);
  a.devices.attach(fe, [{ type: DeviceTypeId.console, backendDomid: be2 }]);
  a.devices.detach(fe, 0);
  a.devices.attach(fe2, [{ type: DeviceTypeId.blk, backendDomid: be2, readOnly: true }]);
  // Destroying a back end removes its devices from the front ends' tables (not a record of its own).
  a.core.domains.destroy(be2);
  const before = deviceFingerprint(a);
  assert.notEqual(a.devices.list().length, 0);

  const b = restart(a, dir);
  assert.deepEqual(deviceFingerprint(b), before);
  // The next placement takes the freed index and the next generation, as it would have.
  const placed = b.devices.attach(fe, [{ type: DeviceTypeId.blk, backendDomid: be }]);
  assert.deepEqual(
    placed.map((d) => d.devIndex),
    [0],
  );
  const afterChange = deviceFingerprint(b);
  const c = restart(b, dir);
  assert.deepEqual(deviceFingerprint(c), afterChange);
  c.store.close();
});

test("an enrolled instance resumes by its secret after a restart (same domid, devices kept), a wrong secret is refused, and the count per template is kept", () => {
  const dir = freshDir();
  const a = world(dir);
  const backend = a.enrolment.enrol(BACKEND.token, "be");
  const first = a.enrolment.enrol(GUEST.token, "web-0");
  a.enrolment.enrol(GUEST.token, "web-1");
  a.enrolment.enrol(GUEST.token, "web-2");
  assert.equal(a.devices.list(first.domid).length, 2, "enrolment devices placed");
  const before = deviceFingerprint(a);

  const b = restart(a, dir);
  assert.deepEqual(deviceFingerprint(b), before, "devices placed once, not again by the replay");
  assert.throws(
    () => b.enrolment.enrol(GUEST.token, "web-0", "not-the-secret"),
    (err: unknown) => err instanceof EnrolmentError && err.kind === "unauthenticated",
  );
  const resumed = b.enrolment.enrol(GUEST.token, "web-0", first.instanceSecret);
  assert.equal(resumed.resumed, true);
  assert.equal(resumed.domid, first.domid);
  assert.equal(b.core.domains.authenticate(resumed.credential)?.domid, first.domid);
  assert.deepEqual(b.enrolment.domainsOf("vbackend"), [backend.domid]);
  // Three instances of a template of three: a fourth is still refused after the restart.
  assert.throws(
    () => b.enrolment.enrol(GUEST.token, "web-3"),
    (err: unknown) => err instanceof EnrolmentError && err.kind === "exhausted",
  );

  // The rotated credential is journaled too: it still opens the domain after another restart.
  const c = restart(b, dir);
  assert.equal(c.core.domains.authenticate(resumed.credential)?.domid, first.domid);
  c.store.close();
});

test("after a restart the grace-period reaper still reaps enrolled domains whose guests stay away, giving each a whole grace period from the restart", () => {
  const dir = freshDir();
  const a = world(dir);
  const kept = a.enrolment.enrol(GUEST.token, "kept");
  const gone = a.enrolment.enrol(GUEST.token, "gone");
  const toolstackMade = a.core.domains.create({
    name: "plain",
    label: "vm_t",
    memoryBytes: 64 * 1024,
  }).domain.domid;

  const restartedAt = Date.now();
  const b = restart(a, dir);
  const connected = (domid: number): boolean => domid === kept.domid;
  assert.deepEqual(
    b.enrolment.sweep(connected, () => undefined, restartedAt + GRACE_MS / 2),
    [],
    "nobody is reaped within the grace period that starts at the restart",
  );
  const reaped = b.enrolment.sweep(connected, () => undefined, Date.now() + GRACE_MS + 1);
  assert.deepEqual(reaped, [gone.domid]);
  assert.equal(b.core.domains.get(gone.domid), undefined);
  assert.notEqual(b.core.domains.get(kept.domid), undefined);
  assert.notEqual(b.core.domains.get(toolstackMade), undefined, "only enrolled domains are reaped");

  // The reaping is journaled like any destruction: it stays reaped, and the name is free again.
  const c = restart(b, dir);
  assert.equal(c.core.domains.get(gone.domid), undefined);
  assert.deepEqual(c.enrolment.domainsOf("guest"), [kept.domid]);
  assert.equal(c.enrolment.enrol(GUEST.token, "gone").resumed, false);
  c.store.close();
});

for (const snapshots of [false, true]) {
  test(`random enrolments, placements, detaches, resumes and destructions recover to the same devices, tables and enrolled domains${snapshots ? " (from snapshots)" : ""}`, () => {
    const seed = Number(process.env["HMX_TEST_SEED"] ?? randomSeed());
    console.log(`devices and enrolment recovery: seed ${seed} (replay with HMX_TEST_SEED=${seed})`);
    const rand = seededRandom(seed);
    const pick = (n: number): number => Math.floor(rand() * n);
    const dir = freshDir();
    let w = world(dir, snapshots);
    const secrets = new Map<string, string>();
    const fingerprint = (x: World): unknown => ({
      devices: deviceFingerprint(x),
      guests: x.enrolment.domainsOf("guest"),
      backends: x.enrolment.domainsOf("vbackend"),
    });
    for (let round = 0; round < 8; round++) {
      for (let step = 0; step < 25; step++) {
        const live = w.core.domains.list();
        const roll = rand();
        try {
          if (roll < 0.35) {
            const [token, instance] =
              rand() < 0.2 ? [BACKEND.token, "be"] : [GUEST.token, `g${pick(5)}`];
            const e = w.enrolment.enrol(token, instance, secrets.get(`${token}/${instance}`) ?? "");
            if (!e.resumed) secrets.set(`${token}/${instance}`, e.instanceSecret);
          } else if (roll < 0.55 && live.length >= 2) {
            const fe = live[pick(live.length)];
            const be = live[pick(live.length)];
            if (fe !== undefined && be !== undefined)
              w.devices.attach(fe.domid, [{ type: 1 + pick(3), backendDomid: be.domid }]);
          } else if (roll < 0.75) {
            const d = w.devices.list();
            const victim = d[pick(d.length)];
            if (victim !== undefined) w.devices.detach(victim.frontendDomid, victim.devIndex);
          } else if (roll < 0.85) {
            const victim = live[pick(live.length)];
            if (victim !== undefined) w.core.domains.destroy(victim.domid);
          } else {
            w.core.domains.create({
              name: `vm${round}-${step}`,
              label: "vm_t",
              memoryBytes: 65536,
            });
          }
        } catch {
          // Refusals (a taken name, a domain's own back end, a full template) change nothing.
        }
      }
      const before = fingerprint(w);
      w = restart(w, dir);
      assert.equal(w.store.recovery.snapshotGeneration, snapshots ? round + 1 : 0);
      assert.deepEqual(fingerprint(w), before, `round ${round}, seed ${seed}`);
    }
    w.store.close();
  });
}
