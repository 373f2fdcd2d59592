// SPDX-License-Identifier: Apache-2.0
/**
 * The Argo-level fault engine: partitions, -EAGAIN storms, slow hypercalls, late VIRQs and
 * paused domains between domains or groups of domains. Each fault shows a guest only what a real
 * Xen Argo system can show it (DESIGN §3.5, docs/chaos.md):
 *
 * - a partition is a ring that stays full (-EAGAIN, a space waiter, the VIRQ at the heal) or a
 *   ring that is gone (-ECONNREFUSED, as after the receiver unregistered it);
 * - an -EAGAIN storm is a ring that was full at that instant: the sender's waiter fires a moment
 *   later, as a draining receiver's notify would fire it;
 * - a delay is a slow hypervisor: the domain's hypercalls start late, in order;
 * - a late VIRQ is an event delivered when the vCPU next runs;
 * - a paused domain runs no hypercall and receives no VIRQ until it is unpaused (`xl pause`);
 *   its senders see its rings fill, nothing else.
 *
 * The hooks (argo.ts, event-channel.ts, faulting-scheduler.ts) read `active` first, so with no
 * fault the engine costs one property read per call. Chance (the storm's draws, jitter) comes
 * from the seeded generator; every start and end is a `FaultEvent`.
 */
import type { Logger } from "pino";
import { Errno } from "@hmx/proto/abi";
import type { SendFaults } from "../argo/types.js";
import type { Domain } from "../domain/domain.js";
import type { DomainRegistry } from "../domain/domain-registry.js";
import type { VirqFaults } from "../events/event-channel.js";
import { argoFaultJson, parseArgoFaultSpec, type ArgoFaultSpec } from "./argo-fault-spec.js";
import { FaultEvents, type FaultEventListener } from "./fault-events.js";
import { seededRandom } from "./seeded-random.js";
import { FaultRequestError } from "./toxic-spec.js";

interface ActiveArgoFault {
  readonly id: string;
  readonly spec: ArgoFaultSpec;
  readonly from: ReadonlySet<number>;
  /** The destinations; undefined means every other domain. */
  readonly to: ReadonlySet<number> | undefined;
  readonly startedAt: number;
  timer?: NodeJS.Timeout;
}

/** An Argo fault as listings and the toolstack show it. */
export interface ArgoFaultView {
  readonly id: string;
  readonly spec: ArgoFaultSpec;
  /** Milliseconds since the epoch. */
  readonly startedAt: number;
}

export interface ArgoFaultsOptions {
  readonly registry: DomainRegistry;
  /** Seed of every chance draw (the storm's refusals, jitter). */
  readonly seed: number;
  readonly log: Logger;
  /** Fires the space waiters on a domain's rings (Argo.wakeWaiters). */
  readonly wakeWaiters: (domain: Domain) => void;
  /** A fault that held a domain back (pause, delay) ended: run what it held. */
  readonly released: (domid: number) => void;
}

export class ArgoFaults implements SendFaults, VirqFaults {
  private readonly faults = new Map<string, ActiveArgoFault>();
  private readonly events: FaultEvents;
  private readonly random: () => number;
  /** A storm's pending space VIRQs, one per destination domain. */
  private readonly wakes = new Map<number, NodeJS.Timeout>();
  private paused: ReadonlySet<number> = new Set();
  private nextId = 1;
  /** True while any fault is in force: the hooks look no further when it is false. */
  active = false;

  constructor(private readonly options: ArgoFaultsOptions) {
    this.random = seededRandom(options.seed);
    this.events = new FaultEvents("argo", options.log);
    // A destroyed domain's faults end with it (a name may come back as another domain).
    options.registry.addHooks({
      destroying: (d) => {
        for (const fault of [...this.faults.values()])
          if (fault.from.has(d.domid) || fault.to?.has(d.domid) === true) this.end(fault);
      },
    });
  }

  get seed(): number {
    return this.options.seed;
  }

  /** Subscribes to fault events; returns the unsubscribe function. */
  onFaultEvent(listener: FaultEventListener): () => void {
    return this.events.on(listener);
  }

  /** Starts a fault from its JSON form; a bad spec or an unknown domain changes nothing. */
  apply(body: Readonly<Record<string, unknown>>): ArgoFaultView {
    const spec = parseArgoFaultSpec(body);
    const from = this.resolve(spec.from);
    const to = spec.to.length === 0 ? undefined : this.resolve(spec.to);
    const fault: ActiveArgoFault = {
      id: `argo-${this.nextId++}`,
      spec,
      from,
      to,
      startedAt: Date.now(),
    };
    if (spec.durationMs > 0) {
      fault.timer = setTimeout(() => {
        this.end(fault);
      }, spec.durationMs);
      fault.timer.unref();
    }
    this.faults.set(fault.id, fault);
    this.changed();
    this.events.emit("start", describeTarget(spec), fault.id, argoFaultJson(spec));
    return view(fault);
  }

  /** Ends one fault, or throws a 404 naming the id. */
  clear(id: string): void {
    const fault = this.faults.get(id);
    if (fault === undefined) {
      throw new FaultRequestError(`no Argo fault with id ${JSON.stringify(id)}`, 404);
    }
    this.end(fault);
  }

  /** Ends every fault; returns how many there were. */
  clearAll(): number {
    const all = [...this.faults.values()];
    for (const fault of all) this.end(fault);
    return all.length;
  }

  list(): ArgoFaultView[] {
    return [...this.faults.values()].map(view);
  }

  get size(): number {
    return this.faults.size;
  }

  sendv(sender: Domain, dst: Domain): number {
    for (const fault of this.faults.values()) {
      const { type } = fault.spec;
      if (type === "partition" && cuts(fault, sender.domid, dst.domid)) {
        return fault.spec.show === "full" ? -Errno.EAGAIN : -Errno.ECONNREFUSED;
      }
      if (
        type === "eagain" &&
        reaches(fault, sender.domid, dst.domid) &&
        this.random() < fault.spec.probability
      ) {
        this.wakeSoon(dst, fault.spec.delayMs);
        return -Errno.EAGAIN;
      }
    }
    return 0;
  }

  query(sender: Domain, dst: Domain): number {
    for (const fault of this.faults.values()) {
      if (fault.spec.type === "partition" && cuts(fault, sender.domid, dst.domid)) {
        return fault.spec.show === "full" ? -Errno.EAGAIN : -Errno.ECONNREFUSED;
      }
    }
    return 0;
  }

  lateMs(domid: number): number {
    return this.lateness("late_virq", domid);
  }

  held(domid: number): boolean {
    return this.paused.has(domid);
  }

  /** True while the domain is paused: the scheduler runs none of its hypercalls. */
  isPaused(domid: number): boolean {
    return this.paused.size !== 0 && this.paused.has(domid);
  }

  /** Milliseconds a hypercall of the domain queued now waits before it starts (0: none). */
  hypercallDelayMs(domid: number): number {
    return this.lateness("delay", domid);
  }

  /** The largest delay a fault of `type` puts on the domain, with its jitter drawn. */
  private lateness(type: "delay" | "late_virq", domid: number): number {
    let ms = 0;
    for (const fault of this.faults.values()) {
      if (fault.spec.type !== type || !fault.from.has(domid)) continue;
      const { delayMs, jitterMs } = fault.spec;
      const drawn =
        jitterMs === 0 ? delayMs : delayMs + Math.round((this.random() * 2 - 1) * jitterMs);
      ms = Math.max(ms, drawn);
    }
    return ms;
  }

  /** The storm's refused sender gets its space VIRQ `ms` later, as after a receiver's notify. */
  private wakeSoon(dst: Domain, ms: number): void {
    if (this.wakes.has(dst.domid)) return;
    const timer = setTimeout(() => {
      this.wakes.delete(dst.domid);
      if (dst.alive) this.options.wakeWaiters(dst);
    }, ms);
    timer.unref();
    this.wakes.set(dst.domid, timer);
  }

  private resolve(names: readonly string[]): Set<number> {
    const domids = new Set<number>();
    for (const name of names) {
      const domain = this.options.registry.byName(name);
      if (domain === undefined) {
        throw new FaultRequestError(`no live domain named ${JSON.stringify(name)}`, 404);
      }
      domids.add(domain.domid);
    }
    return domids;
  }

  private end(fault: ActiveArgoFault): void {
    if (!this.faults.delete(fault.id)) return;
    clearTimeout(fault.timer);
    this.changed();
    const { type } = fault.spec;
    if (type === "pause" || type === "delay") {
      for (const domid of fault.from) this.options.released(domid);
    }
    if (type === "partition" && fault.spec.show === "full") {
      // The heal: senders parked on a ring that showed full get the VIRQ a drained ring gives.
      const cut =
        fault.to === undefined
          ? undefined
          : fault.spec.bothWays
            ? new Set([...fault.from, ...fault.to])
            : fault.to;
      for (const d of this.options.registry.list())
        if (cut === undefined || cut.has(d.domid)) this.options.wakeWaiters(d);
    }
    this.events.emit("end", describeTarget(fault.spec), fault.id, argoFaultJson(fault.spec));
  }

  private changed(): void {
    this.active = this.faults.size > 0;
    const paused = new Set<number>();
    for (const fault of this.faults.values())
      if (fault.spec.type === "pause") for (const domid of fault.from) paused.add(domid);
    this.paused = paused;
  }
}

/** A partition cuts sender → dst (and dst → sender when both ways); never a domain from itself. */
function cuts(fault: ActiveArgoFault, sender: number, dst: number): boolean {
  return reaches(fault, sender, dst) || (fault.spec.bothWays && reaches(fault, dst, sender));
}

/** The fault acts on sends from `sender` to `dst`. */
function reaches(fault: ActiveArgoFault, sender: number, dst: number): boolean {
  return sender !== dst && fault.from.has(sender) && (fault.to === undefined || fault.to.has(dst));
}

function describeTarget(spec: ArgoFaultSpec): string {
  const from = spec.from.join(",");
  if (spec.type !== "partition" && spec.type !== "eagain") return from;
  const to = spec.to.length === 0 ? "*" : spec.to.join(",");
  return `${from}${spec.type === "partition" && spec.bothWays ? "<->" : "->"}${to}`;
}

function view(fault: ActiveArgoFault): ArgoFaultView {
  return { id: fault.id, spec: fault.spec, startedAt: fault.startedAt };
}
