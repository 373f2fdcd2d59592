// SPDX-License-Identifier: Apache-2.0
/**
 * Enrolment devices: a front end gets its devices as soon as both it and its back end have
 * enrolled, in either order; a back end that comes back as a new domain serves every live front
 * end again; resuming changes nothing; a placement the toolstack refuses leaves the enrolment
 * standing with no devices.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pino } from "pino";
import { DeviceManager } from "../devices/device-manager.js";
import type { DeviceEvent } from "../events/event-channel.js";
import { createHarness } from "../test-utils/argo-harness.js";
import { EnrolmentDevices, type EnrolmentDeviceRule } from "./enrolment-devices.js";
import { EnrolmentService, type DomainTemplate } from "./enrolment.js";

const GUEST: DomainTemplate = {
  name: "guest",
  label: "guest_t",
  memoryBytes: 1024 * 1024,
  maxDomains: 40,
  token: "guest-token-0123456789",
};
const BACKEND: DomainTemplate = {
  name: "vbackend",
  label: "vbackend_t",
  memoryBytes: 1024 * 1024,
  maxDomains: 1,
  token: "vback-token-0123456789",
};
const RULE: EnrolmentDeviceRule = {
  frontendTemplate: "guest",
  backendTemplate: "vbackend",
  types: ["blk", "net", "console"],
};

function setup(rules: readonly EnrolmentDeviceRule[] = [RULE]) {
  const h = createHarness({ domains: 0, macPermissive: true });
  const log = pino({ level: "silent" });
  const events: [number, DeviceEvent][] = [];
  const devices = new DeviceManager({
    registry: h.core.domains,
    events: { raiseDeviceEvent: (d, e) => events.push([d, e]) },
    log,
  });
  const enrolment = new EnrolmentService(h.core.domains, [GUEST, BACKEND], 1000, log);
  const placer = new EnrolmentDevices(rules, devices, (t) => enrolment.domainsOf(t), log);
  enrolment.onEnrolled((e) => {
    placer.enrolled(e);
  });
  /** Each of `fe`'s devices as "type@backend". */
  const devicesOf = (fe: number): string[] =>
    devices.list(fe).map((d) => `${d.spec.type}@${d.spec.backendDomid}`);
  return { h, devices, enrolment, events, devicesOf };
}

describe("enrolment devices", () => {
  test("a front end enrolling after its back end gets one device of each type from it at once", () => {
    const { enrolment, devicesOf } = setup();
    const be = enrolment.enrol(BACKEND.token, "be").domid;
    const fe = enrolment.enrol(GUEST.token, "a").domid;
    // DeviceTypeId: net 1, blk 2, console 3 — in the rule's order.
    assert.deepEqual(devicesOf(fe), [`2@${be}`, `1@${be}`, `3@${be}`]);
  });

  test("front ends enrolled before their back end get their devices when the back end enrols", () => {
    const { enrolment, devicesOf, events } = setup();
    const a = enrolment.enrol(GUEST.token, "a").domid;
    const b = enrolment.enrol(GUEST.token, "b").domid;
    assert.deepEqual([devicesOf(a), devicesOf(b)], [[], []]);
    const be = enrolment.enrol(BACKEND.token, "be").domid;
    assert.deepEqual(
      [devicesOf(a), devicesOf(b)],
      [
        [`2@${be}`, `1@${be}`, `3@${be}`],
        [`2@${be}`, `1@${be}`, `3@${be}`],
      ],
    );
    // Hot-add is announced to both ends of every device.
    assert.equal(events.filter(([d]) => d === a).length, 3);
    assert.equal(events.filter(([d]) => d === be).length, 6);
  });

  test("resuming either end places nothing twice", () => {
    const { enrolment, devicesOf } = setup();
    const backend = enrolment.enrol(BACKEND.token, "be");
    const frontend = enrolment.enrol(GUEST.token, "a");
    const [be, fe] = [backend.domid, frontend.domid];
    assert.equal(enrolment.enrol(GUEST.token, "a", frontend.instanceSecret).resumed, true);
    assert.equal(enrolment.enrol(BACKEND.token, "be", backend.instanceSecret).resumed, true);
    assert.deepEqual(devicesOf(fe), [`2@${be}`, `1@${be}`, `3@${be}`]);
  });

  test("a back end reaped and enrolled again as a new domain serves the live front ends again", () => {
    const { h, enrolment, devicesOf } = setup();
    const be1 = enrolment.enrol(BACKEND.token, "be").domid;
    const fe = enrolment.enrol(GUEST.token, "a").domid;
    // The back end's guest stays away past the grace period; the front end's is connected.
    enrolment.sweep(
      (d) => d === fe,
      () => undefined,
      Date.now() + 5000,
    );
    assert.equal(h.core.domains.get(be1), undefined);
    assert.deepEqual(devicesOf(fe), [], "destroying the back end removes its devices");
    const be2 = enrolment.enrol(BACKEND.token, "be").domid;
    assert.notEqual(be2, be1);
    assert.deepEqual(devicesOf(fe), [`2@${be2}`, `1@${be2}`, `3@${be2}`]);
  });

  test("templates without a rule get no devices", () => {
    const { enrolment, devicesOf } = setup([]);
    enrolment.enrol(BACKEND.token, "be");
    assert.deepEqual(devicesOf(enrolment.enrol(GUEST.token, "a").domid), []);
  });

  test("a placement the toolstack refuses leaves the enrolment standing, without devices", () => {
    // 25 entries fit a table; a back end hosting 9 front ends × 3 devices = 27 cannot hold them all.
    const { enrolment, devices } = setup();
    const fronts = Array.from({ length: 9 }, (_, i) => enrolment.enrol(GUEST.token, `g${i}`).domid);
    const be = enrolment.enrol(BACKEND.token, "be").domid;
    assert.equal(enrolment.domainsOf("vbackend")[0], be);
    const placed = fronts.map((fe) => devices.list(fe).length);
    assert.ok(
      placed.includes(0),
      `some front end is refused its devices: ${JSON.stringify(placed)}`,
    );
    assert.ok(
      placed.every((n) => n === 0 || n === 3),
      "a refused placement is all or nothing",
    );
    assert.ok(devices.hostedBy(be).length <= 25);
  });
});
