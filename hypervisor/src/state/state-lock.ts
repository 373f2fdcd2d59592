// SPDX-License-Identifier: Apache-2.0
/**
 * The state dir's lock file, so two hypervisors never append to one journal. Node has no
 * flock, and a lock that outlives a SIGKILLed owner must not keep the restarted hypervisor out,
 * so the file names its owner as `pid starttime` (from /proc/PID/stat): the lock is live only
 * while a process with that pid AND that start time exists (a pid reused after a container
 * restart has another start time). Taking the lock is an atomic link() of a private file.
 */
import { linkSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "LOCK";

/** Another live hypervisor holds the state dir. */
export class StateLockedError extends Error {
  override readonly name = "StateLockedError";
  constructor(file: string, owner: string) {
    super(
      `state dir lock ${file} is held by live process ${owner}; two hypervisors cannot share a state dir`,
    );
  }
}

/** `pid starttime` of a process, or undefined if it does not exist (or there is no /proc). */
function processIdentity(pid: number | "self"): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22 (starttime) counts from after the ")" that ends the command name.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const realPid = pid === "self" ? process.pid : pid;
    return `${realPid} ${fields[19]}`;
  } catch {
    return undefined;
  }
}

/** Whether the owner a lock file names is still running. */
function ownerAlive(owner: string): boolean {
  const pid = Number(owner.split(" ")[0]);
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  return processIdentity(pid) === owner;
}

/** Takes the lock of `dir` (throws StateLockedError if live); returns its release. */
export function acquireStateLock(dir: string): () => void {
  const lockPath = join(dir, LOCK_FILE);
  const me = processIdentity("self") ?? `${process.pid} 0`;
  const mine = join(dir, `${LOCK_FILE}.${process.pid}`);
  writeFileSync(mine, `${me}\n`);
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        linkSync(mine, lockPath);
        return () => {
          try {
            if (readFileSync(lockPath, "utf8").trim() === me) unlinkSync(lockPath);
          } catch {
            // Already gone: nothing to release.
          }
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
      const owner = readFileSync(lockPath, "utf8").trim();
      if (owner !== me && ownerAlive(owner)) throw new StateLockedError(lockPath, owner);
      // A lock left by a process that died (SIGKILL, a crash): take it over.
      unlinkSync(lockPath);
    }
    throw new StateLockedError(lockPath, "(taken while this one was starting)");
  } finally {
    unlinkSync(mine);
  }
}
