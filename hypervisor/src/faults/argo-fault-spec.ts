// SPDX-License-Identifier: Apache-2.0
/**
 * Argo-level faults as data (docs/chaos.md "Argo-level faults"): which domains a fault acts on
 * and how, checked. A bad spec is refused with a message that names the bad value and the
 * limit, and changes nothing. Domains are named by their domain names, resolved when the fault
 * is applied.
 */
import { FaultRequestError, MAX_ATTRIBUTE } from "./toxic-spec.js";

export const ARGO_FAULT_TYPES = ["partition", "eagain", "delay", "late_virq", "pause"] as const;
export type ArgoFaultType = (typeof ARGO_FAULT_TYPES)[number];

/** How a partitioned sender sees its peer: a ring that stays full, or a ring that is gone. */
export const PARTITION_SHOWS = ["full", "refused"] as const;
export type PartitionShow = (typeof PARTITION_SHOWS)[number];

export interface ArgoFaultSpec {
  readonly type: ArgoFaultType;
  /**
   * The domains acted on: the senders of a partition or an -EAGAIN storm, the domains whose
   * hypercalls are slow (delay), whose VIRQs are late (late_virq) or which are paused.
   */
  readonly from: readonly string[];
  /** partition, eagain: the destinations; empty means every other domain. */
  readonly to: readonly string[];
  /** partition: `to` cannot send to `from` either. */
  readonly bothWays: boolean;
  /** partition: what a cut sender sees (default "full": -EAGAIN, then its VIRQ at the heal). */
  readonly show: PartitionShow;
  /** eagain: the chance that one sendv is refused, 0..1 (default 1). */
  readonly probability: number;
  /** delay, late_virq: milliseconds added; eagain: until the refused sender's space VIRQ (default 1). */
  readonly delayMs: number;
  /** delay, late_virq: up to this many milliseconds more or less, drawn from the fault seed. */
  readonly jitterMs: number;
  /** The fault ends by itself after this many milliseconds; 0 means when it is cleared. */
  readonly durationMs: number;
}

/** At most this many domains on each side of one fault (a fleet is far smaller). */
export const MAX_FAULT_DOMAINS = 1024;

function bad(message: string): FaultRequestError {
  return new FaultRequestError(`bad fault: ${message}`, 400);
}

function names(field: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((n) => typeof n !== "string" || n === "")) {
    throw bad(`${field} ${JSON.stringify(value)}: expected a list of domain names`);
  }
  if (value.length > MAX_FAULT_DOMAINS) {
    throw bad(`${field} names ${value.length} domains: at most ${MAX_FAULT_DOMAINS}`);
  }
  return [...new Set(value as string[])];
}

function milliseconds(field: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_ATTRIBUTE) {
    throw bad(`${field} ${JSON.stringify(value)}: expected an integer in 0..${MAX_ATTRIBUTE} ms`);
  }
  return value;
}

/** Which fields each type reads; any other field given is refused, so no setting is ignored. */
const FIELDS: Readonly<Record<ArgoFaultType, readonly string[]>> = {
  partition: ["to", "bothWays", "show"],
  eagain: ["to", "probability", "delayMs"],
  delay: ["delayMs", "jitterMs"],
  late_virq: ["delayMs", "jitterMs"],
  pause: [],
};
const COMMON_FIELDS = ["type", "from", "durationMs"];

/** A fault from its JSON (or decoded protobuf) form; fields left out take their defaults. */
export function parseArgoFaultSpec(body: Readonly<Record<string, unknown>>): ArgoFaultSpec {
  const type = ARGO_FAULT_TYPES.find((t) => t === body["type"]);
  if (type === undefined) {
    throw bad(
      `type ${JSON.stringify(body["type"])}: expected one of ${ARGO_FAULT_TYPES.join(", ")}`,
    );
  }
  for (const [field, value] of Object.entries(body)) {
    if (value === undefined || COMMON_FIELDS.includes(field) || FIELDS[type].includes(field))
      continue;
    throw bad(
      `${field} does not apply to a ${type} fault (its fields: ${[...COMMON_FIELDS.slice(1), ...FIELDS[type]].join(", ")})`,
    );
  }
  const from = names("from", body["from"]);
  if (from.length === 0) throw bad(`from is empty: name at least one domain`);
  const to = names("to", body["to"]);
  const overlap = to.find((n) => from.includes(n));
  if (overlap !== undefined) throw bad(`${JSON.stringify(overlap)} is in both from and to`);
  const bothWays = body["bothWays"] ?? false;
  if (typeof bothWays !== "boolean")
    throw bad(`bothWays ${JSON.stringify(bothWays)}: expected true or false`);
  const show = body["show"] ?? "full";
  if (!PARTITION_SHOWS.includes(show as PartitionShow)) {
    throw bad(`show ${JSON.stringify(show)}: expected one of ${PARTITION_SHOWS.join(", ")}`);
  }
  const probability = body["probability"] ?? 1;
  if (typeof probability !== "number" || !(probability >= 0 && probability <= 1)) {
    throw bad(`probability ${JSON.stringify(probability)}: expected a number in 0..1`);
  }
  const delayMs = milliseconds("delayMs", body["delayMs"], type === "eagain" ? 1 : 0);
  const jitterMs = milliseconds("jitterMs", body["jitterMs"], 0);
  if (jitterMs > delayMs) {
    throw bad(`jitterMs ${jitterMs} is more than delayMs ${delayMs}: a delay cannot go negative`);
  }
  if ((type === "delay" || type === "late_virq") && delayMs === 0) {
    throw bad(`delayMs 0: a ${type} fault needs at least 1 ms`);
  }
  return {
    type,
    from,
    to,
    bothWays,
    show: show as PartitionShow,
    probability,
    delayMs,
    jitterMs,
    durationMs: milliseconds("durationMs", body["durationMs"], 0),
  };
}

/** The fault's settings that matter for its type, for events, listings and logs. */
export function argoFaultJson(spec: ArgoFaultSpec): Record<string, unknown> {
  const json: Record<string, unknown> = { type: spec.type, from: [...spec.from] };
  for (const field of FIELDS[spec.type]) json[field] = spec[field as keyof ArgoFaultSpec];
  if (json["to"] !== undefined) json["to"] = [...spec.to];
  if (spec.durationMs > 0) json["durationMs"] = spec.durationMs;
  return json;
}
