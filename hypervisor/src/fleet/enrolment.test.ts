// SPDX-License-Identifier: Apache-2.0
/**
 * Enrolment rules: a token bound to a template creates domains of that template up to its
 * maximum, the same instance resumes its live domain with a fresh credential, wrong tokens and
 * bad instance names are refused with nothing created, and a domain whose guest stays away past
 * the grace period is destroyed with full Argo teardown.
 */
import { ARGO_DOMID_ANY, FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pino } from "pino";
import { createHarness } from "../test-utils/argo-harness.js";
import { EnrolmentError, EnrolmentService, type DomainTemplate } from "./enrolment.js";

const GUEST: DomainTemplate = {
  name: "guest",
  label: "guest_t",
  memoryBytes: 1024 * 1024,
  maxDomains: 2,
  token: "guest-token-0123456789",
};
const OTHER: DomainTemplate = {
  name: "other",
  label: "other_t",
  memoryBytes: 1024 * 1024,
  maxDomains: 5,
  token: "other-token-0123456789",
};

function setup(gracePeriodMs = 1000) {
  const h = createHarness({ domains: 0, macPermissive: true });
  const enrolment = new EnrolmentService(
    h.core.domains,
    [GUEST, OTHER],
    gracePeriodMs,
    pino({ level: "silent" }),
  );
  return { h, enrolment };
}

function refusal(fn: () => unknown): EnrolmentError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof EnrolmentError);
    return err;
  }
  assert.fail("expected an EnrolmentError");
}

describe("enrolment", () => {
  test("a template's token creates a domain with the template's label and memory, named after the instance", () => {
    const { h, enrolment } = setup();
    const e = enrolment.enrol(GUEST.token, "pod-0");
    assert.equal(e.resumed, false);
    const d = h.core.domains.get(e.domid);
    assert.deepEqual(
      [d?.name, d?.label, d?.memory.sizeBytes],
      ["guest-pod-0", "guest_t", 1024 * 1024],
    );
    assert.equal(h.core.domains.authenticate(e.credential)?.domid, e.domid);
  });

  test("an unknown token, or a domain credential, is refused as unauthenticated and creates nothing", () => {
    const { h, enrolment } = setup();
    assert.equal(refusal(() => enrolment.enrol("not-a-token-at-all", "x")).kind, "unauthenticated");
    const e = enrolment.enrol(GUEST.token, "a");
    assert.equal(refusal(() => enrolment.enrol(e.credential, "b")).kind, "unauthenticated");
    assert.equal(h.core.domains.size, 1);
  });

  test("a bad instance name is refused naming the value", () => {
    const { enrolment } = setup();
    const err = refusal(() => enrolment.enrol(GUEST.token, "bad name!"));
    assert.equal(err.kind, "invalid");
    assert.match(err.message, /bad name!/);
  });

  test("a template refuses enrolments beyond its maximum count, per template", () => {
    const { enrolment } = setup();
    enrolment.enrol(GUEST.token, "a");
    enrolment.enrol(GUEST.token, "b");
    assert.equal(refusal(() => enrolment.enrol(GUEST.token, "c")).kind, "exhausted");
    assert.equal(
      enrolment.enrol(OTHER.token, "c").resumed,
      false,
      "another template still has room",
    );
  });

  test("the token alone does not resume a live instance: no secret is a conflict, a wrong one unauthenticated, the credential unchanged", () => {
    const { h, enrolment } = setup();
    const first = enrolment.enrol(GUEST.token, "pod-0");
    assert.equal(first.instanceSecret.length, 43, "a first enrolment returns a 32-byte secret");
    const missing = refusal(() => enrolment.enrol(GUEST.token, "pod-0"));
    assert.equal(missing.kind, "conflict");
    assert.match(missing.message, /pod-0.*instance secret/);
    const wrong = refusal(() => enrolment.enrol(GUEST.token, "pod-0", "x".repeat(43)));
    assert.equal(wrong.kind, "unauthenticated");
    assert.doesNotMatch(wrong.message, /xxxx/, "the presented secret is not echoed");
    assert.equal(
      h.core.domains.authenticate(first.credential)?.domid,
      first.domid,
      "the live credential still works",
    );
  });

  test("a domain name taken across templates is a conflict (ALREADY_EXISTS), not an internal error", () => {
    const { h } = setup();
    const GUEST_A: DomainTemplate = {
      ...OTHER,
      name: "guest-a",
      token: "guest-a-token-0123456789",
    };
    const both = new EnrolmentService(
      h.core.domains,
      [GUEST, GUEST_A],
      1000,
      pino({ level: "silent" }),
    );
    both.enrol(GUEST_A.token, "b");
    const err = refusal(() => both.enrol(GUEST.token, "a-b"));
    assert.equal(err.kind, "conflict");
    assert.match(err.message, /guest-a-b/);
  });

  test("the same instance resumes its live domain: same domid, rings intact, old credential revoked", () => {
    const { h, enrolment } = setup();
    const first = enrolment.enrol(GUEST.token, "pod-0");
    const d = h.core.domains.get(first.domid);
    assert.ok(d !== undefined);
    d.memory.write(FIRST_GUEST_GFN * PAGE_SIZE, Buffer.alloc(64));
    assert.equal(
      h.argo.registerRing(d, {
        aport: 9,
        partnerId: ARGO_DOMID_ANY,
        len: 4032,
        gfns: [FIRST_GUEST_GFN],
        flags: 0,
      }),
      0,
    );
    const again = enrolment.enrol(GUEST.token, "pod-0", first.instanceSecret);
    assert.deepEqual([again.domid, again.resumed, again.instanceSecret], [first.domid, true, ""]);
    assert.equal(h.argo.ringCount(d), 1, "the ring survived the resume");
    assert.equal(
      h.core.domains.authenticate(first.credential),
      undefined,
      "the old credential is revoked",
    );
    assert.equal(h.core.domains.authenticate(again.credential)?.domid, first.domid);
  });

  test("a guest away longer than the grace period loses its domain, with Argo teardown of partner rings", () => {
    const { h, enrolment } = setup(1000);
    const gone = enrolment.enrol(GUEST.token, "gone", "", 0);
    const stays = enrolment.enrol(GUEST.token, "stays", "", 0);
    const owner = h.core.domains.get(stays.domid);
    assert.ok(owner !== undefined);
    owner.memory.write(FIRST_GUEST_GFN * PAGE_SIZE, Buffer.alloc(64));
    assert.equal(
      h.argo.registerRing(owner, {
        aport: 1,
        partnerId: gone.domid,
        len: 4032,
        gfns: [FIRST_GUEST_GFN],
        flags: 0,
      }),
      0,
    );
    const connected = new Set([stays.domid]);
    const destroyed: number[] = [];
    assert.deepEqual(
      enrolment.sweep(
        (d) => connected.has(d),
        (d) => destroyed.push(d),
        900,
      ),
      [],
      "within the grace period nothing happens",
    );
    assert.deepEqual(
      enrolment.sweep(
        (d) => connected.has(d),
        (d) => destroyed.push(d),
        1001,
      ),
      [gone.domid],
    );
    assert.deepEqual(destroyed, [gone.domid]);
    assert.equal(h.core.domains.get(gone.domid), undefined);
    assert.equal(
      h.argo.ringCount(owner),
      0,
      "the partner ring toward the destroyed domain was torn down",
    );
    assert.ok(h.core.domains.get(stays.domid) !== undefined, "a connected guest keeps its domain");
    assert.equal(
      enrolment.enrol(GUEST.token, "again").resumed,
      false,
      "the slot was freed for a new enrolment",
    );
  });

  test("a guest that reconnects within the grace period keeps its domain", () => {
    const { h, enrolment } = setup(1000);
    const e = enrolment.enrol(GUEST.token, "flaky", "", 0);
    enrolment.sweep(
      () => false,
      () => undefined,
      800,
    );
    enrolment.sweep(
      () => true,
      () => undefined,
      900,
    );
    assert.deepEqual(
      enrolment.sweep(
        () => false,
        () => undefined,
        1800,
      ),
      [],
    );
    assert.ok(h.core.domains.get(e.domid) !== undefined);
  });

  test("an enrolment the memory total cannot hold is refused as exhausted, naming the template and sizes, and creates nothing", () => {
    const h = createHarness({ domains: 0, maxTotalMemoryBytes: 2 * 1024 * 1024 });
    const enrolment = new EnrolmentService(
      h.core.domains,
      [GUEST, OTHER],
      1000,
      pino({ level: "silent" }),
    );
    enrolment.enrol(GUEST.token, "a");
    const b = enrolment.enrol(OTHER.token, "b", "", 0);
    const refused = refusal(() => enrolment.enrol(OTHER.token, "c"));
    assert.equal(refused.kind, "exhausted");
    assert.match(
      refused.message,
      /^template "other": cannot reserve 1048576 bytes \(1 MiB\).*only 0 bytes \(0 MiB\) of the 2097152 bytes/,
    );
    assert.match(refused.message, /--max-total-memory/);
    assert.equal(h.core.domains.size, 2);
    // A domain reaped after its grace period gives its memory back to the next enrolment.
    enrolment.sweep(
      () => false,
      () => undefined,
      1001,
    );
    assert.equal(enrolment.enrol(OTHER.token, "c").resumed, false);
    assert.equal(h.core.domains.get(b.domid), undefined);
  });
});
