// SPDX-License-Identifier: Apache-2.0
/**
 * `L2Switch`: the virtio-net back end — a learning Ethernet switch (IEEE 802.1D transparent
 * bridging, without spanning tree) between the front ends attached to it, one port per virtio-net
 * device. For each frame from a port it learns `source MAC → port`, then forwards: broadcast,
 * multicast and unknown unicast are flooded to every other port; known unicast goes to its one
 * port; a frame whose destination lives on the ingress port is dropped (no hairpin). A port
 * receives only what its receive filter accepts (`SwitchPort.accepts`, the virtio-net control
 * queue's RX modes and MAC, `RxFilter`); the rest is dropped and counted (`filtered`).
 *
 * Hostile front ends (virtio-argo.md §4.9): frames shorter than an Ethernet header or longer than
 * the MTU allows, and frames with a multicast source MAC (which would poison the table), are
 * dropped and counted. The table is bounded (`maxEntries`, oldest entry evicted) and entries age
 * out (`ageMs`), so a port spraying random source MACs cannot grow it without bound; a MAC that
 * moves to another port is re-learned there.
 */
import {
  ETH_HEADER_SIZE,
  formatMac,
  isMulticastMac,
  parseEthernetFrame,
} from "../../packets/ethernet.js";
import { DEFAULT_MTU } from "../../spec/virtio-net.js";

/** Something frames can be delivered to (a virtio-net device's receive side). */
export interface SwitchPort {
  readonly name: string;
  /** Takes a frame; it may drop it (e.g. no receive buffers), the switch does not care. */
  deliver(frame: Uint8Array): void;
  /** The port's receive filter; a port without one takes every frame. */
  accepts?(dst: Uint8Array): boolean;
}

export interface L2SwitchOptions {
  /** Largest MAC table (default 1024). */
  readonly maxEntries?: number;
  /** Entry lifetime in ms (default 300 000, the 802.1D default). */
  readonly ageMs?: number;
  /** Largest frame in bytes (default MTU 1500 + 14 + 4 for a VLAN tag). */
  readonly maxFrameBytes?: number;
  readonly now?: () => number;
}

export interface L2SwitchStats {
  received: number;
  forwarded: number;
  flooded: number;
  learned: number;
  moved: number;
  evicted: number;
  droppedRunt: number;
  droppedOversize: number;
  droppedBadSource: number;
  droppedHairpin: number;
  /** Deliveries a port's receive filter refused. */
  filtered: number;
}

interface MacEntry {
  port: number;
  seen: number;
}

/** A learning L2 switch (see the module comment). */
export class L2Switch {
  readonly stats: L2SwitchStats = {
    received: 0,
    forwarded: 0,
    flooded: 0,
    learned: 0,
    moved: 0,
    evicted: 0,
    droppedRunt: 0,
    droppedOversize: 0,
    droppedBadSource: 0,
    droppedHairpin: 0,
    filtered: 0,
  };
  readonly #ports = new Map<number, SwitchPort>();
  /** MAC (as text) → entry; Map iteration order is insertion order, so the first is the oldest. */
  readonly #table = new Map<string, MacEntry>();
  readonly #maxEntries: number;
  readonly #ageMs: number;
  readonly #maxFrame: number;
  readonly #now: () => number;
  #nextPort = 1;

  constructor(options: L2SwitchOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 1024;
    this.#ageMs = options.ageMs ?? 300_000;
    this.#maxFrame = options.maxFrameBytes ?? DEFAULT_MTU + ETH_HEADER_SIZE + 4;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Attaches a port; returns its number. */
  attach(port: SwitchPort): number {
    const id = this.#nextPort++;
    this.#ports.set(id, port);
    return id;
  }

  /** Detaches a port and forgets the MACs learned on it. */
  detach(id: number): void {
    this.#ports.delete(id);
    this.forget(id);
  }

  /** Forgets the MACs learned on port `id` (its MAC changed: the old one must not attract frames). */
  forget(id: number): void {
    for (const [mac, e] of this.#table) if (e.port === id) this.#table.delete(mac);
  }

  /** The port a MAC was learned on, if it is in the table and fresh. */
  lookup(mac: Uint8Array): number | undefined {
    const e = this.#table.get(formatMac(mac));
    if (e === undefined || this.#now() - e.seen > this.#ageMs) return undefined;
    return e.port;
  }

  get tableSize(): number {
    return this.#table.size;
  }

  /** A frame sent by port `ingress`. */
  forward(ingress: number, frame: Uint8Array): void {
    this.stats.received++;
    if (frame.length > this.#maxFrame) {
      this.stats.droppedOversize++;
      return;
    }
    const eth = parseEthernetFrame(frame);
    if (eth === undefined) {
      this.stats.droppedRunt++;
      return;
    }
    if (isMulticastMac(eth.src)) {
      this.stats.droppedBadSource++;
      return;
    }
    this.#learn(eth.src, ingress);
    const out = isMulticastMac(eth.dst) ? undefined : this.lookup(eth.dst);
    if (out === undefined) {
      this.stats.flooded++;
      for (const [id, port] of this.#ports) if (id !== ingress) this.#deliver(port, eth.dst, frame);
      return;
    }
    if (out === ingress) {
      this.stats.droppedHairpin++;
      return;
    }
    this.stats.forwarded++;
    const port = this.#ports.get(out);
    if (port !== undefined) this.#deliver(port, eth.dst, frame);
  }

  #deliver(port: SwitchPort, dst: Uint8Array, frame: Uint8Array): void {
    if (port.accepts !== undefined && !port.accepts(dst)) {
      this.stats.filtered++;
      return;
    }
    port.deliver(frame);
  }

  #learn(mac: Uint8Array, port: number): void {
    const key = formatMac(mac);
    const old = this.#table.get(key);
    if (old !== undefined) {
      if (old.port !== port) this.stats.moved++;
      this.#table.delete(key); // re-insert: most recently seen goes last
    } else {
      this.stats.learned++;
      while (this.#table.size >= this.#maxEntries) {
        const oldest = this.#table.keys().next();
        if (oldest.done === true) break;
        this.#table.delete(oldest.value);
        this.stats.evicted++;
      }
    }
    this.#table.set(key, { port, seen: this.#now() });
  }
}
