// SPDX-License-Identifier: Apache-2.0
/**
 * `VioaHub`: the guest's VIRQ handling for its virtio-argo channels, alongside (not inside)
 * libargo's `ArgoEndpoint`, which owns the datagram sockets (argo-spec §5.3: VIRQs are
 * undifferentiated, so every interested party rescans its own rings). On each VIRQ the hub
 * wakes parked senders and runs one drain pass: one multicall reads every channel ring's tx_ptr
 * (and prefetches its data), then each ring with unread data is drained into its channel. A
 * VIRQ that arrives during a pass marks it "again" and the pass loops, so none is lost and
 * passes never overlap (virtio-argo.md §4.7: "a receiver must always re-scan its rings").
 *
 * Publishing rx is deferred (rx-ring.ts "Deferred publish"): a drained ring's rx store rides,
 * with one notify(NULL) for all of them, in front of the next multicall this guest sends — a
 * channel's send (as part of its prelude) or the next drain pass — and a backstop timer
 * publishes what no multicall took within `PUBLISH_BACKSTOP_MS`. A request and its answer
 * therefore cost each side a drain pass and a send, not a drain pass, a publish and a send.
 *
 * Rings and staging pages come from the endpoint's `PageAllocator` (so libargo and virtio
 * never hand out the same page) and rings are registered through libargo's `RxRing`.
 */
import { pino, type Logger } from "pino";
import type {
  HypercallClient,
  HypercallOp,
  HypercallOutcome,
} from "../../hypercall/hypercall-client.js";
import type { PageAllocator } from "../../libargo/page-allocator.js";
import { RxRing } from "../../libargo/rx-ring.js";
import {
  combinePreludes,
  stagingPages,
  VioaChannel,
  type BatchPrelude,
  type ChannelHost,
  type PreludeSource,
} from "./vioa-channel.js";

/**
 * How long a deferred rx publish waits for a multicall to ride on. Short: a deferral happens
 * only while the sender still sees at least half the ring free, so at worst a sender whose
 * large message does not fit waits this long for the space.
 */
const PUBLISH_BACKSTOP_MS = 1;

export interface OpenChannelOptions {
  /** Our receive port. */
  readonly aport: number;
  /** The peer domain (the ring's only allowed sender). */
  readonly peerDomid: number;
  /** The peer's receive port. */
  readonly peerPort: number;
  /** Our ring's length (multiple of 16). */
  readonly ringLen: number;
  /** Bytes of staging for messages built in memory (headers, records, back-end data). */
  readonly stagingBytes: number;
  /** Each received VIOA message from the peer, in ring order. */
  readonly onMessage: (data: Buffer) => void;
  /**
   * Calls to run at the front of every send multicall (the front end's dirty driver memory:
   * `GuestRam.takeWrites`), so they cost no round trip of their own. See vioa-channel.ts.
   */
  readonly prelude?: PreludeSource;
}

export interface VioaHubStats {
  virqs: number;
  passes: number;
  passErrors: number;
  /** Deferred rx publishes that rode on another multicall / that the backstop sent alone. */
  publishesCarried: number;
  publishBackstops: number;
}

/** One per guest: opens channels and drives their receive side (see the module comment). */
export class VioaHub {
  readonly client: HypercallClient;
  readonly allocator: PageAllocator;
  readonly stats: VioaHubStats = {
    virqs: 0,
    passes: 0,
    passErrors: 0,
    publishesCarried: 0,
    publishBackstops: 0,
  };
  readonly #log: Logger;
  readonly #channels = new Set<VioaChannel>();
  readonly #parked = new Set<VioaChannel>();
  readonly #unsubscribe: () => void;
  readonly #host: ChannelHost;
  #virqs = 0;
  /** Rings with a deferred rx publish not yet taken by a multicall. */
  readonly #unpublished = new Set<RxRing>();
  #backstop: NodeJS.Timeout | undefined;
  #pass: Promise<void> | null = null;
  #again = false;
  #closed = false;

  constructor(client: HypercallClient, allocator: PageAllocator, logger?: Logger) {
    this.client = client;
    this.allocator = allocator;
    this.#log = logger ?? pino({ level: "silent" });
    this.#host = {
      client,
      allocator,
      virqCount: () => this.#virqs,
      park: (c) => this.#parked.add(c),
      unpark: (c) => this.#parked.delete(c),
      released: (c) => {
        this.#channels.delete(c);
        this.#parked.delete(c);
      },
    };
    this.#unsubscribe = client.onVirq(() => {
      this.#virqs++;
      this.stats.virqs++;
      for (const c of [...this.#parked]) c.wake();
      this.#schedule();
    });
  }

  /**
   * Registers our ring (unicast, partner = the peer) and returns the channel. Rejects with
   * libargo's `ArgoSocketError` (code EACCES / EPERM when MAC refuses the ring, ESRCH when the
   * peer does not exist, EEXIST/EADDRINUSE when the port is taken with another length).
   */
  async open(o: OpenChannelOptions): Promise<VioaChannel> {
    if (this.#closed) throw new Error("hub closed");
    const staging = this.allocator.allocate(stagingPages(o.stagingBytes));
    let ring: RxRing;
    try {
      ring = await RxRing.register(this.client, this.allocator, {
        aport: o.aport,
        partnerId: o.peerDomid,
        len: o.ringLen,
        fill: false,
        prefetchWraps: true,
        deferPublish: (r) => {
          this.#publishLater(r);
        },
      });
    } catch (err) {
      this.allocator.free(staging);
      throw err;
    }
    const channel = new VioaChannel(
      this.#host,
      ring,
      { domainId: o.peerDomid, aport: o.peerPort },
      staging,
      o.onMessage,
      // Deferred rx publishes first (tiny, and every ring's sender waits on them), then the
      // caller's own prelude (the front end's dirty driver memory).
      () => combinePreludes(this.#takePublishes(false), o.prelude?.() ?? null),
    );
    this.#channels.add(channel);
    // A re-registered ring (restarted agent) may hold messages already.
    this.#schedule();
    return channel;
  }

  /** Closes every channel and stops VIRQ handling. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    if (this.#backstop !== undefined) clearTimeout(this.#backstop);
    this.#backstop = undefined;
    await Promise.allSettled([...this.#channels].map((c) => c.close()));
    await this.#pass;
  }

  /** `arm`: start the backstop timer (not after a failed backstop: no retry loop on a dead link). */
  #publishLater(ring: RxRing, arm = true): void {
    this.#unpublished.add(ring);
    if (!arm || this.#closed || this.#backstop !== undefined) return;
    this.#backstop = setTimeout(() => {
      this.#backstop = undefined;
      this.#publishAlone();
    }, PUBLISH_BACKSTOP_MS);
  }

  /**
   * The deferred rx stores of every ring and one notify(NULL), as a prelude for a multicall
   * about to be issued; null when none is pending. A store that fails is deferred again: for
   * the backstop's own multicall only until the next one this guest sends.
   */
  #takePublishes(backstop: boolean): BatchPrelude | null {
    if (this.#unpublished.size === 0) return null;
    const ops: HypercallOp[] = [];
    const taken: RxRing[] = [];
    for (const ring of this.#unpublished) {
      const op = ring.takePublish();
      if (op === null) continue;
      ops.push(op);
      taken.push(ring);
    }
    this.#unpublished.clear();
    if (taken.length === 0) return null;
    if (backstop) this.stats.publishBackstops += taken.length;
    else this.stats.publishesCarried += taken.length;
    ops.push({ op: "notify", ringData: null });
    const retry = (ring: RxRing): void => {
      ring.publishSettled(false);
      this.#publishLater(ring, !backstop);
    };
    return {
      ops,
      settle: (outcomes: readonly (HypercallOutcome | undefined)[]) => {
        let failure: Error | null = null;
        for (const [i, ring] of taken.entries()) {
          const o = outcomes[i];
          if (o?.op === "writeMemory" && o.ret === 0) continue;
          retry(ring);
          failure ??= new Error(`rx_ptr store of ring 0x${ring.aport.toString(16)} failed`);
        }
        const n = outcomes[taken.length];
        if (failure === null && (n?.op !== "notify" || n.ret < 0))
          failure = new Error("notify(NULL) after the rx stores failed");
        return failure;
      },
      abandon: (cause: unknown) => {
        for (const ring of taken) retry(ring);
        return new Error(`rx_ptr stores failed: ${String(cause)}`);
      },
    };
  }

  /** The backstop: publishes what no multicall took (module comment). */
  #publishAlone(): void {
    const prelude = this.#takePublishes(true);
    if (prelude === null) return;
    this.client.batch(prelude.ops).then(
      (outcomes) => {
        const failure = prelude.settle(outcomes);
        if (failure !== null) this.#publishFailed(failure);
      },
      (err: unknown) => {
        this.#publishFailed(prelude.abandon(err));
      },
    );
  }

  #publishFailed(err: Error): void {
    this.stats.passErrors++;
    if (!this.#closed) this.#log.warn({ err }, "virtio-argo rx publish failed");
  }

  #schedule(): void {
    if (this.#closed) return;
    if (this.#pass !== null) {
      this.#again = true;
      return;
    }
    this.#pass = this.#loop().finally(() => {
      this.#pass = null;
    });
  }

  #againRequested(): boolean {
    return this.#again;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#drainPass();
      } catch (err) {
        this.stats.passErrors++;
        if (!this.#closed) this.#log.warn({ err }, "virtio-argo ring drain failed");
      }
    } while (this.#againRequested() && !this.#closed);
  }

  async #drainPass(): Promise<void> {
    const channels = [...this.#channels].filter((c) => !c.closed && !c.ring.closed);
    if (channels.length === 0) return;
    this.stats.passes++;
    const passes = channels.map((c) => c.ring.passOps());
    // Deferred rx publishes ride in front (independent calls: no stopOnError here).
    const prelude = this.#takePublishes(false);
    const pre = prelude?.ops.length ?? 0;
    let outcomes: HypercallOutcome[];
    try {
      outcomes = await this.client.batch([
        ...(prelude?.ops ?? []),
        ...passes.flatMap((p) => p.ops),
      ]);
    } catch (err) {
      if (prelude !== null) prelude.abandon(err);
      throw err;
    }
    if (prelude !== null) {
      const failure = prelude.settle(outcomes.slice(0, pre));
      if (failure !== null) this.#publishFailed(failure);
    }
    const drains: Promise<void>[] = [];
    let at = pre;
    channels.forEach((c, i) => {
      const pass = passes[i];
      if (pass === undefined) return;
      const { tx, ahead } = pass.result(outcomes, at);
      at += pass.ops.length;
      if (!c.ring.closed) drains.push(c.ring.drain(tx, c, ahead));
    });
    const results = await Promise.allSettled(drains);
    const failed = results.find((r) => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }
}
