// SPDX-License-Identifier: Apache-2.0
/** `hmx console`: finding a guest's console files by domid or name, and `--list`. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { findConsole, listConsoles } from "./console.js";

describe("hmx console", () => {
  const dir = mkdtempSync(join(tmpdir(), "hmx-console-test-"));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, "12-guest-b.log"), "bb\n");
  writeFileSync(join(dir, "3-guest-a.log"), "a\n");
  writeFileSync(join(dir, "3-guest-a.in"), "");
  writeFileSync(join(dir, "14-twin.log"), "");
  writeFileSync(join(dir, "15-twin.log"), "");

  test("a guest is found by domid or by name", () => {
    assert.equal(findConsole(dir, "3"), "3-guest-a");
    assert.equal(findConsole(dir, "guest-b"), "12-guest-b");
  });

  test("an unknown guest is an error listing the consoles there; an ambiguous name asks for the domid", () => {
    const missing = findConsole(dir, "nobody");
    assert.ok(
      typeof missing !== "string" &&
        missing.error.includes('"nobody"') &&
        missing.error.includes("3-guest-a"),
    );
    const twin = findConsole(dir, "twin");
    assert.ok(typeof twin !== "string" && twin.error.includes("use the domid"));
  });

  test("--list shows every console by domid order with its size", () => {
    const listing = listConsoles(dir);
    assert.ok(typeof listing === "string", JSON.stringify(listing));
    const rows = listing
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => l.split(/\s+/));
    assert.deepEqual(rows, [
      ["3", "guest-a", "2"],
      ["12", "guest-b", "3"],
      ["14", "twin", "0"],
      ["15", "twin", "0"],
    ]);
  });

  test("a missing directory is an error naming it", () => {
    const r = listConsoles(join(dir, "nope"));
    assert.ok(typeof r !== "string" && r.error.includes(join(dir, "nope")));
  });
});
