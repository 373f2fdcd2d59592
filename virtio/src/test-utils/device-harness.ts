// SPDX-License-Identifier: Apache-2.0
/**
 * `activateForTest`: activates a device model on `MockSplitQueue`s the way a transport would at
 * DRIVER_OK (VirtIO 1.2 §3.1.1 step 8), recording config-change and needs-reset notifications,
 * so device-model tests need no transport at all. Test code.
 */
import type { ActivationContext, VirtioDevice } from "../device.js";
import type { DeviceQueue } from "../queue/device-queue.js";
import { ViolationLog } from "../violation-log.js";

export interface TestActivation {
  readonly context: ActivationContext;
  readonly violations: ViolationLog;
  configChanges: number;
  readonly needsReset: string[];
}

/** Activates `device` with `queues` (index = position) and `features` (default: all offered). */
export function activateForTest(
  device: VirtioDevice,
  queues: readonly (DeviceQueue | undefined)[],
  features: bigint = device.availableFeatures,
  violations = new ViolationLog(),
): TestActivation {
  const t: TestActivation = {
    violations,
    configChanges: 0,
    needsReset: [],
    context: undefined as unknown as ActivationContext,
  };
  const context: ActivationContext = {
    features,
    queues,
    violations,
    interrupt: {
      configChanged: () => {
        t.configChanges++;
      },
      needsReset: (reason) => {
        t.needsReset.push(reason);
      },
    },
  };
  (t as { context: ActivationContext }).context = context;
  device.activate(context);
  return t;
}

/** Resolves after pending microtasks and one macrotask turn (lets async device work finish). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
