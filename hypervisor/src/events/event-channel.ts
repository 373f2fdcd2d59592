// SPDX-License-Identifier: Apache-2.0
/**
 * The per-domain event channel that carries VIRQ_ARGO (Xen: `send_guest_domain_virq`).
 *
 * Event-channel semantics: a raise sets the domain's pending bit; delivery clears it. Raises
 * that happen before delivery coalesce into one event, so a burst of a thousand sendvs costs the
 * receiver one event, not a thousand. Delivery is deferred to `setImmediate` so that a hypercall
 * never writes to a stream while it is still running (Xen: "signals are sent only after the
 * locks are dropped"). A domain with no watcher attached keeps its bit set until one attaches,
 * so a guest whose link dropped still learns, on reconnect, that something happened.
 */
import { VIRQ_ARGO } from "@hmx/proto/abi";
import type { VirqSink } from "../argo/types.js";

/** A live consumer of a domain's events: a WatchEvents stream or a Session stream. */
export interface EventWatcher {
  deliverVirq(virq: number): void;
}

export class EventChannel implements VirqSink {
  private readonly pending = new Set<number>();
  private readonly watchers = new Map<number, Set<EventWatcher>>();
  private flushScheduled = false;
  raiseVirq(domid: number): void {
    this.pending.add(domid);
    if (this.watchers.has(domid)) this.scheduleFlush();
  }

  /** Attaches a watcher; a VIRQ left pending while nobody watched is delivered to it. */
  attach(domid: number, watcher: EventWatcher): () => void {
    let set = this.watchers.get(domid);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(domid, set);
    }
    set.add(watcher);
    if (this.pending.has(domid)) this.scheduleFlush();
    return () => {
      const current = this.watchers.get(domid);
      if (current === undefined) return;
      current.delete(watcher);
      if (current.size === 0) this.watchers.delete(domid);
    };
  }

  /** True while at least one watcher of the domain is attached. */
  isWatched(domid: number): boolean {
    return this.watchers.has(domid);
  }

  /** Forgets a destroyed domain: its pending bit goes; its watchers are ended by their owners. */
  forget(domid: number): void {
    this.pending.delete(domid);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    for (const domid of this.pending) {
      const set = this.watchers.get(domid);
      if (set === undefined) continue;
      this.pending.delete(domid);
      for (const watcher of set) watcher.deliverVirq(VIRQ_ARGO);
    }
  }
}
