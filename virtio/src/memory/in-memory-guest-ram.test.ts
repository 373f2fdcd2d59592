// SPDX-License-Identifier: Apache-2.0
/** `InMemoryGuestRam`: `read` copies, `view` aliases, both bounds-checked. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { GuestRamError } from "./guest-ram.js";
import { InMemoryGuestRam } from "./in-memory-guest-ram.js";

test("view aliases the memory where read copies it, and both refuse a range outside it", () => {
  const ram = new InMemoryGuestRam(64);
  ram.write(8, Uint8Array.of(1, 2, 3, 4));
  const copy = ram.read(8, 4);
  const view = ram.view(8, 4);
  assert.deepEqual([...view], [1, 2, 3, 4]);
  ram.write(9, Uint8Array.of(20));
  assert.deepEqual([...view], [1, 20, 3, 4]);
  assert.deepEqual([...copy], [1, 2, 3, 4]);
  assert.equal(ram.view(64, 0).length, 0);
  assert.throws(() => ram.view(62, 4), GuestRamError);
  assert.throws(() => ram.read(62, 4), GuestRamError);
});
