// SPDX-License-Identifier: Apache-2.0
/** Ring identity formatting and keys. */
import assert from "node:assert/strict";
import { test } from "node:test";

import { ARGO_DOMID_ANY } from "@hmx/proto/abi";

import { ringIdString, ringKey } from "./ring-id.js";

test("ringIdString prints a ring as Xen does: vm<owner>:<aport in hex> vm<partner>", () => {
  assert.equal(ringIdString({ domainId: 3, aport: 0x1000, partnerId: 5 }), "vm3:1000 vm5");
  assert.equal(
    ringIdString({ domainId: 1, aport: 0xffffffff, partnerId: ARGO_DOMID_ANY }),
    "vm1:ffffffff vm32756",
  );
});

test("ringKey is distinct for every (aport, partner) pair, including the extremes", () => {
  assert.notEqual(ringKey(1, 2), ringKey(2, 1));
  assert.notEqual(ringKey(0xffffffff, 0xffff), ringKey(0xffffffff, 0xfffe));
  assert.ok(Number.isSafeInteger(ringKey(0xffffffff, 0xffff)));
});
