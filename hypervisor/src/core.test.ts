// SPDX-License-Identifier: Apache-2.0
/** createHypervisorCore: wiring of quota, registry and Argo lifecycle hooks. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { createHypervisorCore } from "./core.js";
import { FakeVirqSink } from "./test-utils/argo-harness.js";

const MiB = 1024 * 1024;

test("createHypervisorCore runs argo_init on creation and argo_destroy then memory release on destruction", () => {
  const core = createHypervisorCore({
    argo: { enabled: true, macPermissive: false },
    maxTotalMemoryBytes: 8 * MiB,
    maxDomainMemoryBytes: 4 * MiB,
    virq: new FakeVirqSink(),
  });
  const { domain } = core.domains.create({ name: "a", label: "x", memoryBytes: MiB });
  assert.notEqual(domain.argo, null);
  assert.equal(
    core.argo.registerRing(domain, {
      aport: 1,
      partnerId: domain.domid,
      len: 4032,
      gfns: [16],
      flags: 0,
    }),
    0,
  );
  // The whole domain is reserved at creation; the ring materialised one page inside it.
  assert.equal(core.quota.usedBytes, MiB);
  assert.equal(domain.memory.residentBytes, 4096);
  core.domains.destroy(domain.domid);
  assert.equal(domain.argo, null);
  assert.equal(domain.alive, false);
  assert.equal(core.quota.usedBytes, 0);
});

test("createHypervisorCore with Argo off creates domains without Argo state", () => {
  const core = createHypervisorCore({
    argo: { enabled: false, macPermissive: false },
    maxTotalMemoryBytes: 8 * MiB,
    maxDomainMemoryBytes: 4 * MiB,
    virq: new FakeVirqSink(),
  });
  assert.equal(core.domains.create({ name: "a", label: "x", memoryBytes: MiB }).domain.argo, null);
  assert.deepEqual(core.argo.options, { enabled: false, macPermissive: false });
});
