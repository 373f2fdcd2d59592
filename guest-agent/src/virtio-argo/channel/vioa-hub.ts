// SPDX-License-Identifier: Apache-2.0
/**
 * `VioaHub`: opens a guest's virtio-argo channels on its libargo `ArgoEndpoint` and closes them
 * together. The endpoint does the rest, as for datagram sockets: its one VIRQ listener wakes
 * parked channel senders and drains the channels' rings in the same pass as the sockets'
 * (argo-endpoint.ts), and its deferred publisher carries the channels' rx stores in front of
 * the next multicall this guest sends (deferred-publish.ts; a channel's send takes them as the
 * first part of its prelude). Rings and staging pages come from the endpoint's `PageAllocator`,
 * so libargo and virtio never hand out the same page.
 */
import type { ArgoEndpoint, EndpointStats } from "../../libargo/argo-endpoint.js";
import { combinePreludes, type PreludeSource } from "../../libargo/batch-prelude.js";
import { RxRing } from "../../libargo/rx-ring.js";
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
  /**
   * Calls to run at the front of every send multicall (the front end's dirty driver memory:
   * `GuestRam.takeWrites`), so they cost no round trip of their own. See vioa-channel.ts.
   */
  readonly prelude?: PreludeSource;
}

/** One per guest: opens channels on the guest's endpoint (see the module comment). */
export class VioaHub {
  readonly endpoint: ArgoEndpoint;
  readonly #channels = new Map<VioaChannel, () => void>();
  readonly #host: ChannelHost;
  #closed = false;

  constructor(endpoint: ArgoEndpoint) {
    this.endpoint = endpoint;
    this.#host = {
      sender: endpoint.senderHost,
      allocator: endpoint.allocator,
      released: (c) => {
        this.#channels.get(c)?.();
        this.#channels.delete(c);
      },
    };
  }

  /** The hypercall client of the guest. */
  get client(): ArgoEndpoint["client"] {
    return this.endpoint.client;
  }

  /** The endpoint's counters (VIRQs, drain passes, deferred publishes). */
  get stats(): EndpointStats {
    return this.endpoint.stats;
  }

  /**
   * Registers our ring (unicast, partner = the peer) and returns the channel. Rejects with
   * libargo's `ArgoSocketError` (code EACCES / EPERM when MAC refuses the ring, ESRCH when the
   * peer does not exist, EEXIST/EADDRINUSE when the port is taken with another length).
   */
  async open(o: OpenChannelOptions): Promise<VioaChannel> {
    if (this.#closed) throw new Error("hub closed");
    const { client, allocator } = this.endpoint;
    const staging = allocator.allocate(stagingPages(o.stagingBytes));
    let ring: RxRing;
    try {
      ring = await RxRing.register(client, allocator, {
        aport: o.aport,
        partnerId: o.peerDomid,
        len: o.ringLen,
        fill: false,
        prefetchWraps: true,
        deferPublish: this.endpoint.deferPublish,
      });
    } catch (err) {
      allocator.free(staging);
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
      () => combinePreludes(this.endpoint.takePublishes(), o.prelude?.() ?? null),
    );
    this.#channels.set(channel, this.endpoint.attach(channel));
    return channel;
  }

  /** Closes every channel the hub opened. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#channels.keys()].map((c) => c.close()));
  }
}
