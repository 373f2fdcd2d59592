// SPDX-License-Identifier: Apache-2.0
/**
 * Domain credentials: the bearer secret a guest agent presents so the service knows which
 * domain it speaks for (Xen's `current->domain`; DESIGN.md §2: identity comes from the
 * connection, never from a request field). A credential is `"<domid>.<secret>"` where the
 * secret is 32 random bytes in base64url (43 characters). The domid prefix only routes the
 * lookup; the secret authenticates. The hypervisor keeps only a SHA-256 digest and compares
 * digests with `crypto.timingSafeEqual`. Credentials are never logged.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Bytes of randomness in a credential's secret part. */
const SECRET_BYTES = 32;
/** Characters of that secret in base64url without padding: ceil(32 * 4 / 3). */
const SECRET_CHARS = 43;
/** `<domid>.<secret>`: a domid of 1..5 decimal digits without a leading zero. */
const CREDENTIAL_PATTERN = /^([1-9][0-9]{0,4})\.([A-Za-z0-9_-]{43})$/;
/** Longest well-formed credential; anything longer is rejected before hashing or matching. */
const MAX_CREDENTIAL_LENGTH = 5 + 1 + SECRET_CHARS;

/** A freshly issued credential and the digest to store in its place. */
export interface IssuedCredential {
  /** Hand this to the guest once; never store or log it. */
  readonly credential: string;
  /** SHA-256 of the whole credential string. */
  readonly digest: Buffer;
}

/** Issues a new random credential for `domid`. */
export function issueCredential(domid: number): IssuedCredential {
  const secret = randomBytes(SECRET_BYTES).toString("base64url");
  const credential = `${domid}.${secret}`;
  return { credential, digest: credentialDigest(credential) };
}

/** SHA-256 digest of a credential string (the only form the hypervisor keeps). */
export function credentialDigest(credential: string): Buffer {
  return createHash("sha256").update(credential, "utf8").digest();
}

/**
 * The domid a credential claims to be for, or undefined if it is malformed. This only picks
 * which stored digest to compare against; it authenticates nothing.
 */
export function credentialDomid(credential: string): number | undefined {
  if (credential.length > MAX_CREDENTIAL_LENGTH) return undefined;
  const match = CREDENTIAL_PATTERN.exec(credential);
  if (match?.[1] === undefined) return undefined;
  return Number(match[1]);
}

/** Digest that no credential hashes to in practice: compared when the domid is unknown. */
const DECOY_DIGEST = credentialDigest("hmx-decoy-credential");

/**
 * Whether `presented` matches `storedDigest`, in time independent of where they differ. With
 * `storedDigest` undefined (unknown domain) a decoy comparison still runs so that a miss costs
 * about the same as a mismatch.
 */
export function verifyCredential(presented: string, storedDigest: Buffer | undefined): boolean {
  const digest = credentialDigest(presented);
  const equal = timingSafeEqual(digest, storedDigest ?? DECOY_DIGEST);
  return equal && storedDigest !== undefined;
}
