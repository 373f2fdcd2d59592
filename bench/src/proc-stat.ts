// SPDX-License-Identifier: Apache-2.0
/**
 * Reads a process's resource use from Linux's /proc: resident memory (`VmRSS` in
 * /proc/PID/status) and CPU time (utime + stime in /proc/PID/stat). The benchmark samples the
 * CPU time of every party around each phase, which shows who is the bottleneck (a process
 * near 1.0 CPU-second per second is saturated), and the machine's busy time (/proc/stat), so
 * that load from outside the benchmark shows. Elsewhere than Linux all return null.
 */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/PID/stat; 100 on every mainstream Linux. */
const CLK_TCK = 100;

/** Resident set size in bytes, or null. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

/** User + system CPU seconds used so far, or null. */
export function cpuSeconds(pid: number): number | null {
  const t = cpuTimes(pid);
  return t === null ? null : t.user + t.system;
}

/**
 * User and system CPU seconds used so far by a process (every thread), or by one of its
 * threads when `tid` is given (the main thread's tid is the pid: a node process's main thread
 * runs the JavaScript, the others are the collector's helpers and libuv's pool); or null.
 */
export function cpuTimes(pid: number, tid?: number): { user: number; system: number } | null {
  try {
    const path = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    const stat = readFileSync(path, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return Number.isFinite(utime) && Number.isFinite(stime)
      ? { user: utime / CLK_TCK, system: stime / CLK_TCK }
      : null;
  } catch {
    return null;
  }
}

/**
 * CPU seconds of several processes, and of the whole machine under the name "machine", to diff
 * later: the machine's busy time minus ours is the background load (this is a shared box).
 */
export function cpuSnapshot(pids: Readonly<Record<string, number>>): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = cpuSeconds(pid);
  out["machine"] = machineBusySeconds();
  return out;
}

/** CPU utilisation (CPU-seconds per wall second) of each process between two snapshots. */
export function cpuUse(
  before: Readonly<Record<string, number | null>>,
  after: Readonly<Record<string, number | null>>,
  wallMs: number,
): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  let ours = 0;
  for (const [name, b] of Object.entries(before)) {
    if (name === "machine") continue;
    const a = after[name];
    out[name] = a == null || b === null || !(wallMs > 0) ? null : round2((a - b) / (wallMs / 1000));
    ours += out[name] ?? 0;
  }
  const mb = before["machine"];
  const ma = after["machine"];
  // Everything else the machine did meanwhile (the orchestrator included, a little).
  out["others"] =
    mb == null || ma == null || !(wallMs > 0)
      ? null
      : round2(Math.max(0, (ma - mb) / (wallMs / 1000) - ours));
  return out;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** CPU-seconds all CPUs of the machine spent busy so far (/proc/stat), or null. */
export function machineBusySeconds(): number | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
    return Number.isFinite(busy) ? busy / CLK_TCK : null;
  } catch {
    return null;
  }
}
