// SPDX-License-Identifier: Apache-2.0
/** `hmx fleet init` on an existing env file: its secrets stay, only missing ones are added. */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { addMissingSecrets } from "./fleet.js";

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
  assert.deepEqual(addMissingSecrets(file, { HMX_ADMIN_TOKEN: "x", HMX_ENROLMENT_TOKEN_GUEST: "y" }), []);
  assert.equal(readFileSync(file, "utf8"), text);
});
