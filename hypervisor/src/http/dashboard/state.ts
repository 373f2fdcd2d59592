// SPDX-License-Identifier: Apache-2.0
/**
 * `GET /v1/state`: a snapshot of what the history does not carry, read from the live registry,
 * the Argo rings and the link-fault layer when asked (a page polls it about once a second), so
 * nothing here costs the data path.
 */
import type { Registry } from "prom-client";
import type { Domain } from "../../domain/domain.js";
import type { RingSnapshot } from "../../argo/argo.js";
import type { LinkView } from "../../faults/link-faults.js";
import type { StreamKind } from "../../observability/observer.js";
import type { DashboardState, RingState } from "./web/state-types.js";

/** What the snapshot reads; the hypervisor wires these to its core. */
export interface StateSources {
  /** Live domains. */
  domains(): readonly Domain[];
  /** Rings the domain owns. */
  rings(domain: Domain): readonly RingSnapshot[];
  /** Guest streams of a kind the domain holds open. */
  streams(domid: number, kind: StreamKind): number;
  /** Every guest link, or undefined without the link-fault layer. */
  links(): readonly LinkView[] | undefined;
}

/** The history's bounds, as the page needs them to resume its tail. */
export interface HistoryBounds {
  readonly oldestSeq: number;
  readonly nextSeq: number;
}

/**
 * The bytes in use of a ring: tx − rx modulo len. The guest writes rx_ptr, so it is taken
 * modulo len too: a hostile value must not make the page draw a ring fuller than full.
 */
export function ringUsedBytes(ring: Pick<RingSnapshot, "len" | "txPtr" | "rxPtr">): number {
  if (ring.len <= 0) return 0;
  const rx = ring.rxPtr % ring.len;
  return (ring.txPtr - rx + ring.len) % ring.len;
}

function ringState(ring: RingSnapshot): RingState {
  return {
    aport: ring.aport,
    partner: ring.partnerId,
    len: ring.len,
    used: ringUsedBytes(ring),
    waiters: ring.waiters.length,
  };
}

/** The sum of a metric's samples (0 when it has none yet); runs its scrape-time collect. */
async function total(registry: Registry, name: string): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (metric === undefined) return 0;
  const { values } = await metric.get();
  return values.reduce((sum, v) => sum + v.value, 0);
}

export async function readState(
  sources: StateSources,
  history: HistoryBounds,
  metrics: Registry,
): Promise<DashboardState> {
  const domains = sources.domains().map((d) => {
    const session = sources.streams(d.domid, "session");
    const watch = sources.streams(d.domid, "watch");
    return {
      domid: d.domid,
      name: d.name,
      label: d.label,
      link: session + watch > 0 ? ("up" as const) : ("down" as const),
      streams: { session, watch },
      rings: sources
        .rings(d)
        .map(ringState)
        .sort((a, b) => a.aport - b.aport),
    };
  });
  const links = sources.links();
  const faults =
    links
      ?.filter((link) => !link.enabled || link.toxics.length > 0)
      .map((link) => ({
        domain: link.name,
        enabled: link.enabled,
        toxics: link.toxics.map(({ name, type, stream }) => ({ name, type, stream })),
      })) ?? null;
  const [messages, bytes, macDenials, virqs] = await Promise.all(
    [
      "hmx_messages_total",
      "hmx_bytes_copied_total",
      "hmx_mac_denials_total",
      "hmx_virqs_total",
    ].map((name) => total(metrics, name)),
  );
  return {
    time: new Date().toISOString(),
    history: { oldestSeq: history.oldestSeq, nextSeq: history.nextSeq },
    domains,
    faults,
    totals: {
      messages: messages ?? 0,
      bytes: bytes ?? 0,
      macDenials: macDenials ?? 0,
      virqs: virqs ?? 0,
    },
  };
}
