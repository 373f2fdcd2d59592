// SPDX-License-Identifier: Apache-2.0
/**
 * The Prometheus metrics of `GET /metrics` (DESIGN §3.4), in a registry of their own (never
 * prom-client's global one, so two hypervisors in one process do not mix). Names start with
 * `hmx_`; no label holds a credential, and label sets are bounded: ops and errno names are
 * fixed sets, domids only of live domains. Counters on the hot path go through label children
 * resolved once per (op, result) and cached here, so a hypercall allocates no label object;
 * gauges that mirror state (domains, rings, links) are read at scrape time instead.
 */
import { Errno } from "@hmx/proto/abi";
import { status as grpcStatus } from "@grpc/grpc-js";
import { Counter, Gauge, Histogram, Registry, type MetricType } from "prom-client";
import type { HypercallOpName, HypercallResult } from "../dispatch/hypercall.js";
import type { StreamKind } from "./observer.js";

/** What the scrape-time gauges read. */
export interface MetricSources {
  /** Live domains' ids. */
  domids(): readonly number[];
  /** Rings the domain owns. */
  ringCount(domid: number): number;
  /** Guest streams of a kind the domain holds open. */
  streams(domid: number, kind: StreamKind): number;
  /** Faults currently injected (0 until a fault controller exists). */
  activeFaults(): number;
  /** History book-keeping, when the history is on. */
  readonly history?: () => {
    events: number;
    subscribers: number;
    dropped: number;
    closed: number;
    queueBytes: number;
    peakQueueBytes: number;
  };
}

const ERRNO_NAMES = new Map<number, string>(
  Object.entries(Errno).map(([name, value]) => [value, name]),
);
const STATUS_NAMES = new Map<number, string>(
  Object.entries(grpcStatus)
    .filter((e): e is [string, number] => typeof e[1] === "number")
    .map(([name, value]) => [value, name]),
);

/** A failed hypercall's negative `ret` as its errno's name (`EAGAIN`), or `errno_N`. */
export function errnoLabel(ret: number): string {
  return ERRNO_NAMES.get(-ret) ?? `errno_${-ret}`;
}

/** The `result` label: `ok`, the errno's name (`EAGAIN`), or the gRPC status's name. */
export function resultLabel(result: HypercallResult): string {
  if (result.op === "status") return STATUS_NAMES.get(result.code) ?? `status_${result.code}`;
  if (result.ret >= 0) return "ok";
  return errnoLabel(result.ret);
}

const LATENCY_NAME = "hmx_hypercall_duration_seconds";
const LATENCY_HELP = "Time the hypervisor spent executing a hypercall, by op.";
/** Hypercall latencies span a memory copy (µs) to a full ring write (ms). */
const LATENCY_BUCKETS = [5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2];

/** A result's counter key: 0 for ok, -errno, or below every errno for a gRPC status. */
function resultKey(result: HypercallResult): number {
  return result.op === "status" ? -1_000_000 - result.code : Math.min(result.ret, 0);
}

function keyLabel(key: number): string {
  if (key === 0) return "ok";
  if (key <= -1_000_000) {
    const code = -1_000_000 - key;
    return STATUS_NAMES.get(code) ?? `status_${code}`;
  }
  return errnoLabel(key);
}

/** One op's hot-path tallies: results and latency buckets, in plain fields and arrays. */
class OpTally {
  /** Results other than ok, by `resultKey`. */
  readonly failures = new Map<number, number>();
  readonly buckets = new Float64Array(LATENCY_BUCKETS.length);
  ok = 0;
  sum = 0;
  count = 0;

  constructor(readonly op: string) {}

  add(result: HypercallResult, seconds: number): void {
    const key = resultKey(result);
    if (key === 0) this.ok++;
    else this.failures.set(key, (this.failures.get(key) ?? 0) + 1);
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[i] ?? Infinity)) i++;
    if (i < LATENCY_BUCKETS.length) this.buckets[i] = (this.buckets[i] ?? 0) + 1;
    this.sum += seconds;
    this.count++;
  }
}

/** Per-op latency buckets from the tallies; exposed in prom-client's histogram format. */
class LatencyHistogram extends Histogram<"op"> {
  #byOp: ReadonlyMap<string, OpTally> = new Map();

  /** Where the buckets are kept (set once, by HmxMetrics). */
  readFrom(tallies: ReadonlyMap<string, OpTally>): void {
    this.#byOp = tallies;
  }

  /**
   * The samples from the arrays above, in prom-client's histogram shape. The registry reads
   * `getForPromString` for the text format (an untyped method of prom-client's Histogram) and
   * `get` for JSON; both come here.
   */
  getForPromString(): ReturnType<Histogram<"op">["get"]> {
    const name = LATENCY_NAME;
    const values: Awaited<ReturnType<Histogram<"op">["get"]>>["values"] = [];
    for (const [op, h] of this.#byOp) {
      let cumulative = 0;
      for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
        cumulative += h.buckets[i] ?? 0;
        values.push({
          labels: le(op, LATENCY_BUCKETS[i] ?? 0),
          value: cumulative,
          metricName: `${name}_bucket`,
        });
      }
      values.push({ labels: le(op, "+Inf"), value: h.count, metricName: `${name}_bucket` });
      values.push({ labels: { op }, value: h.sum, metricName: `${name}_sum` });
      values.push({ labels: { op }, value: h.count, metricName: `${name}_count` });
    }
    return Promise.resolve({
      name,
      help: LATENCY_HELP,
      type: "histogram" as unknown as MetricType,
      aggregator: "sum",
      collect: () => undefined,
      values,
    });
  }

  override get(): ReturnType<Histogram<"op">["get"]> {
    return this.getForPromString();
  }
}

/** A bucket's labels: prom-client's histograms carry `le` beside the declared labels. */
function le(op: string, bound: number | string): Record<string, string | number> {
  return { op, le: bound };
}

export class HmxMetrics {
  readonly registry = new Registry();
  readonly #macDenials: Counter<"module" | "permission">;
  readonly #latency: LatencyHistogram;
  /**
   * The hot path's own tallies, per op (prom-client's labelled inc/observe hash their labels on
   * every call, about a microsecond each here); the counters below copy them out at scrape
   * time. Calls come in runs of one op, so the last op's tally is kept at hand: one string
   * compare instead of a Map lookup.
   */
  readonly #ops = new Map<string, OpTally>();
  #lastOp: OpTally = new OpTally("");
  #bytesCopied = 0;
  #messages = 0;
  #virqs = 0;

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    const tallies = this.#ops;
    new Counter({
      name: "hmx_hypercalls_total",
      help: "Hypercalls executed, by op and result (ok, an errno name, or a gRPC status name).",
      labelNames: ["op", "result"],
      registers,
      collect() {
        this.reset();
        for (const [op, t] of tallies) {
          if (t.ok > 0) this.inc({ op, result: "ok" }, t.ok);
          for (const [key, n] of t.failures) this.inc({ op, result: keyLabel(key) }, n);
        }
      },
    });
    this.#latency = new LatencyHistogram({
      name: LATENCY_NAME,
      help: LATENCY_HELP,
      labelNames: ["op"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#latency.readFrom(tallies);
    const total = (name: string, help: string, read: () => number): void => {
      new Counter({
        name,
        help,
        registers,
        collect() {
          this.reset();
          this.inc(read());
        },
      });
    };
    total(
      "hmx_bytes_copied_total",
      "Argo payload bytes copied from senders into receivers' rings.",
      () => this.#bytesCopied,
    );
    total(
      "hmx_messages_total",
      "Argo messages delivered into rings (successful sendv).",
      () => this.#messages,
    );
    total(
      "hmx_virqs_total",
      "VIRQs delivered to guests (coalesced per domain, as an event channel does).",
      () => this.#virqs,
    );
    this.#macDenials = new Counter({
      name: "hmx_mac_denials_total",
      help: "MAC denials audited, by deciding module and permission.",
      labelNames: ["module", "permission"],
      registers,
    });
    new Gauge({
      name: "hmx_domains",
      help: "Live domains.",
      registers,
      collect() {
        this.set(sources.domids().length);
      },
    });
    new Gauge({
      name: "hmx_rings",
      help: "Registered Argo rings, by owning domain.",
      labelNames: ["domid"],
      registers,
      collect() {
        this.reset();
        for (const d of sources.domids()) this.set({ domid: String(d) }, sources.ringCount(d));
      },
    });
    new Gauge({
      name: "hmx_link_up",
      help: "1 while the domain's guest holds at least one stream open to the hypervisor.",
      labelNames: ["domid"],
      registers,
      collect() {
        this.reset();
        for (const d of sources.domids()) {
          const open = sources.streams(d, "session") + sources.streams(d, "watch");
          this.set({ domid: String(d) }, open > 0 ? 1 : 0);
        }
      },
    });
    new Gauge({
      name: "hmx_guest_streams",
      help: "Guest streams open, by domain and kind (session or watch).",
      labelNames: ["domid", "kind"],
      registers,
      collect() {
        this.reset();
        for (const d of sources.domids())
          for (const kind of ["session", "watch"] as const)
            this.set({ domid: String(d), kind }, sources.streams(d, kind));
      },
    });
    new Gauge({
      name: "hmx_faults_active",
      help: "Link faults currently injected.",
      registers,
      collect() {
        this.set(sources.activeFaults());
      },
    });
    if (sources.history !== undefined) this.#historyGauges(sources.history, registers);
  }

  hypercall(op: HypercallOpName, result: HypercallResult, seconds: number): void {
    let tally = this.#lastOp;
    if (tally.op !== op) {
      let known = this.#ops.get(op);
      if (known === undefined) {
        known = new OpTally(op);
        this.#ops.set(op, known);
      }
      tally = known;
      this.#lastOp = tally;
    }
    tally.add(result, seconds);
    if (result.op === "sendv" && result.ret >= 0) {
      this.#messages++;
      this.#bytesCopied += result.ret;
    }
  }

  virq(): void {
    this.#virqs++;
  }

  macDenial(module: string, permission: string): void {
    this.#macDenials.labels(module, permission).inc();
  }

  #historyGauges(read: NonNullable<MetricSources["history"]>, registers: Registry[]): void {
    const gauge = (name: string, help: string, pick: (h: ReturnType<typeof read>) => number) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(pick(read()));
        },
      });
    gauge("hmx_history_events", "Events recorded in the history so far.", (h) => h.events);
    gauge("hmx_history_subscribers", "Live history subscribers.", (h) => h.subscribers);
    gauge(
      "hmx_history_dropped_events",
      "Events subscribers missed because they fell behind (each told with a gap event).",
      (h) => h.dropped,
    );
    gauge(
      "hmx_history_closed_subscribers",
      "Subscribers closed for falling behind.",
      (h) => h.closed,
    );
    gauge(
      "hmx_history_queue_bytes",
      "Largest queue any history subscriber holds now (bytes).",
      (h) => h.queueBytes,
    );
    gauge(
      "hmx_history_queue_peak_bytes",
      "Largest queue any history subscriber has held (bytes); bounded by design.",
      (h) => h.peakQueueBytes,
    );
  }
}
