// SPDX-License-Identifier: Apache-2.0
/**
 * Why a virtio-argo transport operation failed, as an errno (virtio-argo.md §4.5: "the FE ...
 * times out after T, and on timeout sets FAILED"; §4.8: a MAC denial is -EACCES under Flask,
 * -EPERM under SILO). A probe that fails leaves the device FAILED with this errno on record,
 * so a denied device "fails its probe cleanly".
 */
import { Errno } from "@hmx/proto/abi";

/** errno values the transport adds to Xen's (Linux x86 numbering). */
export const TransportErrno = {
  ...Errno,
  EIO: 5,
  EPROTO: 71,
  ETIMEDOUT: 110,
} as const;

const NAMES = new Map<number, string>(Object.entries(TransportErrno).map(([k, v]) => [v, k]));

/** The errno's name, e.g. "EACCES", or "ERRNO_<n>". */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `ERRNO_${errno}`;
}

/** A transport operation or probe that failed; `errno` is positive. */
export class VirtioTransportError extends Error {
  override readonly name = "VirtioTransportError";
  constructor(
    readonly errno: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${message} (${errnoName(errno)})`, options);
  }

  get code(): string {
    return errnoName(this.errno);
  }
}
