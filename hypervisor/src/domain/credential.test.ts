// SPDX-License-Identifier: Apache-2.0
/** Tests of credential issue, parsing and constant-time verification. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  credentialDigest,
  credentialDomid,
  issueCredential,
  verifyCredential,
} from "./credential.js";

describe("credentials", () => {
  test("a credential is the domid, a dot and 43 base64url characters", () => {
    const { credential } = issueCredential(42);
    assert.match(credential, /^42\.[A-Za-z0-9_-]{43}$/);
  });

  test("two credentials for the same domid differ", () => {
    assert.notEqual(issueCredential(1).credential, issueCredential(1).credential);
  });

  test("only the SHA-256 digest of the credential is kept", () => {
    const { credential, digest } = issueCredential(7);
    assert.equal(digest.length, 32);
    assert.deepEqual(digest, credentialDigest(credential));
    assert.equal(digest.toString("utf8").includes(credential), false);
  });

  test("verifyCredential accepts the issued credential and rejects any other", () => {
    const { credential, digest } = issueCredential(7);
    assert.equal(verifyCredential(credential, digest), true);
    assert.equal(verifyCredential(`${credential.slice(0, -1)}A`, digest), credential.endsWith("A"));
    assert.equal(verifyCredential(issueCredential(7).credential, digest), false);
    assert.equal(verifyCredential(credential, undefined), false);
  });

  test("credentialDomid parses well-formed credentials and rejects malformed ones", () => {
    const good = issueCredential(123).credential;
    assert.equal(credentialDomid(good), 123);
    assert.equal(credentialDomid(good.slice(0, -1)), undefined);
    assert.equal(credentialDomid(`0${good}`), undefined);
    assert.equal(credentialDomid(`x.${good.split(".")[1] ?? ""}`), undefined);
    assert.equal(credentialDomid(`${good}\n`), undefined);
    assert.equal(credentialDomid("1." + "a".repeat(10_000)), undefined);
    assert.equal(credentialDomid(""), undefined);
  });
});
