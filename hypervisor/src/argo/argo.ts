// SPDX-License-Identifier: Apache-2.0
/**
 * The four Argo hypercalls and domain init/teardown: the synchronous core of hmx, mirroring
 * xen/common/argo.c (`do_argo_op`, `register_ring`, `unregister_ring`, `sendv`, `notify`,
 * `fill_ring_data`, `notify_check_pending`, `argo_init`, `argo_destroy`). Validation order and
 * errno per case follow argo-spec §3; the upstream quirks flagged there are fixed as listed in
 * docs/argo-compat.md. The caller is always a `Domain` resolved from the authenticated
 * connection, never a request field.
 *
 * Concurrency: no method awaits, so each hypercall runs to completion on the event loop, which
 * stands in for all of Xen's L1/L2/L3 locks. VIRQs are raised only at the end of an operation,
 * after every ring and waiter is consistent (Xen signals after dropping its locks).
 */
import {
  ARGO_DOMID_ANY,
  ARGO_MAX_REGISTERABLE_RING_LEN,
  ARGO_MAX_RING_PAGES,
  ARGO_MAX_RING_SIZE,
  ARGO_MAXIOV,
  ARGO_MIN_RING_LEN,
  ARGO_MSG_SLOT_SIZE,
  ARGO_REGISTER_FLAG_FAIL_EXIST,
  ARGO_REGISTER_FLAG_MASK,
  ArgoRingFlag,
  Errno,
  MAX_ARGO_MESSAGE_SIZE,
  MAX_NOTIFY_COUNT,
  MAX_RINGS_PER_DOMAIN,
  RING_RX_PTR_OFFSET,
  maxMessageSize,
  npagesRing,
} from "@hmx/proto/abi";

import type { Domain } from "../domain/domain.js";
import type { DomainRegistry } from "../domain/domain-registry.js";
import { DomainArgoState } from "./domain-argo-state.js";
import { dummyMac } from "./mac.js";
import type { ArgoMac } from "./mac.js";
import { pendingCancel, pendingFind, pendingRemoveAll, pendingRequeue } from "./pending.js";
import { ringKey } from "./ring-id.js";
import { initTxPtr, payloadSpace, ringbufInsert } from "./ring-buffer.js";
import { RingInfo } from "./ring-info.js";
import type {
  ArgoOptions,
  NotifyEntry,
  NotifyResult,
  NotifyResultEntry,
  RegisterRingArgs,
  SendFaults,
  SendvArgs,
  UnregisterRingArgs,
  VirqSink,
} from "./types.js";

// ARGO_MAX_RING_SIZE is kept in the len check (as in argo.c) although NPAGES_RING caps the
// registrable length at ARGO_MAX_REGISTERABLE_RING_LEN; this asserts the two agree.
if (npagesRing(ARGO_MAX_REGISTERABLE_RING_LEN) !== ARGO_MAX_RING_PAGES) {
  throw new Error(
    "ABI constants inconsistent: the largest registrable ring must fill MAX_RING_SIZE >> 12 pages",
  );
}

/** A u32 as the wire delivers it: an integer in [0, 2^32). */
function isU32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

/** A domain id field: a u16 with its u16 pad zero, i.e. an integer in [0, 0xFFFF]. */
function isDomidField(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffff;
}

/** The notify write-back for an entry whose domain or ring does not exist (hmx: size 0). */
const NO_RING: NotifyResultEntry = Object.freeze({ flags: 0, maxMessageSize: 0 });
const NO_ENTRIES: readonly NotifyResultEntry[] = Object.freeze([]);
/** notify's result when `ringData` is null and nothing failed. */
const NOTIFY_OK: NotifyResult = Object.freeze({ ret: 0, entries: NO_ENTRIES });

/** A ring as the toolstack and observability see it. */
export interface RingSnapshot {
  readonly domainId: number;
  readonly aport: number;
  readonly partnerId: number;
  readonly len: number;
  readonly txPtr: number;
  /** The guest's rx_ptr as stored (unsanitised). */
  readonly rxPtr: number;
  /** Domids with a pending space waiter, and the payload length each waits for. */
  readonly waiters: readonly { readonly domid: number; readonly len: number }[];
}

/** The Argo hypercall engine of one hypervisor. */
export class Argo {
  readonly #domains: DomainRegistry;
  readonly #options: ArgoOptions;
  readonly #virq: VirqSink;
  readonly #mac: ArgoMac;
  #faults: SendFaults | undefined;

  /**
   * @param domains where domids resolve to domains (Xen `rcu_lock_domain_by_id`).
   * @param options boot options: `argo=` and `mac-permissive=`.
   * @param virq receives VIRQ_ARGO raises.
   * @param mac the XSM hooks; defaults to Xen's dummy module (allow everything).
   */
  constructor(
    domains: DomainRegistry,
    options: ArgoOptions,
    virq: VirqSink,
    mac: ArgoMac = dummyMac,
  ) {
    this.#domains = domains;
    this.#options = { enabled: options.enabled, macPermissive: options.macPermissive };
    this.#virq = virq;
    this.#mac = mac;
  }

  /** Attaches the Argo-level fault engine (faults/argo-faults.ts); none by default. */
  attachFaults(faults: SendFaults): void {
    this.#faults = faults;
  }

  /** The boot options in force. */
  get options(): ArgoOptions {
    return this.#options;
  }

  /**
   * `XEN_ARGO_OP_register_ring`. Order (argo-spec §3.1–§3.2): flags fit 32 bits (-EINVAL) →
   * Argo enabled (-EOPNOTSUPP) → xsm enable → npage <= 4096 (-EINVAL) → undefined flag bits
   * (-EINVAL) → len (min, max, 16-aligned, NPAGES_RING(len) == npage), aport/partner fields
   * (-EINVAL) → wildcard: mac-permissive (-EPERM) then xsm register_any_source; unicast: partner
   * exists (-ESRCH) then xsm register_single_source → caller has Argo state (-ENODEV) → partner
   * has Argo state (-ECONNREFUSED) → a NEW ring beyond 128 (-ENOSPC) → existing ring with
   * FAIL_EXIST or another len (-EEXIST) → gfns in the caller's memory and not reserved
   * (-EINVAL) → pages materialised (never -ENOMEM: the domain's memory was reserved whole at
   * creation) → tx_ptr initialised → 0. A re-registration that fails leaves the existing ring
   * untouched.
   */
  registerRing(caller: Domain, args: RegisterRingArgs): number {
    const { aport, partnerId, len, gfns, flags } = args;
    if (!isU32(flags)) return -Errno.EINVAL;
    const entry = this.#enter(caller);
    if (entry !== 0) return entry;

    if (gfns.length > ARGO_MAX_RING_PAGES) return -Errno.EINVAL;
    // flags is a u32 here; `&` works on its int32 image, which keeps every bit.
    if ((flags & ~ARGO_REGISTER_FLAG_MASK) !== 0) return -Errno.EINVAL;
    if (
      !Number.isInteger(len) ||
      len < ARGO_MIN_RING_LEN ||
      len > ARGO_MAX_RING_SIZE ||
      len % ARGO_MSG_SLOT_SIZE !== 0 ||
      npagesRing(len) !== gfns.length ||
      !isU32(aport) ||
      !isDomidField(partnerId)
    ) {
      return -Errno.EINVAL;
    }

    let partner: Domain | undefined;
    if (partnerId === ARGO_DOMID_ANY) {
      if (!this.#options.macPermissive) return -Errno.EPERM;
      const rc = this.#mac.registerAnySource(caller);
      if (rc !== 0) return rc;
    } else {
      partner = this.#domains.get(partnerId);
      if (partner === undefined) return -Errno.ESRCH;
      const rc = this.#mac.registerSingleSource(caller, partner);
      if (rc !== 0) return rc;
    }

    const state = caller.argo;
    if (state === null) return -Errno.ENODEV;
    let partnerState: DomainArgoState | null = null;
    if (partner !== undefined) {
      partnerState = partner.argo;
      if (partnerState === null) return -Errno.ECONNREFUSED;
    }

    const key = ringKey(aport, partnerId);
    const existing = state.rings.get(key);
    if (existing === undefined) {
      // hmx: the cap applies to new rings only (Xen also refuses re-registration at 128).
      if (state.rings.size >= MAX_RINGS_PER_DOMAIN) return -Errno.ENOSPC;
    } else {
      if ((flags & ARGO_REGISTER_FLAG_FAIL_EXIST) !== 0) return -Errno.EEXIST;
      // Resizing would strand waiters sized for the old ring.
      if (existing.len !== len) return -Errno.EEXIST;
    }

    const pages = caller.memory.pinPages(gfns);
    if (pages === "einval") return -Errno.EINVAL;

    const txPtr = initTxPtr(pages, len);
    if (existing !== undefined) {
      // Re-registration (resume): swap the pages, keep the waiters; counted once (hmx fix).
      existing.pages = pages;
      existing.txPtr = txPtr;
      return 0;
    }
    const ring = new RingInfo(caller, aport, partnerId, partnerState, len, pages, txPtr);
    state.rings.set(key, ring);
    partnerState?.partnerRings.add(ring);
    return 0;
  }

  /**
   * `XEN_ARGO_OP_unregister_ring`. Order: Argo enabled (-EOPNOTSUPP) → xsm enable →
   * aport/partner fields (-EINVAL) → caller has Argo state (-ENODEV) → exact ring
   * `(caller, aport, partnerId)` exists (-ENOENT) → removed with its waiters, silently → 0.
   */
  unregisterRing(caller: Domain, args: UnregisterRingArgs): number {
    const entry = this.#enter(caller);
    if (entry !== 0) return entry;
    const { aport, partnerId } = args;
    if (!isU32(aport) || !isDomidField(partnerId)) return -Errno.EINVAL;
    const state = caller.argo;
    if (state === null) return -Errno.ENODEV;
    const ring = state.rings.get(ringKey(aport, partnerId));
    if (ring === undefined) return -Errno.ENOENT;
    this.#removeRing(state, ring);
    return 0;
  }

  /**
   * `XEN_ARGO_OP_sendv`: returns the payload bytes sent or a negative errno. Order: message
   * type fits 32 bits (-EINVAL) → Argo enabled (-EOPNOTSUPP) → xsm enable → niov <= 8
   * (-EINVAL) → address fields (-EINVAL) → src domid is 0x7FF4 or the caller (-EPERM) → dst
   * domain exists (-ESRCH) → xsm send → firewall (OpenXT viptables; -EPERM on REJECT) →
   * sender has Argo state (-ENODEV) → dst has Argo state
   * (-ECONNREFUSED) → ring exact-then-wildcard (-ECONNREFUSED) → iov lengths (-EINVAL; total
   * -EMSGSIZE) → ringbuf_insert (-EMSGSIZE, -EAGAIN, -EFAULT) → on -EAGAIN a waiter
   * (-EBUSY at the cap) → on success counters, then VIRQ_ARGO on the destination.
   */
  sendv(caller: Domain, args: SendvArgs): number {
    const { src, dst, iovs, messageType } = args;
    if (!isU32(messageType)) return -Errno.EINVAL;
    const entry = this.#enter(caller);
    if (entry !== 0) return entry;
    if (iovs.length > ARGO_MAXIOV) return -Errno.EINVAL;
    if (
      !isU32(src.aport) ||
      !isU32(dst.aport) ||
      !isDomidField(src.domainId) ||
      !isDomidField(dst.domainId)
    ) {
      return -Errno.EINVAL;
    }
    // Only the source domid is authenticated; src.aport is copied verbatim, as in Xen.
    if (src.domainId !== ARGO_DOMID_ANY && src.domainId !== caller.domid) return -Errno.EPERM;
    // DOMID_ANY never names a domain, so a dst of 0x7FF4 lands here too.
    const dstDomain = this.#domains.get(dst.domainId);
    if (dstDomain === undefined) return -Errno.ESRCH;
    const macRc = this.#mac.send(caller, dstDomain);
    if (macRc !== 0) return macRc;
    // OpenXT viptables: after XSM, on the address as given (src.aport is unauthenticated).
    const fwRc = this.#mac.firewall(caller, src.aport, dstDomain, dst.aport);
    if (fwRc !== 0) return fwRc;
    const senderState = caller.argo;
    if (senderState === null) return -Errno.ENODEV;
    const dstState = dstDomain.argo;
    if (dstState === null) return -Errno.ECONNREFUSED;
    const ring = findRingInfoByMatch(dstState, dst.aport, caller.domid);
    if (ring === undefined) return -Errno.ECONNREFUSED;
    // A fault shows the ring missing here, or full where ringbuf_insert would find it full.
    const fault = this.#faults?.active === true ? this.#faults.sendv(caller, dstDomain) : 0;
    if (fault === -Errno.ECONNREFUSED) return fault;

    // iov_count: each length is checked before it is added, so the running total stays below
    // 2 * MAX_ARGO_MESSAGE_SIZE < 2^26 and cannot lose precision.
    let total = 0;
    for (const iov of iovs) {
      if (!Number.isInteger(iov.len) || iov.len < 0 || iov.len > MAX_ARGO_MESSAGE_SIZE)
        return -Errno.EINVAL;
      total += iov.len;
      if (total > MAX_ARGO_MESSAGE_SIZE) return -Errno.EMSGSIZE;
    }

    // A message that can never fit stays -EMSGSIZE under a fault, as ringbuf_insert checks it first.
    const ret =
      fault === -Errno.EAGAIN && total <= maxMessageSize(ring.len)
        ? fault
        : ringbufInsert(ring, caller.memory, src.aport, caller.domid, iovs, total, messageType);
    if (ret === -Errno.EAGAIN) {
      return pendingRequeue(ring, caller.domid, total, senderState) ? -Errno.EAGAIN : -Errno.EBUSY;
    }
    if (ret < 0) return ret;
    caller.counters.messagesSent++;
    caller.counters.bytesSent += ret;
    dstDomain.counters.messagesReceived++;
    dstDomain.counters.bytesReceived += ret;
    this.#signal(dstDomain);
    return ret;
  }

  /**
   * `XEN_ARGO_OP_notify`. Order: Argo enabled (-EOPNOTSUPP) → xsm enable → caller has Argo
   * state (-ENODEV) → fire every waiter on the caller's own rings that now has its space
   * (always, even with `ringData` null) → null: 0 → more than 256 entries (-EACCES) → each
   * entry in order (`fill_ring_data`); an xsm send denial stops there and is the call's
   * result, with the entries written before it. VIRQs for fired waiters are raised last.
   */
  notify(caller: Domain, ringData: readonly NotifyEntry[] | null): NotifyResult {
    const entry = this.#enter(caller);
    if (entry !== 0) return { ret: entry, entries: NO_ENTRIES };
    const state = caller.argo;
    if (state === null) return { ret: -Errno.ENODEV, entries: NO_ENTRIES };

    // notify(NULL) follows every guest read, so the common case allocates nothing.
    const fired = notifyCheckPending(state);
    let result: NotifyResult = NOTIFY_OK;
    if (ringData !== null) {
      if (ringData.length > MAX_NOTIFY_COUNT) {
        result = { ret: -Errno.EACCES, entries: NO_ENTRIES };
      } else {
        const entries: NotifyResultEntry[] = [];
        let ret = 0;
        for (const ent of ringData) {
          const filled = this.#fillRingData(caller, state, ent);
          if (typeof filled === "number") {
            ret = filled;
            break;
          }
          entries.push(filled);
        }
        result = { ret, entries };
      }
    }
    this.#signalFired(fired);
    return result;
  }

  /**
   * Fires the waiters on `d`'s rings whose space is there, exactly as `d`'s next notify would.
   * The fault engine calls it when a fault that showed a ring full ends (or its moment passes),
   * so a sender parked on -EAGAIN gets the VIRQ a draining receiver would have sent.
   */
  wakeWaiters(d: Domain): void {
    if (d.argo !== null) this.#signalFired(notifyCheckPending(d.argo));
  }

  #signalFired(fired: readonly number[] | undefined): void {
    if (fired === undefined) return;
    for (const domid of fired) {
      const waiter = this.#domains.get(domid);
      if (waiter !== undefined) this.#signal(waiter);
    }
  }

  /**
   * `argo_init`: gives the domain Argo state iff Argo is enabled and xsm enable allows it.
   * Does nothing if the domain already has state.
   */
  initDomain(d: Domain): void {
    if (d.argo !== null) return;
    if (this.#options.enabled && this.#mac.enable(d) === 0) d.argo = new DomainArgoState();
  }

  /**
   * `argo_destroy` (argo-spec §5.5), idempotent: removes the domain's own rings with their
   * waiters, every other domain's unicast ring whose partner it is (their owners' counts drop;
   * nobody is signalled, as in Xen), and its own waiters on other domains' wildcard rings;
   * then drops its Argo state.
   */
  destroyDomain(d: Domain): void {
    const state = d.argo;
    if (state === null) return;
    for (const ring of [...state.rings.values()]) this.#removeRing(state, ring);
    for (const ring of [...state.partnerRings]) {
      const ownerState = ring.owner.argo;
      if (ownerState !== null) this.#removeRing(ownerState, ring);
    }
    for (const ring of state.wildcardPending) ring.pending.delete(d.domid);
    state.wildcardPending.clear();
    d.argo = null;
  }

  /** Rings the domain owns (Xen `ring_count`, counted once per ring). */
  ringCount(d: Domain): number {
    return d.argo?.ringCount ?? 0;
  }

  /** The domain's rings, for the toolstack and observability; not a hypercall. */
  listRings(d: Domain): RingSnapshot[] {
    if (d.argo === null) return [];
    return [...d.argo.rings.values()].map((ring) => ({
      domainId: d.domid,
      aport: ring.aport,
      partnerId: ring.partnerId,
      len: ring.len,
      txPtr: ring.txPtr,
      rxPtr: ring.pages[0]?.readUInt32LE(RING_RX_PTR_OFFSET) ?? 0,
      waiters: [...ring.pending.values()].map((ent) => ({ domid: ent.domid, len: ent.len })),
    }));
  }

  /** `do_argo_op`'s prologue: -EOPNOTSUPP when Argo is off, then xsm_argo_enable(caller). */
  #enter(caller: Domain): number {
    if (!this.#options.enabled) return -Errno.EOPNOTSUPP;
    return this.#mac.enable(caller);
  }

  /**
   * `fill_ring_data`: one notify entry. Returns the entry to write back, or a negative errno
   * that stops the whole notify (xsm send denial; a malformed number that the wire cannot carry).
   */
  #fillRingData(
    caller: Domain,
    callerState: DomainArgoState,
    ent: NotifyEntry,
  ): NotifyResultEntry | number {
    const { ring: addr, spaceRequired } = ent;
    if (!isU32(spaceRequired) || !isU32(addr.aport)) return -Errno.EINVAL;
    // Xen ignores the pad of a notify entry's address: an id that is not a u16 names no domain.
    const target = isDomidField(addr.domainId) ? this.#domains.get(addr.domainId) : undefined;
    const targetState = target?.argo ?? null;
    if (target === undefined || targetState === null) return NO_RING;
    // Don't describe rings the caller may not send to.
    const rc = this.#mac.send(caller, target);
    if (rc !== 0) return rc;
    const ring = findRingInfoByMatch(targetState, addr.aport, caller.domid);
    if (ring === undefined) return NO_RING;
    // A partition shows the ring missing, or full (no space: the query queues a waiter).
    const fault = this.#faults?.active === true ? this.#faults.query(caller, target) : 0;
    if (fault === -Errno.ECONNREFUSED) return NO_RING;

    let flags: number = ArgoRingFlag.EXISTS;
    if (ring.isWildcard) flags |= ArgoRingFlag.SHARED;
    const maxSize = maxMessageSize(ring.len);
    const space = fault === -Errno.EAGAIN ? 0 : payloadSpace(ring);
    if (spaceRequired > maxSize) {
      flags |= ArgoRingFlag.EMSGSIZE;
    } else if (space >= spaceRequired) {
      pendingCancel(ring, caller.domid);
      flags |= ArgoRingFlag.SUFFICIENT;
    } else if (!pendingRequeue(ring, caller.domid, spaceRequired, callerState)) {
      // Too many other domains already wait on this ring: a flag, not an error.
      flags |= ArgoRingFlag.EBUSY;
    }
    if (space === maxSize) flags |= ArgoRingFlag.EMPTY;
    return { flags, maxMessageSize: maxSize };
  }

  /**
   * Removes a ring from its owner (unregister and teardown): waiters dropped silently, the
   * partner's send_info link dropped, the count decremented once, the pages released from the
   * ring (they stay in guest memory, which owns them).
   */
  #removeRing(ownerState: DomainArgoState, ring: RingInfo): void {
    ownerState.rings.delete(ring.key);
    pendingRemoveAll(ring);
    ring.partnerState?.partnerRings.delete(ring);
    ring.len = 0;
    ring.pages = [];
  }

  /** `signal_domain`: raises VIRQ_ARGO on a domain. */
  #signal(d: Domain): void {
    d.counters.virqs++;
    this.#virq.raiseVirq(d.domid);
  }
}

/**
 * `find_ring_info_by_match`: the ring `(owner, aport, partner = sender)` if there is one, else
 * the wildcard ring `(owner, aport, DOMID_ANY)`.
 */
export function findRingInfoByMatch(
  ownerState: DomainArgoState,
  aport: number,
  senderDomid: number,
): RingInfo | undefined {
  return (
    ownerState.rings.get(ringKey(aport, senderDomid)) ??
    ownerState.rings.get(ringKey(aport, ARGO_DOMID_ANY))
  );
}

/**
 * `notify_check_pending`: for every ring the caller owns, removes the waiters whose space is
 * now available; returns their domids, or undefined (no allocation) when none fired.
 */
function notifyCheckPending(state: DomainArgoState): number[] | undefined {
  let fired: number[] | undefined;
  for (const ring of state.rings.values()) {
    if (ring.pending.size === 0) continue;
    fired ??= [];
    pendingFind(ring, payloadSpace(ring), fired);
  }
  return fired !== undefined && fired.length > 0 ? fired : undefined;
}
