// SPDX-License-Identifier: Apache-2.0
/**
 * `RemoteDeviceQueue`: the back end's `DeviceQueue` for a queue whose ring lives in another
 * guest (virtio-argo.md §4.6 steps 4–5). Chains arrive as AVAIL records; each is reassembled
 * from its fragments into memory local to the back end and rebuilt with
 * `DescriptorChain.fromSegments`, whose addresses are offsets in that local memory — handles,
 * never the front end's addresses (§4.6: "rebuilds each chain as a local virtual descriptor
 * list whose addresses are handles"). The device model pops and completes them exactly as it
 * does on a split ring; `addUsed` collects the device-written bytes (capped at `len`) and
 * `signalUsed` hands the batch to the host, which sends EVENT_USED.
 *
 * Hostile front end (§4.9). Records are checked before any memory is allocated: a head outside
 * the queue or already in flight, a continuation that does not follow the chain being
 * reassembled, more inline bytes than the chain's readable part, a chain above `maxChainBytes`
 * or in-flight bytes above `maxInflightBytes` — each is counted, and breaks the queue (the
 * device enters DEVICE_NEEDS_RESET), except an over-large chain, which is completed with
 * `used.len = 0` like any malformed buffer.
 */
import {
  InMemoryGuestRam,
  DescriptorChain,
  type ChainSegment,
  type DeviceQueue,
  VirtQueueError,
  ViolationKind,
  type ViolationLog,
} from "@hmx/virtio";
import type { CompletedChain } from "../wire/fragmenter.js";
import type { AvailRecord, WithData } from "../wire/records.js";

export interface RemoteQueueHooks {
  /** Completed chains to send back (EVENT_USED). */
  readonly sendUsed: (queue: number, done: CompletedChain[]) => void;
  /** The queue is broken: the device needs a reset. */
  readonly onBroken: (reason: string) => void;
  readonly violations: ViolationLog;
}

export interface RemoteQueueLimits {
  /** Largest chain (readable + writable bytes) the back end will hold. */
  readonly maxChainBytes: number;
  /** Largest sum of the chains in flight on this queue. */
  readonly maxInflightBytes: number;
}

interface Partial {
  readonly head: number;
  readonly ram: InMemoryGuestRam;
  readonly segments: ChainSegment[];
  readonly totalReadable: number;
  filled: number;
  nextFrag: number;
}

/** A device-side queue fed by AVAIL records (see the module comment). */
export class RemoteDeviceQueue implements DeviceQueue {
  readonly index: number;
  readonly size: number;
  readonly #hooks: RemoteQueueHooks;
  readonly #limits: RemoteQueueLimits;
  readonly #ready: DescriptorChain[] = [];
  readonly #inflight = new Map<number, DescriptorChain>();
  #inflightBytes = 0;
  #partial: Partial | undefined;
  #done: CompletedChain[] = [];
  #broken = false;

  constructor(index: number, size: number, hooks: RemoteQueueHooks, limits: RemoteQueueLimits) {
    this.index = index;
    this.size = size;
    this.#hooks = hooks;
    this.#limits = limits;
  }

  get broken(): boolean {
    return this.#broken;
  }

  /** Chains in flight (received, not completed). */
  get inflight(): number {
    return this.#inflight.size;
  }

  /**
   * Takes the records of one EVENT_AVAIL message. Returns the number of chains that became
   * available, or -1 when the queue broke on a violation.
   */
  accept(records: readonly WithData<AvailRecord>[]): number {
    if (this.#broken) return -1;
    let added = 0;
    for (const r of records) {
      const ok = r.frag === 0 ? this.#start(r) : this.#continue(r);
      if (!ok) return -1;
      if (r.last) {
        const p = this.#partial;
        this.#partial = undefined;
        if (p === undefined) continue; // an over-large chain, already completed with len 0
        if (p.filled !== p.totalReadable)
          return this.#break("last fragment leaves readable bytes unfilled", r.head);
        try {
          this.#ready.push(DescriptorChain.fromSegments(p.ram, p.head, p.segments, this.size));
        } catch (err) {
          if (!(err instanceof VirtQueueError)) throw err;
          return this.#break(err.message, r.head);
        }
        added++;
      }
    }
    return added;
  }

  #start(r: WithData<AvailRecord>): boolean {
    if (this.#partial !== undefined)
      return this.#break("a new chain before the last fragment of the previous one", r.head) >= 0;
    if (r.head >= this.size)
      return this.#break(`head ${r.head} >= queue size ${this.size}`, r.head) >= 0;
    if (this.#inflight.has(r.head))
      return this.#break(`head ${r.head} is already in flight`, r.head) >= 0;
    if (r.segments.length > this.size)
      return this.#break(`${r.segments.length} segments`, r.head) >= 0;
    const total = r.segments.reduce((n, s) => n + s.len, 0);
    if (
      total > this.#limits.maxChainBytes ||
      this.#inflightBytes + total > this.#limits.maxInflightBytes
    ) {
      // A legal chain shape this back end will not buffer: the device error for that buffer.
      this.#hooks.violations.report(ViolationKind.chainLengthOverflow, {
        queue: this.index,
        head: r.head,
        bytes: total,
        side: "backend",
      });
      this.#inflight.set(
        r.head,
        DescriptorChain.fromSegments(new InMemoryGuestRam(0), r.head, [], this.size),
      );
      this.addUsed(r.head, 0);
      this.signalUsed();
      if (!r.last) return this.#break("fragments of a refused chain", r.head) >= 0;
      return true;
    }
    const ram = new InMemoryGuestRam(total);
    const segments: ChainSegment[] = [];
    let at = 0;
    for (const s of r.segments) {
      segments.push({ addr: at, len: s.len, writable: s.writable });
      at += s.len;
    }
    this.#partial = {
      head: r.head,
      ram,
      segments,
      totalReadable: r.totalReadable,
      filled: 0,
      nextFrag: 0,
    };
    return this.#fill(r);
  }

  #continue(r: WithData<AvailRecord>): boolean {
    const p = this.#partial;
    if (p?.head !== r.head)
      return (
        this.#break(
          `fragment ${r.frag} of chain ${r.head}, which is not being reassembled`,
          r.head,
        ) >= 0
      );
    if (r.totalReadable !== p.totalReadable)
      return this.#break("total_readable changed between fragments", r.head) >= 0;
    return this.#fill(r);
  }

  #fill(r: WithData<AvailRecord>): boolean {
    const p = this.#partial;
    if (p === undefined) return false;
    if (r.frag !== p.nextFrag)
      return this.#break(`fragment ${r.frag}, expected ${p.nextFrag}`, r.head) >= 0;
    if (p.filled + r.data.length > p.totalReadable)
      return this.#break("more inline bytes than the readable segments hold", r.head) >= 0;
    // Readable segments come first and sit at offset 0.., so readable byte k is at address k.
    p.ram.write(p.filled, r.data);
    p.filled += r.data.length;
    p.nextFrag++;
    return true;
  }

  pop(): DescriptorChain | undefined {
    if (this.#broken) return undefined;
    const c = this.#ready.shift();
    if (c === undefined) return undefined;
    this.#inflight.set(c.head, c);
    this.#inflightBytes += c.ram.size;
    return c;
  }

  addUsed(head: number, len: number): void {
    if (this.#broken) return;
    const chain = this.#inflight.get(head);
    if (chain === undefined || !Number.isInteger(len) || len < 0) {
      // The model's bug, not the peer's: refuse loudly, as SplitQueue does.
      throw new RangeError(
        `queue ${this.index}: addUsed(${head}, ${len}) for a chain not in flight`,
      );
    }
    this.#inflight.delete(head);
    this.#inflightBytes -= chain.ram.size;
    const written = Math.min(len, chain.writableBytes);
    this.#done.push({ head, writtenLen: written, data: writtenBytes(chain, written) });
  }

  signalUsed(): void {
    if (this.#broken || this.#done.length === 0) return;
    const done = this.#done;
    this.#done = [];
    this.#hooks.sendUsed(this.index, done);
  }

  /** Stops the queue for good (reset or a violation); nothing more is popped or sent. */
  discard(): void {
    this.#broken = true;
    this.#ready.length = 0;
    this.#inflight.clear();
    this.#partial = undefined;
    this.#done = [];
  }

  /** Breaks the queue on a front-end violation; returns -1 for `accept`. */
  #break(reason: string, head: number): number {
    this.#hooks.violations.report(ViolationKind.malformedRequest, {
      queue: this.index,
      head,
      reason,
      side: "backend",
    });
    if (!this.#broken) {
      this.discard();
      this.#hooks.onBroken(reason);
    }
    return -1;
  }
}

/**
 * The first `written` device-writable bytes of a chain rebuilt in its own memory. The segments
 * sit there back to back in chain order and `DescriptorChain.fromSegments` refuses a readable
 * segment after a writable one, so the writable bytes are one range. A view, not a copy: the
 * memory is this chain's alone (`#start` makes it), and once the model completed the chain
 * nothing writes it again; the view lives until the EVENT_USED carrying it is staged.
 */
function writtenBytes(chain: DescriptorChain, written: number): Uint8Array {
  const first = chain.segments.find((s) => s.writable);
  if (first === undefined || written === 0) return new Uint8Array(0);
  return chain.ram instanceof InMemoryGuestRam
    ? chain.ram.view(first.addr, written)
    : chain.ram.read(first.addr, written);
}
