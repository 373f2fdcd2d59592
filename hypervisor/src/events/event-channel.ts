// SPDX-License-Identifier: Apache-2.0
/**
 * The per-domain event channel that carries VIRQ_ARGO (Xen: `send_guest_domain_virq`).
 *
 * Event-channel semantics: a raise sets the domain's pending bit; delivery clears it. Raises
 * that happen before delivery coalesce into one event, so a burst of a thousand sendvs costs the
 * receiver one event, not a thousand. Delivery waits until the hypercall has returned, so a
 * hypercall never writes to a stream while it is still running (Xen: "signals are sent only
 * after the locks are dropped"): the scheduler calls `deliverNow` at the end of the round that
 * ran it (dispatch/scheduler.ts `roundEnded`), so the event leaves in the same event-loop turn
 * as the sender's results, one turn earlier than a `setImmediate` queued inside that round
 * would run; a raise outside any round (a toolstack call, a released pause) is delivered on
 * the next `setImmediate`. Either way every raise of a round is one event. A domain with no
 * watcher attached keeps its bit set until one attaches, so a guest whose link dropped still
 * learns, on reconnect, that something happened.
 */
import { VIRQ_ARGO } from "@hmx/proto/abi";
import type { VirqSink } from "../argo/types.js";
import { NOOP_OBSERVER, type Observer } from "../observability/observer.js";

/**
 * A virtio device appeared in or left a domain's device table (docs/virtio-argo.md
 * "Discovery"); `hmx.argo.v1.DeviceEvent` without the proto types.
 */
export interface DeviceEvent {
  readonly kind: "added" | "removed";
  readonly devIndex: number;
  readonly virtioDeviceId: number;
  readonly peerDomid: number;
  /** 1 = the domain is the front end, 2 = it hosts the back end. */
  readonly role: number;
  readonly tableGeneration: number;
}

/** Device events kept per domain while nobody watches (the oldest are dropped beyond it). */
const MAX_PENDING_DEVICE_EVENTS = 64;

/** A live consumer of a domain's events: a WatchEvents stream or a Session stream. */
export interface EventWatcher {
  deliverVirq(virq: number): void;
  /** Device hot-add / removal; watchers without it never see device events. */
  deliverDevice?(event: DeviceEvent): void;
}

/**
 * Argo-level faults on delivery (faults/argo-faults.ts), consulted only while `active`: a late
 * VIRQ (Xen: the event is delivered when the vCPU next runs) and a paused domain (its pending
 * bit stays set until it is unpaused, as an `xl pause`d guest's does).
 */
export interface VirqFaults {
  readonly active: boolean;
  /** Milliseconds a VIRQ raised now for the domain is late (0: on time). */
  lateMs(domid: number): number;
  /** True while the domain is paused. */
  held(domid: number): boolean;
}

export class EventChannel implements VirqSink {
  private readonly pending = new Set<number>();
  private readonly watchers = new Map<number, Set<EventWatcher>>();
  private readonly pendingDevices = new Map<number, DeviceEvent[]>();
  /** The deferred flush queued by a raise, until it runs or `deliverNow` takes its place. */
  private flushImmediate: NodeJS.Immediate | undefined;
  private faults: VirqFaults | undefined;
  /** Late raises in flight, one per domain: later raises coalesce into it like the bit does. */
  private readonly late = new Map<number, NodeJS.Timeout>();

  /** `observer` sees each VIRQ as delivered (after coalescing), for history and metrics. */
  constructor(private readonly observer: Observer = NOOP_OBSERVER) {}

  /** Attaches the Argo-level fault engine; none by default. */
  attachFaults(faults: VirqFaults): void {
    this.faults = faults;
  }

  raiseVirq(domid: number): void {
    if (this.faults?.active === true) {
      const ms = this.faults.lateMs(domid);
      if (ms > 0) {
        if (!this.late.has(domid)) {
          const timer = setTimeout(() => {
            this.late.delete(domid);
            this.raiseNow(domid);
          }, ms);
          timer.unref();
          this.late.set(domid, timer);
        }
        return;
      }
    }
    this.raiseNow(domid);
  }

  private raiseNow(domid: number): void {
    this.pending.add(domid);
    if (this.watchers.has(domid)) this.scheduleFlush();
  }

  /**
   * Queues a device event for the domain, delivered like a VIRQ (after the current call, to
   * every watcher). Unlike the VIRQ bit, device events do not coalesce: each is its own record,
   * bounded per domain — the guest re-reads its table on any of them, so a dropped one loses
   * nothing but the hint.
   */
  raiseDeviceEvent(domid: number, event: DeviceEvent): void {
    let list = this.pendingDevices.get(domid);
    if (list === undefined) {
      list = [];
      this.pendingDevices.set(domid, list);
    }
    list.push(event);
    if (list.length > MAX_PENDING_DEVICE_EVENTS)
      list.splice(0, list.length - MAX_PENDING_DEVICE_EVENTS);
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
    if (this.pending.has(domid) || this.pendingDevices.has(domid)) this.scheduleFlush();
    return () => {
      const current = this.watchers.get(domid);
      if (current === undefined) return;
      current.delete(watcher);
      if (current.size === 0) this.watchers.delete(domid);
    };
  }

  /** Delivers what a paused domain's pending bit held back, now that it runs again. */
  release(domid: number): void {
    if (this.pending.has(domid) && this.watchers.has(domid)) this.scheduleFlush();
  }

  /** True while at least one watcher of the domain is attached. */
  isWatched(domid: number): boolean {
    return this.watchers.has(domid);
  }

  /** Forgets a destroyed domain: its pending bit goes; its watchers are ended by their owners. */
  forget(domid: number): void {
    this.pending.delete(domid);
    this.pendingDevices.delete(domid);
    clearTimeout(this.late.get(domid));
    this.late.delete(domid);
  }

  /**
   * Delivers now what the deferred flush would. Only for a caller that knows no hypercall is
   * running: the scheduler, once every step of its round has returned.
   */
  deliverNow(): void {
    if (this.flushImmediate === undefined) return;
    clearImmediate(this.flushImmediate);
    this.flushImmediate = undefined;
    this.flush();
  }

  private scheduleFlush(): void {
    if (this.flushImmediate !== undefined) return;
    this.flushImmediate = setImmediate(() => {
      this.flushImmediate = undefined;
      this.flush();
    });
  }

  private flush(): void {
    for (const domid of this.pending) {
      const set = this.watchers.get(domid);
      if (set === undefined) continue;
      if (this.faults?.active === true && this.faults.held(domid)) continue;
      this.pending.delete(domid);
      this.observer.virq(domid, VIRQ_ARGO);
      for (const watcher of set) watcher.deliverVirq(VIRQ_ARGO);
    }
    for (const [domid, events] of this.pendingDevices) {
      const set = this.watchers.get(domid);
      if (set === undefined) continue;
      this.pendingDevices.delete(domid);
      for (const event of events) for (const watcher of set) watcher.deliverDevice?.(event);
    }
  }
}
