// SPDX-License-Identifier: Apache-2.0
/**
 * The message checks of a schedule run: no loss, no duplication, per-pair FIFO, and MAC
 * respected throughout. Pure functions of what the run gathered, so each is shown failing on a
 * planted violation.
 *
 * Loss, duplication and order come from the receiving workloads' own figures (the sink numbers
 * every message of its pair and counts gaps, duplicates and reorders, resuming its progress from
 * guest memory across a restart), not from the history: a sendv event carries the message's
 * digest and its ring, but the receiver's ring reads carry only an address and a length, so the
 * history cannot say which message a read took. MAC comes from the history: a denial and an
 * `ok` sendv are both events there.
 */
import type { CheckResult } from "./checkers.js";

/** One receiving workload's last correctness figures (a sink's "guest stats" record). */
export interface ReceiverFigures {
  /** The receiving guest's name. */
  readonly guest: string;
  readonly received: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly reordered: number;
}

function receiverCheck(
  name: string,
  key: "lost" | "duplicates" | "reordered",
  receivers: readonly ReceiverFigures[],
): CheckResult {
  const total = receivers.reduce((n, r) => n + r[key], 0);
  const received = receivers.reduce((n, r) => n + r.received, 0);
  const bad = receivers.filter((r) => r[key] !== 0);
  // No receiver reporting proves nothing: a check that cannot see messages has not passed.
  const passed = receivers.length > 0 && total === 0;
  return {
    name,
    passed,
    message:
      receivers.length === 0
        ? "no receiving workload reported figures (is a sink running?)"
        : passed
          ? `${received} messages received by ${receivers.map((r) => r.guest).join(", ")}, 0 ${key}`
          : `${total} ${key}: ${bad.map((r) => `${r.guest} ${r[key]}`).join(", ")} (of ${received} received)`,
    figures: { receivers: receivers.length, received, [key]: total },
  };
}

export function checkNoLoss(receivers: readonly ReceiverFigures[]): CheckResult {
  return receiverCheck("no loss", "lost", receivers);
}

export function checkNoDuplication(receivers: readonly ReceiverFigures[]): CheckResult {
  return receiverCheck("no duplication", "duplicates", receivers);
}

export function checkPerPairFifo(receivers: readonly ReceiverFigures[]): CheckResult {
  return receiverCheck("per-pair FIFO", "reordered", receivers);
}

/** The figures of a "guest stats" record of a sink, or undefined if it is not one. */
export function receiverFigures(
  guest: string,
  stats: Readonly<Record<string, unknown>> | undefined,
): ReceiverFigures | undefined {
  const n = (key: string): number | undefined => {
    const v = stats?.[key];
    return typeof v === "number" ? v : undefined;
  };
  const [received, lost, duplicates, reordered] = [
    n("received"),
    n("lost"),
    n("duplicates"),
    n("reordered"),
  ];
  if (
    received === undefined ||
    lost === undefined ||
    duplicates === undefined ||
    reordered === undefined
  )
    return undefined;
  return { guest, received, lost, duplicates, reordered };
}

/** The history events the MAC check reads (docs/harness.md "Events"); others are ignored. */
export type MacHistoryEvent = Readonly<Record<string, unknown>> & { readonly kind?: unknown };

function pairKey(from: unknown, to: unknown): string | undefined {
  return typeof from === "number" && typeof to === "number" ? `${from}->${to}` : undefined;
}

/**
 * MAC respected throughout: no message delivered on a pair the policy denied. A pair counts as
 * denied from its first `send` denial in the history on; any later `ok` sendv on that pair is a
 * violation. (A policy reloaded mid-run to allow the pair would be flagged too: the history has
 * no policy-load event, so the run's schedule must not reload the policy.) Gaps in the history
 * make the check fail: unseen events prove nothing — except the gap a hypervisor restart leaves
 * (`"cause":"restart"`): the schedule killed the process holding those events, so nothing the
 * history can say covers them. The check then passes on what it saw and names the seqs it
 * could not see as unproven (docs/chaos.md "Hypervisor faults").
 *
 * Fed one event at a time and holding only the denied pairs and the first violations, so a
 * ten-minute soak's million deliveries cost counters, not a million objects (holding them cost
 * the runner multi-second GC pauses, and its faults came late).
 */
export class MacRespectedCheck {
  private readonly denied = new Set<string>();
  private readonly violations: string[] = [];
  private readonly unproven: string[] = [];
  private unprovenEvents = 0;
  private violationCount = 0;
  private gaps = 0;
  private sends = 0;

  add(e: MacHistoryEvent): void {
    if (e.kind === "gap" && e["cause"] === "restart") {
      this.unproven.push(`${String(e["from"])}..${String(e["to"])}`);
      this.unprovenEvents += typeof e["dropped"] === "number" ? e["dropped"] : 0;
    } else if (e.kind === "gap") this.gaps++;
    else if (e.kind === "mac" && e["decision"] === "denied" && e["permission"] === "send") {
      const key = pairKey(e["sdomid"], e["tdomid"]);
      if (key !== undefined) this.denied.add(key);
    } else if (e.kind === "hypercall" && e["f"] === "sendv" && e["type"] === "ok") {
      this.sends++;
      const value = e["value"] as { dst?: { domid?: unknown } } | undefined;
      const key = pairKey(e["process"], value?.dst?.domid);
      if (key !== undefined && this.denied.has(key)) {
        this.violationCount++;
        if (this.violations.length < 3) this.violations.push(`${key} at seq ${String(e["seq"])}`);
      }
    }
  }
  result(): CheckResult {
    const { violations, violationCount, gaps, sends, denied, unproven, unprovenEvents } = this;
    const passed = violationCount === 0 && gaps === 0;
    const unprovenNote =
      unproven.length === 0
        ? ""
        : `; unproven for seq ${unproven.join(", ")} (lost with the restarted hypervisor)`;
    return {
      name: "MAC respected throughout",
      passed,
      message:
        (violationCount > 0
          ? `${violationCount} messages delivered on denied pairs: ${violations.join(", ")}`
          : gaps > 0
            ? `the history lost events (${gaps} gaps): cannot show MAC was respected`
            : `${sends} messages delivered, none on the ${denied.size} denied pairs`) +
        unprovenNote,
      figures: {
        deliveries: sends,
        deniedPairs: denied.size,
        violations: violationCount,
        gaps,
        restartGaps: unproven.length,
        unprovenEvents,
      },
    };
  }
}

/** The MAC check over a whole recorded history (MacRespectedCheck fed every event). */
export function checkMacRespected(events: readonly MacHistoryEvent[]): CheckResult {
  const check = new MacRespectedCheck();
  for (const e of events) check.add(e);
  return check.result();
}
