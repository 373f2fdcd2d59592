// SPDX-License-Identifier: Apache-2.0
/** Config space with its generation counter (VirtIO 1.2 §2.5). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigSpace, ConfigSpaceError } from "./config-space.js";

describe("config space (VirtIO 1.2 §2.5)", () => {
  it("a device-side change bumps the generation and notifies; an identical write does neither", () => {
    const c = new ConfigSpace(8);
    let notified = 0;
    c.onChange(() => notified++);
    assert.equal(c.setU32(0, 5), true);
    assert.equal(c.generation, 1);
    assert.equal(c.setU32(0, 5), false);
    assert.equal(c.generation, 1);
    assert.equal(notified, 1);
    assert.equal(c.getU32(0), 5);
  });

  it("initialize sets contents without a generation bump", () => {
    const c = new ConfigSpace(4);
    c.initialize(0, Uint8Array.of(1, 2, 3, 4));
    assert.equal(c.generation, 0);
    assert.deepEqual([...c.read(1, 2)], [2, 3]);
  });

  it("reads outside the space throw ConfigSpaceError kind outOfRange", () => {
    const c = new ConfigSpace(8);
    assert.throws(
      () => c.read(6, 4),
      (e: unknown) => e instanceof ConfigSpaceError && e.kind === "outOfRange",
    );
  });

  it("driver writes are allowed only inside declared writable fields", () => {
    const seen: number[] = [];
    const c = new ConfigSpace(12, [{ offset: 8, size: 4, onWrite: (_o, b) => seen.push(...b) }]);
    c.driverWrite(8, Uint8Array.of(65));
    assert.deepEqual(seen, [65]);
    assert.throws(
      () => {
        c.driverWrite(0, Uint8Array.of(1));
      },
      (e: unknown) => e instanceof ConfigSpaceError && e.kind === "writeDenied",
    );
    assert.throws(
      () => {
        c.driverWrite(7, Uint8Array.of(1, 2));
      },
      (e: unknown) => e instanceof ConfigSpaceError && e.kind === "writeDenied",
    );
  });

  it("the generation wraps as a u32", () => {
    const c = new ConfigSpace(4);
    for (let i = 0; i < 3; i++) c.setU8(0, i + 1);
    assert.equal(c.generation, 3);
  });

  it("a driver write naming a stale generation is refused and changes nothing", () => {
    const seen: number[] = [];
    const c = new ConfigSpace(12, [{ offset: 8, size: 4, onWrite: (_o, b) => seen.push(...b) }]);
    const g = c.generation;
    c.setU16(0, 7); // a device-side change: generation g + 1
    assert.throws(
      () => {
        c.driverWrite(8, Uint8Array.of(65), g);
      },
      (e: unknown) =>
        e instanceof ConfigSpaceError &&
        e.kind === "staleGeneration" &&
        e.message.includes(`generation ${g}`),
    );
    assert.deepEqual(seen, [], "onWrite not called");
    assert.deepEqual([...c.read(8, 4)], [0, 0, 0, 0], "bytes unchanged");
    c.driverWrite(8, Uint8Array.of(66), c.generation);
    assert.deepEqual(seen, [66], "a write at the current generation goes through");
  });
});
