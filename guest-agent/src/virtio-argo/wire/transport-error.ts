// SPDX-License-Identifier: Apache-2.0
/**
 * Why a virtio-argo transport operation failed, as an errno (virtio-argo.md §4.5: "the FE ...
 * times out after T, and on timeout sets FAILED"; §4.8: a MAC denial is -EACCES under Flask,
 * -EPERM under SILO). A probe that fails leaves the device FAILED with this errno on record,
 * so a denied device "fails its probe cleanly".
 */
import { GuestErrno, errnoName } from "@hmx/proto/abi";

/** The transport's errno values: the guest side's one table (Xen's plus EIO, EPROTO, ETIMEDOUT). */
export const TransportErrno = GuestErrno;
export { errnoName };

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
