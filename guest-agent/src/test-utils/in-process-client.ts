// SPDX-License-Identifier: Apache-2.0
/**
 * An in-process hypervisor for libargo and workload tests: the real hypervisor core
 * (`createHypervisorCore`) and the real `HypercallDispatcher`, reached through a
 * `HypercallClient` with no gRPC in between. Calls execute asynchronously and strictly in call
 * order (one setImmediate FIFO per process, as a session executes its calls in order), batches
 * honour `stopOnError` exactly as the Session service does (the calls after the first failure
 * come back as status ABORTED) and so do chained ones (`BatchOptions.chain`: all ABORTED
 * unless the batch before on the chain succeeded to its last call), and VIRQ_ARGO is delivered asynchronously and coalesced per
 * domain, like the event channel. Test code only.
 */
import { status } from "@grpc/grpc-js";
import {
  CallStatusCode,
  createHypervisorCore,
  HypercallDispatcher,
  PushCursors,
  virqRingData,
  isFailure,
  type Hypercall,
  type HypercallResult,
  type HypervisorCore,
} from "@hmx/hypervisor";
import { pino } from "pino";
import {
  HypercallStatusError,
  type ArgoAddr,
  type BatchChain,
  type BatchOptions,
  type DomainInfo,
  type HypercallClient,
  type HypercallOp,
  type HypercallOutcome,
  type Iov,
  type NotifyEntry,
  type NotifyResultEntry,
  type VirqRing,
} from "../hypercall/hypercall-client.js";

/** gRPC UNAVAILABLE: what a closed client answers. */

export interface InProcessHypervisorOptions {
  /** `--argo-mac-permissive`; default false, as in Xen. */
  readonly macPermissive?: boolean;
  /** `--argo`; default true. */
  readonly argoEnabled?: boolean;
  /**
   * Ring bytes each VIRQ carries, as a Session opened with `virq_ring_bytes` gets them
   * (hypervisor.proto `Virq.rings`); default 0: VIRQs carry nothing, listeners get undefined.
   */
  readonly virqRingBytes?: number;
}

/** One hypervisor core whose guests are `InProcessClient`s. */
export class InProcessHypervisor {
  readonly core: HypervisorCore;
  readonly dispatcher: HypercallDispatcher;
  readonly #virqListeners = new Map<number, Set<(rings?: readonly VirqRing[]) => void>>();
  readonly #virqPending = new Set<number>();
  readonly #virqRingBytes: number;
  /** Each domain's push cursors, as its Session would hold them (virq-ring-data.ts). */
  readonly #pushCursors = new Map<number, PushCursors>();

  constructor(options: InProcessHypervisorOptions = {}) {
    this.#virqRingBytes = options.virqRingBytes ?? 0;
    this.core = createHypervisorCore({
      argo: { enabled: options.argoEnabled ?? true, macPermissive: options.macPermissive ?? false },
      maxTotalMemoryBytes: 1024 * 1024 * 1024,
      maxDomainMemoryBytes: 256 * 1024 * 1024,
      virq: {
        raiseVirq: (domid) => {
          this.#raise(domid);
        },
      },
    });
    this.dispatcher = new HypercallDispatcher(this.core.argo, pino({ level: "silent" }), {
      maxEntries: 1024,
      maxBytes: 1 << 20,
    });
  }

  /** Creates a domain and a connected client for it. */
  createGuest(
    options: { readonly name?: string; readonly memoryBytes?: number } = {},
  ): InProcessClient {
    const { domain } = this.core.domains.create({
      name: options.name ?? `vm${this.core.domains.size + 1}`,
      label: "system_u:system_r:domU_t",
      memoryBytes: options.memoryBytes ?? 16 * 1024 * 1024,
    });
    return new InProcessClient(this, domain.domid);
  }

  /** @internal */
  subscribe(domid: number, listener: (rings?: readonly VirqRing[]) => void): () => void {
    let set = this.#virqListeners.get(domid);
    if (set === undefined) {
      set = new Set();
      this.#virqListeners.set(domid, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  #cursorsOf(domid: number): PushCursors {
    let cursors = this.#pushCursors.get(domid);
    if (cursors === undefined) {
      cursors = new PushCursors();
      this.#pushCursors.set(domid, cursors);
    }
    return cursors;
  }

  /** Event-channel semantics: raises coalesce until the guest's handler runs. */
  #raise(domid: number): void {
    if (this.#virqPending.has(domid)) return;
    this.#virqPending.add(domid);
    setImmediate(() => {
      this.#virqPending.delete(domid);
      const domain = this.core.domains.get(domid);
      const rings =
        this.#virqRingBytes > 0 && domain !== undefined
          ? virqRingData(domain, this.#virqRingBytes, this.#cursorsOf(domid))
          : undefined;
      for (const l of [...(this.#virqListeners.get(domid) ?? [])]) l(rings);
    });
  }
}

/** Counters of what a client sent, for tests that check batching. */
export interface InProcessClientCounters {
  batches: number;
  calls: number;
  readonly byOp: Record<string, number>;
}

/** A `HypercallClient` bound to one domain of an `InProcessHypervisor`. */
export class InProcessClient implements HypercallClient {
  readonly domid: number;
  readonly dependentBatches = true;
  /** Whether the last batch sent on each chain succeeded to its last call (once it ran). */
  readonly #chains = new WeakMap<BatchChain, { ok: boolean }>();
  readonly counters: InProcessClientCounters = { batches: 0, calls: 0, byOp: {} };
  readonly #hv: InProcessHypervisor;
  readonly #unsubscribers = new Set<() => void>();
  #closed = false;

  constructor(hv: InProcessHypervisor, domid: number) {
    this.#hv = hv;
    this.domid = domid;
  }

  batch(ops: readonly HypercallOp[], options: BatchOptions = {}): Promise<HypercallOutcome[]> {
    if (this.#closed)
      return Promise.reject(new HypercallStatusError(status.UNAVAILABLE, "client closed"));
    this.counters.batches++;
    // Batches run in call order, so the one before on the chain has run when this one does.
    const ran = { ok: false };
    const before = options.chain === undefined ? undefined : this.#chains.get(options.chain);
    if (options.chain !== undefined) this.#chains.set(options.chain, ran);
    return new Promise((resolve, reject) => {
      setImmediate(() => {
        const domain = this.#hv.core.domains.get(this.domid);
        if (this.#closed || domain === undefined) {
          reject(
            new HypercallStatusError(
              status.UNAVAILABLE,
              this.#closed ? "client closed" : "domain destroyed",
            ),
          );
          return;
        }
        const outcomes: HypercallOutcome[] = [];
        let stopped = before !== undefined && !before.ok;
        for (const op of ops) {
          this.counters.calls++;
          this.counters.byOp[op.op] = (this.counters.byOp[op.op] ?? 0) + 1;
          if (stopped) {
            outcomes.push({
              op: "status",
              code: CallStatusCode.ABORTED,
              message: "skipped: an earlier call in the batch failed",
            });
            continue;
          }
          const result = this.#hv.dispatcher.execute(domain, toHypercall(op));
          outcomes.push(toOutcome(result));
          if (options.stopOnError === true && isFailure(result)) stopped = true;
        }
        const last = outcomes[outcomes.length - 1];
        ran.ok =
          last !== undefined && last.op !== "status" && ("ret" in last ? last.ret >= 0 : true);
        resolve(outcomes);
      });
    });
  }

  async getDomainInfo(): Promise<DomainInfo> {
    const [o] = await this.batch([{ op: "getDomainInfo" }]);
    if (o?.op !== "getDomainInfo") throw new Error("unexpected outcome");
    return o.info;
  }

  async readMemory(gpa: number, length: number): Promise<{ ret: number; data: Buffer }> {
    const [o] = await this.batch([{ op: "readMemory", gpa, length }]);
    if (o?.op !== "readMemory") throw statusOf(o);
    return { ret: o.ret, data: o.data };
  }

  async writeMemory(gpa: number, data: Uint8Array): Promise<number> {
    return this.#single({ op: "writeMemory", gpa, data });
  }

  async registerRing(args: {
    aport: number;
    partnerId: number;
    len: number;
    gfns: readonly number[];
    flags: number;
  }): Promise<number> {
    return this.#single({ op: "registerRing", ...args });
  }

  async unregisterRing(aport: number, partnerId: number): Promise<number> {
    return this.#single({ op: "unregisterRing", aport, partnerId });
  }

  async sendv(
    src: ArgoAddr,
    dst: ArgoAddr,
    iovs: readonly Iov[],
    messageType: number,
  ): Promise<number> {
    return this.#single({ op: "sendv", src, dst, iovs, messageType });
  }

  async notify(
    ringData: readonly NotifyEntry[] | null,
  ): Promise<{ ret: number; entries: readonly NotifyResultEntry[] }> {
    const [o] = await this.batch([{ op: "notify", ringData }]);
    if (o?.op !== "notify") throw statusOf(o);
    return { ret: o.ret, entries: o.entries };
  }

  onVirq(listener: (rings?: readonly VirqRing[]) => void): () => void {
    const off = this.#hv.subscribe(this.domid, listener);
    this.#unsubscribers.add(off);
    return () => {
      off();
      this.#unsubscribers.delete(off);
    };
  }

  close(): Promise<void> {
    this.#closed = true;
    for (const off of this.#unsubscribers) off();
    this.#unsubscribers.clear();
    return Promise.resolve();
  }

  async #single(op: HypercallOp): Promise<number> {
    const [o] = await this.batch([op]);
    if (o === undefined || o.op === "status" || o.op === "getDomainInfo") throw statusOf(o);
    return o.ret;
  }
}

function statusOf(o: HypercallOutcome | undefined): Error {
  return o?.op === "status"
    ? new HypercallStatusError(o.code, o.message)
    : new Error(`unexpected outcome ${o?.op ?? "none"}`);
}

function toHypercall(op: HypercallOp): Hypercall {
  switch (op.op) {
    case "getDomainInfo":
    case "readMemory":
    case "writeMemory":
    case "notify":
      return op;
    case "registerRing":
      return {
        op: "registerRing",
        args: {
          aport: op.aport,
          partnerId: op.partnerId,
          len: op.len,
          gfns: op.gfns,
          flags: op.flags,
        },
      };
    case "unregisterRing":
      return { op: "unregisterRing", args: { aport: op.aport, partnerId: op.partnerId } };
    case "sendv":
      return {
        op: "sendv",
        args: { src: op.src, dst: op.dst, iovs: op.iovs, messageType: op.messageType },
      };
  }
}

function toOutcome(r: HypercallResult): HypercallOutcome {
  return r;
}
