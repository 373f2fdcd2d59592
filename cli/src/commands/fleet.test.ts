// SPDX-License-Identifier: Apache-2.0
/** `hmx fleet init` on an existing env file: its secrets stay, only missing ones are added. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { addMissingSecrets, projectSettings, readEnvFile, runFleetCommand } from "./fleet.js";

const dir = mkdtempSync(join(tmpdir(), "hmx-fleet-test-"));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

test("an existing env file keeps every secret it has and gains only the missing ones", () => {
  const file = join(dir, "a.env");
  writeFileSync(file, "# comment\nHMX_ADMIN_TOKEN=keep-me\nHMX_ENROLMENT_TOKEN_GUEST=keep-too"); // no final newline
  const added = addMissingSecrets(file, {
    HMX_ADMIN_TOKEN: "new-admin",
    HMX_ENROLMENT_TOKEN_GUEST: "new-guest",
    HMX_ENROLMENT_TOKEN_VBACKEND: "vb-token",
  });
  assert.deepEqual(added, ["HMX_ENROLMENT_TOKEN_VBACKEND"]);
  assert.equal(
    readFileSync(file, "utf8"),
    "# comment\nHMX_ADMIN_TOKEN=keep-me\nHMX_ENROLMENT_TOKEN_GUEST=keep-too\nHMX_ENROLMENT_TOKEN_VBACKEND=vb-token\n",
  );
});

test("an env file with everything is left byte for byte as it was", () => {
  const file = join(dir, "b.env");
  const text = "HMX_ADMIN_TOKEN=a\nHMX_ENROLMENT_TOKEN_GUEST=b\n";
  writeFileSync(file, text);
  assert.deepEqual(
    addMissingSecrets(file, { HMX_ADMIN_TOKEN: "x", HMX_ENROLMENT_TOKEN_GUEST: "y" }),
    [],
  );
  assert.equal(readFileSync(file, "utf8"), text);
});

test("two checkouts get different Compose projects and image tags; one checkout always the same", () => {
  const a = projectSettings("/home/u/src/hmx", true, 7071);
  const b = projectSettings("/home/u/other/hmx", true, 7072);
  assert.match(a["COMPOSE_PROJECT_NAME"] ?? "", /^hmx-hmx-[0-9a-f]{8}$/);
  assert.match(a["HMX_IMAGE"] ?? "", /^hmx-hmx-[0-9a-f]{8}:local$/);
  assert.match(a["HMX_NODE_BASE"] ?? "", /^hmx-node-base-hmx-[0-9a-f]{8}:local$/);
  for (const key of ["COMPOSE_PROJECT_NAME", "HMX_IMAGE", "HMX_NODE_BASE", "HMX_CONTROL_PORT"])
    assert.notEqual(a[key], b[key], key);
  assert.deepEqual(projectSettings("/home/u/src/hmx/", true, 7071), a, "stable for one path");
  assert.equal(
    projectSettings("/x/My Checkout!", false, 1)["HMX_IMAGE"]?.startsWith("hmx-my-checkout-"),
    true,
  );
  assert.equal(
    projectSettings("/x/y", false, 1)["HMX_NODE_BASE"],
    undefined,
    "no local base asked",
  );
});

test("hmx fleet init --no-stage writes the project settings next to the secrets, and keeps them", async () => {
  const file = join(dir, "init.env");
  const quiet = console.error;
  console.error = () => undefined;
  try {
    assert.equal(await runFleetCommand(["init", "--no-stage", "--env-file", file]), 0);
    const first = readEnvFile(file);
    for (const key of ["HMX_ADMIN_TOKEN", "COMPOSE_PROJECT_NAME", "HMX_IMAGE", "HMX_CONTROL_PORT"])
      assert.ok((first.get(key) ?? "") !== "", key);
    assert.equal(await runFleetCommand(["init", "--no-stage", "--env-file", file]), 0);
    assert.deepEqual(readEnvFile(file), first, "a second init changes nothing");
  } finally {
    console.error = quiet;
  }
});
