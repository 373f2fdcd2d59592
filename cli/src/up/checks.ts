// SPDX-License-Identifier: Apache-2.0
/**
 * The checks `hmx up` reports when it stops, which decide its exit code: every guest still ran
 * (none exited on its own), and each workload's own correctness counters, from its last stats
 * record, are zero — the sink's proof that nothing was lost, duplicated, reordered or mangled,
 * the virtio front ends' read-back of what they wrote to disk. Rates and latencies are not
 * checks: they depend on the machine.
 */

/** A guest as the checks see it (the fleet's GuestState has these). */
export interface CheckedGuest {
  readonly spec: { readonly name: string; readonly workload: string };
  readonly stats: Record<string, unknown> | undefined;
  readonly child: { readonly running: boolean };
}

/** The stats that must stay zero, per workload. */
export const WORKLOAD_CHECKS: Readonly<Record<string, readonly string[]>> = {
  sink: ["lost", "duplicates", "reordered", "malformed"],
  "virtio-demo": ["blkVerifyErrors"],
};

export interface FailedCheck {
  readonly guest: string;
  readonly check: string;
  /** What went wrong, in words (`3 lost, 1 duplicates`; `exited during the run`). */
  readonly detail: string;
}

/** Every failed check of the fleet; empty when the run was clean. */
export function failedChecks(guests: readonly CheckedGuest[]): FailedCheck[] {
  const failed: FailedCheck[] = [];
  for (const g of guests) {
    if (!g.child.running)
      failed.push({ guest: g.spec.name, check: "running", detail: "exited during the run" });
    const bad = (WORKLOAD_CHECKS[g.spec.workload] ?? [])
      .map((key) => [key, g.stats?.[key]] as const)
      .filter(([, v]) => typeof v === "number" && v !== 0);
    if (bad.length > 0)
      failed.push({
        guest: g.spec.name,
        check: g.spec.workload,
        detail: bad.map(([key, v]) => `${String(v)} ${key}`).join(", "),
      });
  }
  return failed;
}
