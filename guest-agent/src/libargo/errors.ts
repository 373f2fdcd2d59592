// SPDX-License-Identifier: Apache-2.0
/**
 * libargo's error type. A hypercall's negative `ret` (a Xen errno, argo-spec §3.6) becomes an
 * `ArgoSocketError` whose `code` is the errno name, the way the Linux driver hands `-errno` back
 * to `send(2)` / `bind(2)`; libargo's own conditions use the POSIX name a Linux socket would
 * give (EADDRINUSE for a taken port, ESHUTDOWN for a closed socket, EIO when the hypercall
 * transport itself failed).
 */
import { describeRet, errnoName, type GuestErrnoName } from "@hmx/proto/abi";
import type { ArgoAddr } from "../hypercall/hypercall-client.js";

/** Errno names libargo raises itself, beyond the hypervisor's (all in abi's `GuestErrno`). */
export type LocalErrorCode = Extract<
  GuestErrnoName,
  "EADDRINUSE" | "ESHUTDOWN" | "EIO" | "ENOMEM" | "EINVAL"
>;

/** `code` of an `ArgoSocketError`: an errno name, or `ERRNO_<n>` for an errno with no name here. */
export type ArgoErrorCode = GuestErrnoName | `ERRNO_${number}`;

/** The numbers involved in a failure, for logs and tests. */
export interface ArgoErrorInfo {
  /** The hypercall that failed (`sendv`, `registerRing`, ...), when one did. */
  readonly op?: string;
  /** Its negative `ret`. */
  readonly ret?: number;
  readonly dst?: ArgoAddr;
  readonly aport?: number;
  readonly partnerId?: number;
  /** Payload bytes of the message concerned. */
  readonly size?: number;
  readonly ringLen?: number;
}

/** A socket or ring operation failed; `code` names the errno, `info` carries the numbers. */
export class ArgoSocketError extends Error {
  override readonly name = "ArgoSocketError";
  constructor(
    readonly code: ArgoErrorCode,
    message: string,
    readonly info: ArgoErrorInfo = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The errno name of a negative hypercall `ret`. */
export function errnoCode(ret: number): ArgoErrorCode {
  return errnoName(-ret);
}

/** Builds the error for a hypercall that returned `ret < 0`: "sendv to vm3:0x7 failed: -EAGAIN (-11)". */
export function hypercallError(
  what: string,
  ret: number,
  info: Omit<ArgoErrorInfo, "ret">,
): ArgoSocketError {
  return new ArgoSocketError(errnoCode(ret), `${what} failed: ${describeRet(ret)}`, {
    ...info,
    ret,
  });
}

/** `vm3:0x1f` — an Argo address as logs and messages show it. */
export function addrString(addr: ArgoAddr): string {
  return `vm${addr.domainId}:0x${addr.aport.toString(16)}`;
}
