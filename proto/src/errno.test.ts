// SPDX-License-Identifier: Apache-2.0
/** The guest side's one errno table: Xen's values kept, one name per number, names for unknowns. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Errno, GuestErrno, errnoName } from "./abi.js";

describe("GuestErrno", () => {
  it("keeps every Xen errno at Xen's value", () => {
    for (const [name, value] of Object.entries(Errno))
      assert.equal(GuestErrno[name as keyof typeof Errno], value, name);
  });

  it("gives every number exactly one name", () => {
    const values = Object.values(GuestErrno);
    assert.equal(new Set(values).size, values.length);
  });

  it("names a known errno and spells out an unknown one", () => {
    assert.equal(errnoName(GuestErrno.ETIMEDOUT), "ETIMEDOUT");
    assert.equal(errnoName(Errno.EAGAIN), "EAGAIN");
    assert.equal(errnoName(4242), "ERRNO_4242");
  });
});
