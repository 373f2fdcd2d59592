// SPDX-License-Identifier: Apache-2.0
/**
 * Test harness for the Argo core: N domains on a real `createHypervisorCore`, a fake VirqSink
 * that records every raise, and guest-side helpers that do what a guest driver does through
 * its own memory: allocate pages from gfn 16 up, write payloads, register rings, and read
 * rings the way the Linux driver's `_argo_copy_out` does (argo-spec §4.6). Test code only.
 */
import {
  ARGO_MSG_HEADER_SIZE,
  ARGO_RING_HEADER_SIZE,
  FIRST_GUEST_GFN,
  PAGE_SIZE,
  RING_RX_PTR_OFFSET,
  RING_TX_PTR_OFFSET,
  npagesRing,
} from "@hmx/proto/abi";

import type { Argo } from "../argo/argo.js";
import type { ArgoMac } from "../argo/mac.js";
import type { Iov, VirqSink } from "../argo/types.js";
import { createHypervisorCore } from "../core.js";
import type { HypervisorCore } from "../core.js";
import type { Domain } from "../domain/domain.js";

/** A VirqSink that records each raise, in order. */
export class FakeVirqSink implements VirqSink {
  readonly raised: number[] = [];
  raiseVirq(domid: number): void {
    this.raised.push(domid);
  }
  /** Raises seen for `domid`. */
  count(domid: number): number {
    return this.raised.filter((d) => d === domid).length;
  }
  clear(): void {
    this.raised.length = 0;
  }
}

export interface HarnessOptions {
  /** Domains to create (named vm1, vm2, ...). Default 2. */
  readonly domains?: number;
  readonly enabled?: boolean;
  readonly macPermissive?: boolean;
  readonly mac?: ArgoMac;
  /** Memory per domain. Default 4 MiB. */
  readonly memoryBytes?: number;
  /** Total quota. Default 1 GiB. */
  readonly maxTotalMemoryBytes?: number;
  /** Largest domain. Default 64 MiB. */
  readonly maxDomainMemoryBytes?: number;
}

export interface Harness {
  readonly core: HypervisorCore;
  readonly argo: Argo;
  readonly virq: FakeVirqSink;
  /** The created domains, in creation order (domids 1..N). */
  readonly doms: Domain[];
}

export function createHarness(options: HarnessOptions = {}): Harness {
  const virq = new FakeVirqSink();
  const core = createHypervisorCore({
    argo: { enabled: options.enabled ?? true, macPermissive: options.macPermissive ?? false },
    maxTotalMemoryBytes: options.maxTotalMemoryBytes ?? 1024 * 1024 * 1024,
    maxDomainMemoryBytes: options.maxDomainMemoryBytes ?? 64 * 1024 * 1024,
    virq,
    ...(options.mac === undefined ? {} : { mac: options.mac }),
  });
  const doms: Domain[] = [];
  for (let i = 1; i <= (options.domains ?? 2); i++) {
    doms.push(
      core.domains.create({
        name: `vm${i}`,
        label: `system_u:system_r:domU_t`,
        memoryBytes: options.memoryBytes ?? 4 * 1024 * 1024,
      }).domain,
    );
  }
  return { core, argo: core.argo, virq, doms };
}

/** Returns element `i` or throws (keeps tests free of non-null assertions). */
export function at<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new Error(`no element ${i}`);
  return item;
}

const nextGfn = new WeakMap<Domain, number>();

/** Allocates `count` consecutive guest pages (gfn 16 upwards), like a guest allocator. */
export function allocGfns(d: Domain, count: number): number[] {
  const first = nextGfn.get(d) ?? FIRST_GUEST_GFN;
  if (first + count > d.memory.pageCount) throw new Error(`vm${d.domid} out of guest pages`);
  nextGfn.set(d, first + count);
  return Array.from({ length: count }, (_, i) => first + i);
}

/** Writes bytes into guest memory or throws. */
export function writeGuest(d: Domain, gpa: number, data: Uint8Array): void {
  const r = d.memory.write(gpa, data);
  if (r !== "ok") throw new Error(`guest write at ${gpa} failed: ${r}`);
}

/** Reads bytes from guest memory or throws. */
export function readGuest(d: Domain, gpa: number, length: number): Buffer {
  const r = d.memory.read(gpa, length);
  if (r === null) throw new Error(`guest read at ${gpa} failed`);
  return r;
}

/** Puts `data` in freshly allocated guest pages and returns the iov describing it. */
export function payloadIov(d: Domain, data: Uint8Array): Iov {
  const pages = Math.max(1, Math.ceil(data.byteLength / PAGE_SIZE));
  const gpa = at(allocGfns(d, pages), 0) * PAGE_SIZE;
  writeGuest(d, gpa, data);
  return { gpa, len: data.byteLength };
}

/** A ring as the guest that owns it knows it. */
export interface GuestRing {
  readonly owner: Domain;
  readonly aport: number;
  readonly partnerId: number;
  readonly len: number;
  readonly gfns: readonly number[];
}

export interface RegisterOptions {
  readonly aport: number;
  readonly partnerId: number;
  readonly len: number;
  readonly flags?: number;
  /** Values to put in the ring header before registering (default 0 / 0, as Linux does). */
  readonly rxPtr?: number;
  readonly txPtr?: number;
  /** Use these gfns instead of allocating. */
  readonly gfns?: readonly number[];
}

/** Allocates pages, writes the header's rx/tx, registers the ring; returns the ret and the ring. */
export function registerRing(
  h: Harness,
  d: Domain,
  o: RegisterOptions,
): { ret: number; ring: GuestRing } {
  const gfns = o.gfns ?? allocGfns(d, npagesRing(o.len));
  const ring: GuestRing = { owner: d, aport: o.aport, partnerId: o.partnerId, len: o.len, gfns };
  if (gfns.length > 0 && o.gfns === undefined) {
    setRxPtr(ring, o.rxPtr ?? 0);
    setGuestTxPtr(ring, o.txPtr ?? 0);
  }
  const ret = h.argo.registerRing(d, {
    aport: o.aport,
    partnerId: o.partnerId,
    len: o.len,
    gfns,
    flags: o.flags ?? 0,
  });
  return { ret, ring };
}

/** Guest address of ring header byte `offset` (page 0). */
function headerGpa(ring: GuestRing, offset: number): number {
  return at(ring.gfns, 0) * PAGE_SIZE + offset;
}

/** Guest address of logical ring byte `i` (0 <= i < len). */
export function ringByteGpa(ring: GuestRing, i: number): number {
  const abs = ARGO_RING_HEADER_SIZE + i;
  return at(ring.gfns, Math.floor(abs / PAGE_SIZE)) * PAGE_SIZE + (abs % PAGE_SIZE);
}

export function rxPtr(ring: GuestRing): number {
  return readGuest(ring.owner, headerGpa(ring, RING_RX_PTR_OFFSET), 4).readUInt32LE(0);
}

export function txPtr(ring: GuestRing): number {
  return readGuest(ring.owner, headerGpa(ring, RING_TX_PTR_OFFSET), 4).readUInt32LE(0);
}

function u32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value >>> 0, 0);
  return b;
}

export function setRxPtr(ring: GuestRing, value: number): void {
  writeGuest(ring.owner, headerGpa(ring, RING_RX_PTR_OFFSET), u32(value));
}

export function setGuestTxPtr(ring: GuestRing, value: number): void {
  writeGuest(ring.owner, headerGpa(ring, RING_TX_PTR_OFFSET), u32(value));
}

/** Reads `n` logical ring bytes starting at `offset`, wrapping at `len`. */
export function readRingBytes(ring: GuestRing, offset: number, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let k = 0; k < n; k++) {
    const b = readGuest(ring.owner, ringByteGpa(ring, (offset + k) % ring.len), 1);
    out[k] = b[0] ?? 0;
  }
  return out;
}

/** Writes logical ring bytes starting at `offset`, wrapping (to plant stale patterns). */
export function fillRing(ring: GuestRing, byte: number): void {
  for (let i = 0; i < ring.len; i++)
    writeGuest(ring.owner, ringByteGpa(ring, i), Uint8Array.of(byte));
}

/** A message as a guest reads it out of its ring. */
export interface ReadMessage {
  /** Header `len` (payload + 16). */
  readonly len: number;
  readonly sourceAport: number;
  readonly sourceDomid: number;
  readonly sourcePad: number;
  readonly messageType: number;
  readonly payload: Buffer;
  /** Ring offset the header was read at. */
  readonly offset: number;
}

/**
 * Reads one message the way the Linux driver does (argo-spec §4.6) and advances rx_ptr unless
 * `peek`. Returns undefined when the ring is empty; throws on a corrupt ring.
 */
export function readMessage(ring: GuestRing, peek = false): ReadMessage | undefined {
  const rx = rxPtr(ring);
  const tx = txPtr(ring);
  const available = (((tx - rx) % ring.len) + ring.len) % ring.len;
  if (available < ARGO_MSG_HEADER_SIZE) return undefined;
  const header = readRingBytes(ring, rx, ARGO_MSG_HEADER_SIZE);
  const len = header.readUInt32LE(0);
  if (available < len || len < ARGO_MSG_HEADER_SIZE)
    throw new Error(`corrupt ring: ${available} bytes, header len ${len}`);
  const payload = readRingBytes(
    ring,
    (rx + ARGO_MSG_HEADER_SIZE) % ring.len,
    len - ARGO_MSG_HEADER_SIZE,
  );
  if (!peek) setRxPtr(ring, (Math.ceil((rx + len) / 16) * 16) % ring.len);
  return {
    len,
    sourceAport: header.readUInt32LE(4),
    sourceDomid: header.readUInt16LE(8),
    sourcePad: header.readUInt16LE(10),
    messageType: header.readUInt32LE(12),
    payload,
    offset: rx,
  };
}

/** Reads every available message. */
export function drain(ring: GuestRing): ReadMessage[] {
  const out: ReadMessage[] = [];
  for (let m = readMessage(ring); m !== undefined; m = readMessage(ring)) out.push(m);
  return out;
}

/** Sends `data` (one iov) from `from` to `(dst, aport)`, with src `(DOMID_ANY, srcAport)`. */
export function send(
  h: Harness,
  from: Domain,
  to: { domainId: number; aport: number },
  data: Uint8Array,
  o: { srcAport?: number; messageType?: number } = {},
): number {
  const iov = payloadIov(from, data);
  return h.argo.sendv(from, {
    src: { aport: o.srcAport ?? 0, domainId: 0x7ff4 },
    dst: to,
    iovs: [iov],
    messageType: o.messageType ?? 0,
  });
}

/** `n` bytes with a recognisable pattern (seeded so messages differ). */
export function pattern(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return b;
}
