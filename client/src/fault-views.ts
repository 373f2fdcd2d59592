// SPDX-License-Identifier: Apache-2.0
/**
 * Faults as the toolstack client shows them (docs/chaos.md): plain objects with the engine's
 * own field names, converted to and from the wire's `FaultSpec` / `FaultInfo` / `FaultEvent`.
 * A link toxic travels in Toxiproxy's JSON, so the same object works with a Toxiproxy client.
 */
import type { FaultEvent__Output } from "@hmx/proto/gen/hmx/toolstack/v1/FaultEvent.js";
import type { FaultInfo__Output } from "@hmx/proto/gen/hmx/toolstack/v1/FaultInfo.js";
import type { FaultSpec } from "@hmx/proto/gen/hmx/toolstack/v1/FaultSpec.js";

export type ArgoFaultType = "partition" | "eagain" | "delay" | "late_virq" | "pause";

/** An Argo-level fault; fields a type does not use are left out. */
export interface ArgoFaultView {
  readonly type: ArgoFaultType;
  readonly from: readonly string[];
  readonly to?: readonly string[];
  readonly bothWays?: boolean;
  readonly show?: "full" | "refused";
  readonly probability?: number;
  readonly delayMs?: number;
  readonly jitterMs?: number;
}

/** A Toxiproxy toxic: `{type, name, stream, toxicity, attributes}`. */
export interface ToxicView {
  readonly type: string;
  readonly name?: string;
  readonly stream?: "upstream" | "downstream";
  readonly toxicity?: number;
  readonly attributes?: Readonly<Record<string, number>>;
}

/** A fault on one domain's link: down, or one toxic. */
export interface LinkFaultView {
  readonly domain: string;
  readonly down?: boolean;
  readonly toxic?: ToxicView;
}

export type FaultSpecView = (
  { readonly argo: ArgoFaultView } | { readonly link: LinkFaultView }
) & {
  /** Ends by itself after this many ms (absent or 0: when cleared). */
  readonly durationMs?: number;
};

/** A fault in force, with the id `clearFaults` takes. */
export type FaultView = FaultSpecView & { readonly id: string };

export interface FaultEventView {
  readonly kind: string;
  readonly action: "start" | "update" | "end";
  readonly target: string;
  readonly id: string;
  readonly detail: unknown;
  /** Milliseconds since the epoch. */
  readonly timeMs: number;
}

export function encodeFaultSpec(spec: FaultSpecView): FaultSpec {
  const durationMs = spec.durationMs ?? 0;
  if ("argo" in spec) {
    const a = spec.argo;
    return {
      argo: {
        type: a.type,
        from: [...a.from],
        to: [...(a.to ?? [])],
        bothWays: a.bothWays ?? false,
        show: a.show ?? "",
        probability: a.probability ?? 0,
        delayMs: a.delayMs ?? 0,
        jitterMs: a.jitterMs ?? 0,
      },
      durationMs,
    };
  }
  const l = spec.link;
  return {
    link: {
      domain: l.domain,
      down: l.down ?? false,
      toxicJson: l.toxic === undefined ? "" : JSON.stringify(l.toxic),
    },
    durationMs,
  };
}

/** A wire fault with the fields its type does not use (zero values) left out. */
export function faultView(info: FaultInfo__Output | null): FaultView {
  const spec = info?.spec;
  const id = info?.id ?? "";
  const duration = spec?.durationMs ? { durationMs: spec.durationMs } : {};
  if (spec?.argo) {
    const a = spec.argo;
    const argo: ArgoFaultView = {
      type: a.type as ArgoFaultType,
      from: a.from,
      ...(a.to.length > 0 ? { to: a.to } : {}),
      ...(a.bothWays ? { bothWays: true } : {}),
      ...(a.type === "partition" ? { show: a.show as "full" | "refused" } : {}),
      ...(a.type === "eagain" ? { probability: a.probability } : {}),
      ...(a.delayMs !== 0 ? { delayMs: a.delayMs } : {}),
      ...(a.jitterMs !== 0 ? { jitterMs: a.jitterMs } : {}),
    };
    return { id, argo, ...duration };
  }
  const l = spec?.link;
  return {
    id,
    link: {
      domain: l?.domain ?? "",
      ...(l?.down ? { down: true } : {}),
      ...(l?.toxicJson ? { toxic: JSON.parse(l.toxicJson) as ToxicView } : {}),
    },
    ...duration,
  };
}

export function faultEventView(e: FaultEvent__Output): FaultEventView {
  return {
    kind: e.kind,
    action: e.action as FaultEventView["action"],
    target: e.target,
    id: e.id,
    detail: e.detailJson === "" ? {} : (JSON.parse(e.detailJson) as unknown),
    timeMs: Number(e.timeMs),
  };
}
