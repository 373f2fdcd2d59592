// SPDX-License-Identifier: Apache-2.0
/**
 * The hostile phase (`--only hostile`): every attack `@hmx/testkit` exports, each against a fresh
 * `hmx hypervisor` process while a victim pair passes messages; the attacker runs in a worker
 * thread of its own (testkit's isolated-attack.ts), so its own encoding and decoding do not stall
 * the victim's event loop and the figures measure the hypervisor. Per attack: the hypervisor's
 * peak RSS growth during the attack, the victim's message rate during it as a ratio of its rate
 * just before (same run), and the victim's worst latency from the launch on. Targets (issue 9):
 * growth ≤ 256 MiB for a guest's attack, ≤ 64 MiB before authentication; ratio ≥ 0.5; max
 * latency ≤ 250 ms.
 */
import * as testkit from "@hmx/testkit";
import { Testbed, measureAttack, type AttackMeasurement, type HostileAttack } from "@hmx/testkit";

const MIB = 1024 * 1024;
export const HOSTILE_TARGETS = {
  guestPeakBytes: 256 * MIB,
  preAuthPeakBytes: 64 * MIB,
  victimRateRatio: 0.5,
  maxVictimLatencyMs: 250,
} as const;

export interface HostileRow extends AttackMeasurement {
  readonly victimRateRatio: number;
  readonly met: { readonly peak: boolean; readonly rate: boolean; readonly latency: boolean };
}

function isAttack(value: unknown): value is HostileAttack {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Partial<HostileAttack>;
  return (
    typeof v.name === "string" &&
    typeof v.launch === "function" &&
    (v.kind === "guest" || v.kind === "pre-auth")
  );
}

/** Every attack the testkit exports, by name (whoever added it). */
export function exportedAttacks(): HostileAttack[] {
  const byName = new Map<string, HostileAttack>();
  for (const value of Object.values(testkit)) {
    if (isAttack(value)) byName.set(value.name, value);
    else if (Array.isArray(value))
      for (const item of value) if (isAttack(item)) byName.set(item.name, item);
  }
  return [...byName.values()].sort(
    (a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name),
  );
}

export async function runHostileBench(
  seed: number,
  log: (line: string) => void,
): Promise<HostileRow[]> {
  const rows: HostileRow[] = [];
  for (const attack of exportedAttacks()) {
    log(
      `hostile: ${attack.name} (${attack.kind}, seed ${seed}, HMX_TEST_SEED=${seed} replays it) against a fresh hypervisor with a victim pair …`,
    );
    const bed = await Testbed.start();
    try {
      const pid = bed.hypervisor.child.process.pid;
      if (pid === undefined) throw new Error("the hypervisor has no pid");
      const m = await measureAttack(bed, pid, attack, seed);
      const victimRateRatio = m.victimRateDuring / m.victimRateBefore;
      const peakLimit =
        attack.kind === "guest" ? HOSTILE_TARGETS.guestPeakBytes : HOSTILE_TARGETS.preAuthPeakBytes;
      rows.push({
        ...m,
        victimRateRatio,
        met: {
          peak: m.peakGrowthBytes <= peakLimit && m.hypervisorAlive,
          rate: victimRateRatio >= HOSTILE_TARGETS.victimRateRatio,
          latency: m.maxVictimLatencyMs <= HOSTILE_TARGETS.maxVictimLatencyMs,
        },
      });
    } finally {
      await bed.stopAll();
    }
  }
  return rows;
}

function mark(met: boolean): string {
  return met ? "" : " ✗";
}

/** The rows as a console table, targets marked ✗ where missed. */
export function hostileTable(rows: readonly HostileRow[]): string {
  const header = [
    "attack",
    "kind",
    "peak growth MiB",
    "victim msgs/s before",
    "during",
    "ratio",
    "max latency ms",
    "facts",
  ];
  const lines = rows.map((r) => [
    r.attack,
    r.kind,
    `${(r.peakGrowthBytes / MIB).toFixed(0)}${mark(r.met.peak)}`,
    r.victimRateBefore.toFixed(0),
    r.victimRateDuring.toFixed(0),
    `${r.victimRateRatio.toFixed(2)}${mark(r.met.rate)}`,
    `${r.maxVictimLatencyMs.toFixed(0)}${mark(r.met.latency)}`,
    Object.entries(r.facts)
      .map(([k, v]) => `${k}=${v}`)
      .join(" "),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? "").length)));
  const fmt = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [
    fmt(header),
    fmt(widths.map((w) => "-".repeat(w))),
    ...lines.map(fmt),
    `(targets: peak growth ≤ 256 MiB per guest attack, ≤ 64 MiB pre-auth; victim rate ≥ 0.5× its rate before; max victim latency ≤ 250 ms; ✗ = missed)`,
  ].join("\n");
}
