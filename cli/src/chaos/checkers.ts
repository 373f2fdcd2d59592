// SPDX-License-Identifier: Apache-2.0
/**
 * The checks of a schedule run, as pure functions of what the run recorded, so each can be
 * shown failing on a planted violation: every fault was applied, every fault ended (nothing left
 * in force), and liveness after every heal (messages moved again within the stated time).
 */

/** One verdict, as results.json and junit.xml report it. */
export interface CheckResult {
  readonly name: string;
  readonly passed: boolean;
  /** One line saying why, with the figures. */
  readonly message: string;
  readonly figures: Readonly<Record<string, number>>;
}

/** A fault the runner tried to apply: its id, or the hypervisor's reason for refusing it. */
export interface AppliedFault {
  readonly atMs: number;
  /** How long after its time the runner applied it (it still ended on time). */
  readonly lateMs?: number;
  readonly id?: string;
  readonly refused?: string;
}

export function checkAllApplied(applied: readonly AppliedFault[]): CheckResult {
  const refused = applied.filter((a) => a.refused !== undefined);
  const maxLateMs = Math.max(0, ...applied.map((a) => a.lateMs ?? 0));
  return {
    name: "faults applied",
    passed: refused.length === 0,
    message:
      refused.length === 0
        ? `${applied.length} faults applied, the latest ${maxLateMs}ms after its time`
        : `${refused.length} of ${applied.length} faults refused; first at ${refused[0]?.atMs}ms: ${refused[0]?.refused}`,
    figures: { scheduled: applied.length, refused: refused.length, maxLateMs },
  };
}

/** Every applied fault has an end event, and nothing is in force after the run. */
export function checkAllHealed(
  appliedIds: readonly string[],
  endedIds: ReadonlySet<string>,
  stillInForce: readonly string[],
): CheckResult {
  const open = appliedIds.filter((id) => !endedIds.has(id));
  const passed = open.length === 0 && stillInForce.length === 0;
  return {
    name: "every fault healed",
    passed,
    message: passed
      ? `${appliedIds.length} faults started and ended`
      : `not ended: ${[...open, ...stillInForce].slice(0, 5).join(", ")}`,
    figures: { applied: appliedIds.length, notEnded: open.length, inForce: stillInForce.length },
  };
}

/** The hypervisor's count of messages delivered (all domains), sampled during the run. */
export interface DeliverySample {
  readonly timeMs: number;
  readonly delivered: number;
}

/**
 * Liveness after every heal: for each heal time, some sample within `withinMs` after it shows
 * more messages delivered than the last sample at or before the heal. A heal after which the
 * samples end too early to tell counts as failed (not proven live).
 */
export function checkLiveness(
  heals: readonly number[],
  samples: readonly DeliverySample[],
  withinMs: number,
): CheckResult {
  const failed: number[] = [];
  const delays: number[] = [];
  for (const heal of heals) {
    const before = samples.filter((s) => s.timeMs <= heal).at(-1)?.delivered ?? 0;
    const moved = samples.find(
      (s) => s.timeMs > heal && s.timeMs <= heal + withinMs && s.delivered > before,
    );
    if (moved === undefined) failed.push(heal);
    else delays.push(moved.timeMs - heal);
  }
  return {
    name: "liveness after every heal",
    passed: failed.length === 0,
    message:
      failed.length === 0
        ? `messages moved again after each of ${heals.length} heals, at most ${Math.max(0, ...delays)}ms later (limit ${withinMs}ms)`
        : `no message moved within ${withinMs}ms after ${failed.length} of ${heals.length} heals (first at ${failed[0]}ms)`,
    figures: {
      heals: heals.length,
      failedHeals: failed.length,
      maxRecoveryMs: Math.max(0, ...delays),
      limitMs: withinMs,
    },
  };
}

function xml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;");
}

/** The checks as a JUnit report (one test case per check), for CI. */
export function junitXml(suite: string, checks: readonly CheckResult[]): string {
  const failures = checks.filter((c) => !c.passed).length;
  const cases = checks.map((c) =>
    c.passed
      ? `  <testcase classname="${xml(suite)}" name="${xml(c.name)}"/>`
      : `  <testcase classname="${xml(suite)}" name="${xml(c.name)}">\n    <failure message="${xml(c.message)}"/>\n  </testcase>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="${xml(suite)}" tests="${checks.length}" failures="${failures}">\n${cases.join("\n")}\n</testsuite>\n`;
}
