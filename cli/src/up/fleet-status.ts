// SPDX-License-Identifier: Apache-2.0
/**
 * The fleet status file of a running `hmx up` (RUNDIR/fleet.json): the pid of the hypervisor and
 * of each guest's current run, and each guest's last stats record. It is how other commands of
 * this checkout reach the fleet's processes without a toolstack call: `hmx chaos kill sink`
 * signals the pid written here (the supervisor then restarts the guest), and `hmx chaos run`
 * reads the sinks' figures for its loss, duplication and order checks. Rewritten whole through a
 * rename, so a reader never sees half a file.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface FleetProcessStatus {
  readonly name: string;
  readonly workload: string;
  /** The current run's pid (a restart changes it). */
  readonly pid: number | undefined;
  readonly restarts: number;
  readonly stats?: Readonly<Record<string, unknown>> | undefined;
}

export interface FleetStatus {
  /** Whether a guest that exits is restarted (`hmx up --restart-guests`). */
  readonly restartGuests: boolean;
  readonly hypervisor: { readonly pid: number | undefined; readonly restarts: number };
  readonly guests: readonly FleetProcessStatus[];
}

export function fleetStatusFile(runDir: string): string {
  return join(runDir, "fleet.json");
}

export function writeFleetStatus(runDir: string, status: FleetStatus): void {
  const file = fleetStatusFile(runDir);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(status)}\n`, { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

/** The status of the `hmx up` whose run directory is `runDir`; an error names the file. */
export function readFleetStatus(runDir: string): FleetStatus {
  const file = fleetStatusFile(runDir);
  try {
    return JSON.parse(readFileSync(file, "utf8")) as FleetStatus;
  } catch (err) {
    throw new Error(`the fleet status ${file} cannot be read: ${(err as Error).message}`);
  }
}
