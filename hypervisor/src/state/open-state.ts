// SPDX-License-Identifier: Apache-2.0
/**
 * Wires `--state-dir` into a starting hypervisor: opens the store (recovering the journal) and
 * makes journal trouble visible — a `fault` event in the history when writes fail and when they
 * work again, and the metrics `hmx_state_write_errors_total` and `hmx_state_degraded`.
 */
import { Counter, Gauge } from "prom-client";
import type { Logger } from "pino";

import type { HypervisorConfig } from "../config.js";
import type { HypervisorCore } from "../core.js";
import type { DeviceManager } from "../devices/device-manager.js";
import type { HypercallDispatcher } from "../dispatch/dispatcher.js";
import type { EnrolmentService } from "../fleet/enrolment.js";
import type { MacController } from "../mac/mac-controller.js";
import type { Observability } from "../observability/observability.js";
import { StateStore } from "./state-store.js";

/** The fault name write failures carry in the history. */
export const STATE_WRITE_FAULT = "state/journal-write";

/** Opens the state dir when configured (undefined otherwise); throws with nothing changed. */
export function openState(
  config: HypervisorConfig,
  core: HypervisorCore,
  dispatcher: HypercallDispatcher,
  observability: Observability,
  journaled: { mac: MacController; devices: DeviceManager; enrolment: EnrolmentService },
  log: Logger,
): StateStore | undefined {
  if (config.stateDir === undefined) return undefined;
  const { observer } = observability;
  let writeErrors = 0;
  const stateLog = log.child({ component: "state" });
  const store = StateStore.open(
    {
      dir: config.stateDir,
      fsync: config.stateFsync ?? false,
      snapshotBytes: config.stateSnapshotBytes ?? 0,
      log: stateLog,
      ...journaled,
      onWriteError: (err, first) => {
        writeErrors++;
        if (first) observer.fault("start", STATE_WRITE_FAULT, { error: err.message });
      },
      onRecovered: () => {
        observer.fault("stop", STATE_WRITE_FAULT, {});
      },
    },
    core.domains,
    dispatcher,
  );
  const registers = observability.metrics === undefined ? [] : [observability.metrics.registry];
  new Counter({
    name: "hmx_state_write_errors_total",
    help: "State journal commits that failed (a full disk, an I/O error); see docs/state.md.",
    registers,
    collect() {
      this.reset();
      this.inc(writeErrors);
    },
  });
  new Gauge({
    name: "hmx_state_degraded",
    help: "1 while the state journal cannot write and mutating hypercalls are refused.",
    registers,
    collect() {
      this.set(store.failure === undefined ? 0 : 1);
    },
  });
  stateLog.info(
    { dir: config.stateDir, fsync: config.stateFsync ?? false, ...store.recovery },
    "state recovered",
  );
  return store;
}
