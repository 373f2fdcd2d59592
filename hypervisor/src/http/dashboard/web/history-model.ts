// SPDX-License-Identifier: Apache-2.0
/**
 * What the page keeps from the history stream: per-second message and denial counts (the rate
 * chart), per-pair message counts (the flow graph), the last denials and the tail. Everything is
 * bounded: counts older than the chart's span are dropped, lists keep their last N entries.
 * Times are the events' own (`time`), so a replayed tail lands in the right seconds.
 */

/** A history event as the page reads it (docs/harness.md, "Events"). */
export interface HistoryEvent {
  readonly seq: number;
  readonly time: string;
  readonly kind: string;
  readonly type?: string;
  readonly f?: string;
  readonly process?: number;
  readonly error?: string;
  readonly value?: {
    readonly src?: { readonly domid: number; readonly aport: number };
    readonly dst?: { readonly domid: number; readonly aport: number };
    readonly len?: number;
  } | null;
  readonly domid?: number;
  readonly state?: string;
  readonly event?: string;
  readonly name?: string;
  readonly decision?: string;
  readonly module?: string;
  readonly permission?: string;
  readonly sdomid?: number;
  readonly tdomid?: number;
  readonly scontext?: string;
  readonly tcontext?: string;
  readonly rule?: string;
  readonly stream?: string;
  readonly dropped?: number;
  readonly reason?: string;
}

/** Seconds the rate chart spans. */
export const CHART_SECONDS = 60;
/** Seconds a flow's rate is averaged over. */
export const FLOW_SECONDS = 5;
/** Events the tail keeps unfiltered, so that a filter set later still finds rare events. */
const TAIL_LENGTH = 2000;
/** Events the history panel lists (the newest that pass its filter). */
export const TAIL_SHOWN = 50;
const DENIALS_KEPT = 20;

/** Per-second counts over the last CHART_SECONDS. */
class SecondCounts {
  readonly #bySecond = new Map<number, number>();

  add(second: number): void {
    this.#bySecond.set(second, (this.#bySecond.get(second) ?? 0) + 1);
  }

  get(second: number): number {
    return this.#bySecond.get(second) ?? 0;
  }

  /** Mean per second over the `span` whole seconds before `now`. */
  rate(now: number, span: number): number {
    let sum = 0;
    for (let s = now - span; s < now; s++) sum += this.get(s);
    return sum / span;
  }

  prune(oldest: number): void {
    for (const s of this.#bySecond.keys()) if (s < oldest) this.#bySecond.delete(s);
  }
}

export interface Flow {
  readonly src: number;
  readonly dst: number;
  /** Messages (or denials) seen since the page opened. */
  total: number;
  readonly perSecond: SecondCounts;
}

function eventSecond(time: string): number {
  // RFC 3339 with nanoseconds: milliseconds are all Date needs.
  const ms = Date.parse(`${time.slice(0, 23)}Z`);
  return Number.isNaN(ms) ? 0 : Math.floor(ms / 1000);
}

export class HistoryModel {
  readonly messages = new SecondCounts();
  readonly denialsPerSecond = new SecondCounts();
  /** Delivered messages by "src-dst". */
  readonly flows = new Map<string, Flow>();
  /** MAC denials by "src-dst". */
  readonly deniedFlows = new Map<string, Flow>();
  readonly denials: HistoryEvent[] = [];
  readonly tail: HistoryEvent[] = [];
  /** The newest event's second (the chart's "now" when the state is older). */
  newestSecond = 0;
  lastSeq = 0;

  add(e: HistoryEvent): void {
    this.lastSeq = e.seq;
    const second = eventSecond(e.time);
    this.newestSecond = Math.max(this.newestSecond, second);
    pushBounded(this.tail, e, TAIL_LENGTH);
    if (e.kind === "hypercall" && e.f === "sendv" && e.type === "ok") {
      const src = e.value?.src?.domid;
      const dst = e.value?.dst?.domid;
      this.messages.add(second);
      if (src !== undefined && dst !== undefined) countFlow(this.flows, src, dst, second);
    } else if (e.kind === "mac" && e.decision === "denied") {
      this.denialsPerSecond.add(second);
      pushBounded(this.denials, e, DENIALS_KEPT);
      if (e.sdomid !== undefined && e.tdomid !== undefined)
        countFlow(this.deniedFlows, e.sdomid, e.tdomid, second);
    }
  }

  /** Forgets counts the chart no longer shows. */
  prune(now: number): void {
    const oldest = now - CHART_SECONDS - 1;
    this.messages.prune(oldest);
    this.denialsPerSecond.prune(oldest);
    for (const flow of [...this.flows.values(), ...this.deniedFlows.values()])
      flow.perSecond.prune(oldest);
  }
}

/** The history panel's filter; an empty field matches everything. */
export interface TailFilter {
  readonly kind: string;
  /** A hypercall op (`f`); when set, only hypercalls of that op pass. */
  readonly op: string;
}

export function tailMatches(e: HistoryEvent, filter: TailFilter): boolean {
  if (filter.kind !== "" && e.kind !== filter.kind) return false;
  return filter.op === "" || (e.kind === "hypercall" && e.f === filter.op);
}

/** The newest `TAIL_SHOWN` events of the tail that pass the filter, oldest first. */
export function filteredTail(tail: readonly HistoryEvent[], filter: TailFilter): HistoryEvent[] {
  const shown: HistoryEvent[] = [];
  for (let i = tail.length - 1; i >= 0 && shown.length < TAIL_SHOWN; i--) {
    const e = tail[i];
    if (e !== undefined && tailMatches(e, filter)) shown.push(e);
  }
  return shown.reverse();
}

function countFlow(flows: Map<string, Flow>, src: number, dst: number, second: number): void {
  const key = `${src}-${dst}`;
  let flow = flows.get(key);
  if (flow === undefined) {
    flow = { src, dst, total: 0, perSecond: new SecondCounts() };
    flows.set(key, flow);
  }
  flow.total++;
  flow.perSecond.add(second);
}

function pushBounded<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length > max) list.splice(0, list.length - max);
}
