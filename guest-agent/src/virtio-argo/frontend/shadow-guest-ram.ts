// SPDX-License-Identifier: Apache-2.0
/**
 * `ShadowGuestRam`: the hypercall-backed `GuestRam` — a local shadow of some of the guest's
 * 4 KiB pages, with per-page dirty tracking, reconciled with the hypervisor's authoritative copy
 * by `flush()` (batched `WriteMemory`) and `load()` (batched `ReadMemory`). The design and the
 * reasons for it are in `guest-ram.ts`; this file is the mechanism.
 *
 * - A page is *resident* once `load` fetched it or `adoptZeroed` claimed it; touching a
 *   non-resident page throws `notResident` (a programming error: the owner of a region loads or
 *   adopts it before handing it to virtio code).
 * - Dirty state is a short list of byte spans per page (`ByteSpans`), so `flush` writes only
 *   what changed; spans that meet across a page boundary are merged into one `WriteMemory`, and all of a flush's
 *   writes go into one `batch` (one Session frame, executed in order).
 * - `flush` snapshots and clears the dirty spans before it awaits, so writes made while it is in
 *   flight stay dirty for the next flush; if a write fails, its spans are marked dirty again.
 * - Bytes the *device* wrote (a completed read's data, applied by ring-sync.ts) are kept apart
 *   as a page's *unsynced* spans, not dirty: the hypervisor's copy of them matters only if a
 *   sendv reads it, i.e. if the driver later hands the same buffer to the device to read
 *   (`exposeToDevice`, which makes them dirty). Writing every completed read back to the
 *   hypervisor on the next kick cost a 1 MiB read about 4.5 copies per byte for nothing.
 */
import { MAX_MEMORY_ACCESS, PAGE_SIZE } from "@hmx/proto/abi";
import type {
  HypercallClient,
  HypercallOp,
  HypercallOutcome,
} from "../../hypercall/hypercall-client.js";
import {
  GuestRamBase,
  GuestRamError,
  type GuestRam,
  GuestRamErrorKind,
  type MemoryWriteOp,
  type PendingWrites,
} from "@hmx/virtio";
import { ByteSpans } from "./byte-spans.js";

interface ShadowPage {
  readonly data: Uint8Array;
  /** Over `data`: the typed accessors read and write fields in place (no copy per access). */
  readonly view: DataView;
  /** Bytes changed here and not yet written to the hypervisor. */
  readonly dirty: ByteSpans;
  /** Bytes the device wrote (a completion's data) that the hypervisor has not got. */
  readonly unsynced: ByteSpans;
}

/** Counters a caller can report (how much reconciling the shadow costs). */
export interface ShadowGuestRamStats {
  flushes: number;
  flushedBytes: number;
  writeMemoryCalls: number;
  loads: number;
  loadedBytes: number;
}

/** A run of dirty bytes to write back. */
interface DirtyRun {
  gpa: number;
  bytes: Uint8Array;
}

/** The guest's memory as a shadow of its pages, reconciled through a `HypercallClient`. */
export class ShadowGuestRam extends GuestRamBase {
  readonly size: number;
  readonly stats: ShadowGuestRamStats = {
    flushes: 0,
    flushedBytes: 0,
    writeMemoryCalls: 0,
    loads: 0,
    loadedBytes: 0,
  };
  readonly #client: Pick<HypercallClient, "batch">;
  readonly #pages = new Map<number, ShadowPage>();
  /**
   * The pfns whose span may be dirty, so a flush looks at (and sorts) only those, not every
   * resident page: a front end holds thousands of resident pages and dirties a few per kick.
   */
  readonly #dirty = new Set<number>();
  /** The pfns whose unsynced span may be non-empty. */
  readonly #unsynced = new Set<number>();

  /** `size` is the guest's memory size (`GetDomainInfo.memory_bytes`). */
  constructor(client: Pick<HypercallClient, "batch">, size: number) {
    super();
    this.#client = client;
    this.size = size;
  }

  /** True when every page of the range is resident. */
  isResident(gpa: number, len: number): boolean {
    if (!this.contains(gpa, len)) return false;
    for (let pfn = Math.floor(gpa / PAGE_SIZE); pfn * PAGE_SIZE < gpa + len; pfn++) {
      if (!this.#pages.has(pfn)) return false;
    }
    return true;
  }

  /** Bytes waiting for the next flush. */
  get dirtyBytes(): number {
    let n = 0;
    for (const p of this.#pages.values()) n += p.dirty.size;
    return n;
  }

  #page(pfn: number): ShadowPage {
    const page = this.#pages.get(pfn);
    if (page === undefined) {
      throw new GuestRamError(
        GuestRamErrorKind.notResident,
        `guest page ${pfn} is not in the shadow: load or adopt it first`,
      );
    }
    return page;
  }

  read(gpa: number, len: number): Uint8Array {
    this.check(gpa, len);
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const at = gpa + done;
      const off = at % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, len - done);
      out.set(this.#page(Math.floor(at / PAGE_SIZE)).data.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  write(gpa: number, bytes: Uint8Array): void {
    this.#write(gpa, bytes, false);
  }

  /**
   * Writes bytes the device produced (a completion's data): into the shadow, marked unsynced
   * rather than dirty, so no flush carries them until `exposeToDevice` asks for them.
   */
  writeFromDevice(gpa: number, bytes: Uint8Array): void {
    this.#write(gpa, bytes, true);
  }

  /**
   * The driver hands `[gpa, gpa + len)` to the device to read (a sendv will copy it from the
   * hypervisor): device-written bytes there become dirty, so the prelude of the multicall that
   * carries the sendv writes them first. Only the exposed part moves: the rest of the page's
   * device-written bytes (another buffer on the same page) stays unsynced.
   */
  exposeToDevice(gpa: number, len: number): void {
    if (this.#unsynced.size === 0 || len <= 0) return;
    for (let pfn = pfnOf(gpa); pfn * PAGE_SIZE < gpa + len; pfn++) {
      const page = this.#pages.get(pfn);
      if (page === undefined || page.unsynced.isEmpty) continue;
      const base = pfn * PAGE_SIZE;
      const lo = Math.max(gpa, base) - base;
      const hi = Math.min(gpa + len, base + PAGE_SIZE) - base;
      for (const [a, b] of page.unsynced.take(lo, hi)) this.#markDirty(pfn, page, a, b);
      if (page.unsynced.size === 0) this.#unsynced.delete(pfn);
    }
  }

  /** Device-written bytes the hypervisor has not got (none of them needed there yet). */
  get unsyncedBytes(): number {
    let n = 0;
    for (const pfn of this.#unsynced) {
      const p = this.#pages.get(pfn);
      if (p !== undefined) n += p.unsynced.size;
    }
    return n;
  }

  #write(gpa: number, bytes: Uint8Array, fromDevice: boolean): void {
    this.check(gpa, bytes.length);
    // Check residency of every page first, so a failing write changes nothing.
    for (let at = gpa; at < gpa + bytes.length; at += PAGE_SIZE - (at % PAGE_SIZE)) {
      this.#page(Math.floor(at / PAGE_SIZE));
    }
    let done = 0;
    while (done < bytes.length) {
      const at = gpa + done;
      const off = at % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, bytes.length - done);
      const page = this.#page(Math.floor(at / PAGE_SIZE));
      page.data.set(bytes.subarray(done, done + n), off);
      if (fromDevice) this.#markUnsynced(pfnOf(at), page, off, off + n);
      else this.#markDirty(pfnOf(at), page, off, off + n);
      done += n;
    }
  }

  // Typed accessors. The virtio code reads and writes ring fields one u16 at a time, dozens per
  // request: a field inside one page is read or written in place through the page's DataView,
  // with no copy and no allocation; one that straddles two pages takes the generic path.

  /** The page holding `[gpa, gpa + len)` if it is one page; undefined when it straddles two. */
  #within(gpa: number, len: number): ShadowPage | undefined {
    this.check(gpa, len);
    return (gpa % PAGE_SIZE) + len <= PAGE_SIZE ? this.#page(pfnOf(gpa)) : undefined;
  }

  override readU8(gpa: number): number {
    const p = this.#within(gpa, 1);
    return p === undefined ? super.readU8(gpa) : p.view.getUint8(gpa % PAGE_SIZE);
  }
  override readU16(gpa: number): number {
    const p = this.#within(gpa, 2);
    return p === undefined ? super.readU16(gpa) : p.view.getUint16(gpa % PAGE_SIZE, true);
  }
  override readU32(gpa: number): number {
    const p = this.#within(gpa, 4);
    return p === undefined ? super.readU32(gpa) : p.view.getUint32(gpa % PAGE_SIZE, true);
  }
  override readU64(gpa: number): bigint {
    const p = this.#within(gpa, 8);
    return p === undefined ? super.readU64(gpa) : p.view.getBigUint64(gpa % PAGE_SIZE, true);
  }
  override writeU8(gpa: number, value: number): void {
    const p = this.#within(gpa, 1);
    if (p === undefined) {
      super.writeU8(gpa, value);
      return;
    }
    p.view.setUint8(gpa % PAGE_SIZE, value);
    this.#markDirty(pfnOf(gpa), p, gpa % PAGE_SIZE, (gpa % PAGE_SIZE) + 1);
  }
  override writeU16(gpa: number, value: number): void {
    const p = this.#within(gpa, 2);
    if (p === undefined) {
      super.writeU16(gpa, value);
      return;
    }
    p.view.setUint16(gpa % PAGE_SIZE, value, true);
    this.#markDirty(pfnOf(gpa), p, gpa % PAGE_SIZE, (gpa % PAGE_SIZE) + 2);
  }
  override writeU32(gpa: number, value: number): void {
    const p = this.#within(gpa, 4);
    if (p === undefined) {
      super.writeU32(gpa, value);
      return;
    }
    p.view.setUint32(gpa % PAGE_SIZE, value, true);
    this.#markDirty(pfnOf(gpa), p, gpa % PAGE_SIZE, (gpa % PAGE_SIZE) + 4);
  }
  override writeU64(gpa: number, value: bigint): void {
    const p = this.#within(gpa, 8);
    if (p === undefined) {
      super.writeU64(gpa, value);
      return;
    }
    p.view.setBigUint64(gpa % PAGE_SIZE, value, true);
    this.#markDirty(pfnOf(gpa), p, gpa % PAGE_SIZE, (gpa % PAGE_SIZE) + 8);
  }

  /**
   * Claims page-aligned `[gpa, gpa + len)` as freshly allocated: resident, zero-filled and
   * dirty (so the next flush makes the hypervisor's copy match). For runs from the page
   * allocator, whose previous contents are meaningless, this saves a `load`.
   */
  adoptZeroed(gpa: number, len: number): void {
    this.check(gpa, len);
    if (gpa % PAGE_SIZE !== 0 || len % PAGE_SIZE !== 0) {
      throw new RangeError(`adoptZeroed needs a page-aligned range, got [${gpa}, +${len})`);
    }
    for (let pfn = gpa / PAGE_SIZE; pfn < (gpa + len) / PAGE_SIZE; pfn++) {
      const page = newPage(new Uint8Array(PAGE_SIZE));
      page.dirty.add(0, PAGE_SIZE);
      this.#pages.set(pfn, page);
      this.#dirty.add(pfn);
      this.#unsynced.delete(pfn);
    }
  }

  /** Drops pages from the shadow (after the region is freed); their dirty bytes are lost. */
  evict(gpa: number, len: number): void {
    this.check(gpa, len);
    for (let pfn = Math.floor(gpa / PAGE_SIZE); pfn * PAGE_SIZE < gpa + len; pfn++) {
      this.#pages.delete(pfn);
      this.#dirty.delete(pfn);
      this.#unsynced.delete(pfn);
    }
  }

  async flush(): Promise<void> {
    const pending = this.takeWrites();
    if (pending === null) return;
    let outcomes: HypercallOutcome[];
    try {
      outcomes = await this.#client.batch(pending.ops, { stopOnError: true });
    } catch (err) {
      throw pending.abandon(err);
    }
    const failure = pending.settle(outcomes);
    if (failure !== null) throw failure;
  }

  /**
   * The dirty bytes as `WriteMemory` ops for the caller's multicall (`flush` is this plus its
   * own batch). The spans are cleared now, so writes made while the ops are in flight stay dirty
   * for the next take; a span whose op did not succeed is marked dirty again by `settle` or
   * `abandon`. Stopping at the first failed op (stopOnError) is the caller's choice: `settle`
   * re-dirties the skipped ones too.
   */
  override takeWrites(): PendingWrites | null {
    const runs = this.#takeDirtyRuns();
    if (runs.length === 0) return null;
    const ops: MemoryWriteOp[] = runs.map((r) => ({
      op: "writeMemory",
      gpa: r.gpa,
      data: r.bytes,
    }));
    let settled = false;
    const once = (): void => {
      if (settled) throw new Error("PendingWrites settled twice");
      settled = true;
    };
    return {
      ops,
      settle: (outcomes) => {
        once();
        let failure: string | undefined;
        runs.forEach((run, i) => {
          const o = outcomes[i];
          if (o?.op === "writeMemory" && o.ret === 0) return;
          failure ??=
            o === undefined
              ? "no outcome"
              : o.op === "status"
                ? `status ${o.code ?? "?"}: ${o.message ?? ""}`
                : `ret ${o.op === "writeMemory" ? (o.ret ?? "?") : "?"}`;
          this.#redirty(run);
        });
        this.stats.flushes++;
        this.stats.writeMemoryCalls += runs.length;
        for (const r of runs) this.stats.flushedBytes += r.bytes.length;
        return failure === undefined
          ? null
          : new GuestRamError(
              GuestRamErrorKind.hypercallFailed,
              `guest ram flush failed: ${failure}`,
            );
      },
      abandon: (cause) => {
        once();
        for (const r of runs) this.#redirty(r);
        return new GuestRamError(GuestRamErrorKind.hypercallFailed, "guest ram flush failed", {
          cause,
        });
      },
    };
  }

  async load(gpa: number, len: number): Promise<void> {
    this.check(gpa, len);
    if (len === 0) return;
    const first = Math.floor(gpa / PAGE_SIZE);
    const end = Math.ceil((gpa + len) / PAGE_SIZE);
    const ops: HypercallOp[] = [];
    const chunkPages = MAX_MEMORY_ACCESS / PAGE_SIZE;
    for (let pfn = first; pfn < end; pfn += chunkPages) {
      const n = Math.min(chunkPages, end - pfn);
      ops.push({ op: "readMemory", gpa: pfn * PAGE_SIZE, length: n * PAGE_SIZE });
    }
    let outcomes;
    try {
      outcomes = await this.#client.batch(ops);
    } catch (err) {
      throw new GuestRamError(GuestRamErrorKind.hypercallFailed, "guest ram load failed", {
        cause: err,
      });
    }
    this.stats.loads++;
    outcomes.forEach((o, i) => {
      const op = ops[i];
      if (o.op !== "readMemory" || o.ret !== 0 || op?.op !== "readMemory") {
        throw new GuestRamError(
          GuestRamErrorKind.hypercallFailed,
          `guest ram load failed (op ${i})`,
        );
      }
      this.stats.loadedBytes += o.data.length;
      for (let p = 0; p * PAGE_SIZE < o.data.length; p++) {
        this.#install(op.gpa / PAGE_SIZE + p, o.data.subarray(p * PAGE_SIZE, (p + 1) * PAGE_SIZE));
      }
    });
  }

  /** Replaces a page with fetched bytes, keeping its local dirty and unsynced bytes (newer). */
  #install(pfn: number, fetched: Uint8Array): void {
    const data = new Uint8Array(PAGE_SIZE);
    data.set(fetched.subarray(0, PAGE_SIZE));
    const old = this.#pages.get(pfn);
    const page = newPage(data);
    if (old !== undefined) {
      for (const [lo, hi] of old.unsynced.spans()) {
        data.set(old.data.subarray(lo, hi), lo);
        page.unsynced.add(lo, hi);
      }
      for (const [lo, hi] of old.dirty.spans()) {
        data.set(old.data.subarray(lo, hi), lo);
        page.dirty.add(lo, hi);
      }
    }
    this.#pages.set(pfn, page);
  }

  /** Copies out and clears every dirty span, merging spans that meet across pages. */
  #takeDirtyRuns(): DirtyRun[] {
    const pfns = [...this.#dirty].sort((a, b) => a - b);
    this.#dirty.clear();
    // First the runs' extents (spans that meet across pages join), then one buffer per run,
    // so each dirty byte is copied once. The copy is taken now: writes made while the ops are in
    // flight must not change bytes a resend after a reconnect would send again.
    const runs: {
      gpa: number;
      len: number;
      spans: { data: Uint8Array; lo: number; hi: number }[];
    }[] = [];
    for (const pfn of pfns) {
      const page = this.#pages.get(pfn);
      if (page === undefined) continue;
      for (const [lo, hi] of page.dirty.spans()) {
        const span = { data: page.data, lo, hi };
        const gpa = pfn * PAGE_SIZE + lo;
        const n = hi - lo;
        const last = runs.at(-1);
        if (
          last !== undefined &&
          last.gpa + last.len === gpa &&
          last.len + n <= MAX_MEMORY_ACCESS
        ) {
          last.spans.push(span);
          last.len += n;
        } else {
          runs.push({ gpa, len: n, spans: [span] });
        }
      }
      page.dirty.clear();
    }
    return runs.map((r) => {
      const bytes = new Uint8Array(r.len);
      let at = 0;
      for (const sp of r.spans) {
        bytes.set(sp.data.subarray(sp.lo, sp.hi), at);
        at += sp.hi - sp.lo;
      }
      return { gpa: r.gpa, bytes };
    });
  }

  #markDirty(pfn: number, page: ShadowPage, lo: number, hi: number): void {
    page.dirty.add(lo, hi);
    this.#dirty.add(pfn);
  }

  #markUnsynced(pfn: number, page: ShadowPage, lo: number, hi: number): void {
    page.unsynced.add(lo, hi);
    this.#unsynced.add(pfn);
  }

  #redirty(run: DirtyRun): void {
    let done = 0;
    while (done < run.bytes.length) {
      const at = run.gpa + done;
      const off = at % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, run.bytes.length - done);
      const pfn = pfnOf(at);
      const page = this.#pages.get(pfn);
      if (page !== undefined) this.#markDirty(pfn, page, off, off + n);
      done += n;
    }
  }
}

function newPage(data: Uint8Array): ShadowPage {
  return {
    data,
    view: new DataView(data.buffer, data.byteOffset, PAGE_SIZE),
    dirty: new ByteSpans(),
    unsynced: new ByteSpans(),
  };
}

/** Writes a completion's bytes into the driver's memory: unsynced in a shadow (see above). */
export function writeFromDevice(ram: GuestRam, gpa: number, bytes: Uint8Array): void {
  if (ram instanceof ShadowGuestRam) ram.writeFromDevice(gpa, bytes);
  else ram.write(gpa, bytes);
}

/** Before a sendv reads `[gpa, gpa + len)`: a shadow's device-written bytes there go dirty. */
export function exposeToDevice(ram: GuestRam, gpa: number, len: number): void {
  if (ram instanceof ShadowGuestRam) ram.exposeToDevice(gpa, len);
}

function pfnOf(gpa: number): number {
  return Math.floor(gpa / PAGE_SIZE);
}
