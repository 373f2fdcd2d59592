// SPDX-License-Identifier: Apache-2.0
/**
 * Argument and result shapes of the four Argo operations, in the hypervisor's own types (the
 * gRPC adapter converts from the wire). They mirror argo.h's structs minus the `pad` fields;
 * 32-bit fields are plain numbers that the wire may have filled with any u32, so every op
 * range-checks them itself (a domain id above 0xFFFF is -EINVAL, as a non-zero pad would be).
 * 64-bit guest addresses are numbers: the adapter maps any value above
 * Number.MAX_SAFE_INTEGER to Infinity, which every bounds check rejects.
 */
import type { ArgoAddr, Iov, NotifyEntry, NotifyResultEntry } from "@hmx/proto/abi";
import type { Domain } from "../domain/domain.js";

// The shapes both sides of the ABI share are declared once, in @hmx/proto.
export type { ArgoAddr, Iov, NotifyEntry, NotifyResultEntry };

/** `XEN_ARGO_OP_register_ring`: `xen_argo_register_ring` plus the gfn array and flags. */
export interface RegisterRingArgs {
  readonly aport: number;
  readonly partnerId: number;
  readonly len: number;
  readonly gfns: readonly number[];
  readonly flags: number;
}

/** `XEN_ARGO_OP_unregister_ring`: `xen_argo_unregister_ring`. */
export interface UnregisterRingArgs {
  readonly aport: number;
  readonly partnerId: number;
}

/** `XEN_ARGO_OP_sendv`: send address, iov array and message type. */
export interface SendvArgs {
  readonly src: ArgoAddr;
  readonly dst: ArgoAddr;
  readonly iovs: readonly Iov[];
  readonly messageType: number;
}

/** What `XEN_ARGO_OP_notify` returns: `ret` plus the entries written back before any error. */
export interface NotifyResult {
  readonly ret: number;
  readonly entries: readonly NotifyResultEntry[];
}

/** Boot options (`argo=<bool>,mac-permissive=<bool>`, argo-spec §5.7). */
export interface ArgoOptions {
  /** `--argo`: off makes every Argo op -EOPNOTSUPP. */
  readonly enabled: boolean;
  /** `--argo-mac-permissive`: off makes wildcard ring registration -EPERM. */
  readonly macPermissive: boolean;
}

/** Receives VIRQ_ARGO raises; the event channel coalesces them per domain. */
export interface VirqSink {
  raiseVirq(domid: number): void;
}

/**
 * Argo-level faults (faults/argo-faults.ts) as the hypercalls see them: only what a real Xen
 * Argo system can show a sender. Consulted only while `active`, so an idle fault engine costs
 * one property read per sendv and per notify entry.
 */
export interface SendFaults {
  readonly active: boolean;
  /**
   * What a sendv from `sender` to `dst` meets: 0 (nothing), -EAGAIN (the ring shows full) or
   * -ECONNREFUSED (the ring shows missing).
   */
  sendv(sender: Domain, dst: Domain): number;
  /** The same for a notify query of `dst`'s ring: only a lasting state (a partition) shows. */
  query(sender: Domain, dst: Domain): number;
}
