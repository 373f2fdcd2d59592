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
 * Rings and staging pages come from the endpoint's `PageAllocator` (so libargo and virtio
 * never hand out the same page) and rings are registered through libargo's `RxRing`.
 */
import { pino, type Logger } from "pino";
import type { HypercallClient } from "../../../hypercall/hypercall-client.js";
import { readDataOf } from "../../../libargo/outcomes.js";
import type { PageAllocator } from "../../../libargo/page-allocator.js";
import { RxRing } from "../../../libargo/rx-ring.js";
import { stagingPages, VioaChannel, type ChannelHost } from "./vioa-channel.js";

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
}

export interface VioaHubStats {
  virqs: number;
  passes: number;
  passErrors: number;
}

/** One per guest: opens channels and drives their receive side (see the module comment). */
export class VioaHub {
  readonly client: HypercallClient;
  readonly allocator: PageAllocator;
  readonly stats: VioaHubStats = { virqs: 0, passes: 0, passErrors: 0 };
  readonly #log: Logger;
  readonly #channels = new Set<VioaChannel>();
  readonly #parked = new Set<VioaChannel>();
  readonly #unsubscribe: () => void;
  readonly #host: ChannelHost;
  #virqs = 0;
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
    await Promise.allSettled([...this.#channels].map((c) => c.close()));
    await this.#pass;
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
    const from = channels.map((c) => c.ring.rxPtr);
    const outcomes = await this.client.batch(
      channels.flatMap((c) => [c.ring.readTxOp(), c.ring.prefetchOp()]),
    );
    const drains: Promise<void>[] = [];
    channels.forEach((c, i) => {
      const tx = readDataOf(outcomes, 2 * i).readUInt32LE(0);
      const ahead = { at: from[i] ?? -1, data: readDataOf(outcomes, 2 * i + 1) };
      if (!c.ring.closed) drains.push(c.ring.drain(tx, c, ahead));
    });
    const results = await Promise.allSettled(drains);
    const failed = results.find((r) => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }
}
