// SPDX-License-Identifier: Apache-2.0
/**
 * The link relay's private directory (its Unix-socket hop to the gRPC server, link-relay.ts).
 * The directory is named after the hypervisor's pid, so a later start can tell a directory whose
 * owner died without removing it (SIGKILL, OOM) from one still in use: making a new one first
 * sweeps those of dead owners, so repeated kills do not pile them up in TMPDIR.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const PREFIX = "hmx-link-";

/** Makes this process's hop directory (mode 0700) in `parent`, after removing stale ones. */
export function makeHopDir(parent: string): string {
  sweepStaleHopDirs(parent);
  return mkdtempSync(join(parent, `${PREFIX}${process.pid}-`));
}

/**
 * Removes `hmx-link-PID-*` directories in `parent` whose PID is not a live process. A pid that
 * is alive (even reused by another program) keeps its directory; others' directories (mode
 * 0700, another user) cannot be removed and are left alone.
 */
export function sweepStaleHopDirs(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const name of names) {
    const match = /^hmx-link-(\d+)-/.exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || isAlive(pid)) continue;
    try {
      rmSync(join(parent, name), { recursive: true, force: true });
    } catch {
      // Not ours (another user's 0700 directory in a shared TMPDIR): not ours to remove.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, another user's.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
