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
import { Counter, Gauge, Histogram, Registry } from "prom-client";
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

/** The `result` label: `ok`, the errno's name (`EAGAIN`), or the gRPC status's name. */
export function resultLabel(result: HypercallResult): string {
  if (result.op === "status") return STATUS_NAMES.get(result.code) ?? `status_${result.code}`;
  if (result.ret >= 0) return "ok";
  return ERRNO_NAMES.get(-result.ret) ?? `errno_${-result.ret}`;
}

/** Hypercall latencies span a memory copy (µs) to a full ring write (ms). */
const LATENCY_BUCKETS = [5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2];

type CounterChild = ReturnType<Counter<"op" | "result">["labels"]>;
type HistogramChild = ReturnType<Histogram<"op">["labels"]>;

export class HmxMetrics {
  readonly registry = new Registry();
  readonly #hypercalls: Counter<"op" | "result">;
  readonly #latency: Histogram<"op">;
  readonly #bytesCopied: Counter;
  readonly #messages: Counter;
  readonly #virqs: Counter;
  readonly #macDenials: Counter<"module" | "permission">;
  /** op → result label → child; results are keyed by the result's number (ret or status). */
  readonly #hypercallChildren = new Map<string, Map<number, CounterChild>>();
  readonly #latencyChildren = new Map<string, HistogramChild>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    this.#hypercalls = new Counter({
      name: "hmx_hypercalls_total",
      help: "Hypercalls executed, by op and result (ok, an errno name, or a gRPC status name).",
      labelNames: ["op", "result"],
      registers,
    });
    this.#latency = new Histogram({
      name: "hmx_hypercall_duration_seconds",
      help: "Time the hypervisor spent executing a hypercall, by op.",
      labelNames: ["op"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#bytesCopied = new Counter({
      name: "hmx_bytes_copied_total",
      help: "Argo payload bytes copied from senders into receivers' rings.",
      registers,
    });
    this.#messages = new Counter({
      name: "hmx_messages_total",
      help: "Argo messages delivered into rings (successful sendv).",
      registers,
    });
    this.#virqs = new Counter({
      name: "hmx_virqs_total",
      help: "VIRQs delivered to guests (coalesced per domain, as an event channel does).",
      registers,
    });
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
    let byResult = this.#hypercallChildren.get(op);
    if (byResult === undefined) {
      byResult = new Map();
      this.#hypercallChildren.set(op, byResult);
    }
    // Status codes are positive and rets of results with a status are absent: key statuses
    // below every errno so the two never collide.
    const key = result.op === "status" ? -1_000_000 - result.code : Math.min(result.ret, 0);
    let child = byResult.get(key);
    if (child === undefined) {
      child = this.#hypercalls.labels(op, resultLabel(result));
      byResult.set(key, child);
    }
    child.inc();
    let latency = this.#latencyChildren.get(op);
    if (latency === undefined) {
      latency = this.#latency.labels(op);
      this.#latencyChildren.set(op, latency);
    }
    latency.observe(seconds);
    if (result.op === "sendv" && result.ret >= 0) {
      this.#messages.inc();
      this.#bytesCopied.inc(result.ret);
    }
  }

  virq(): void {
    this.#virqs.inc();
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
