// SPDX-License-Identifier: Apache-2.0
/**
 * The fault watch of `hmx chaos run`, resumed across hypervisor restarts. A killed or restarted
 * hypervisor ends the WatchFaults stream; this reopens it with backoff until the new hypervisor
 * answers, and counts each new hypervisor run as an epoch. Fault ids start again in a new run
 * (`argo-1` …), so an id of a later epoch is recorded as `ID@EPOCH`: the run's checks never
 * confuse a fault of the new hypervisor with one of the old.
 *
 * The watch is only in place once the hypervisor answered a call made after it was opened on
 * the same channel (`ready()`): the run waits for that before it applies a fault, so no fault's
 * start or end can slip between two watches. On a new run, `onResume` applies again the faults
 * the old one lost (run-schedule.ts) before `ready()` settles.
 */
import type { FaultEventView, ToolstackClient } from "@hmx/client";
import { setTimeout as sleep } from "node:timers/promises";

import { describeError } from "../commands/control.js";
import type { HypervisorRestart } from "./hypervisor-faults.js";

/** The id a fault of hypervisor run `epoch` is recorded under. */
export function epochId(id: string, epoch: number): string {
  return epoch === 0 ? id : `${id}@${epoch}`;
}

export interface ResumingWatchOptions {
  /** First delay before reopening; doubles up to `maxRetryMs`. */
  readonly retryMs?: number;
  readonly maxRetryMs?: number;
  /**
   * Called once the watch is in place on a new hypervisor run, before `ready()` settles: what
   * it applies is watched, and the run applies nothing else until it is done.
   */
  readonly onResume?: (restart: HypervisorRestart) => Promise<void>;
}

export class ResumingFaultWatch {
  /** The hypervisor run the watch follows now (0: the one the run started with). */
  epoch = 0;
  /** Each new hypervisor run the watch reconnected to, when it answered. */
  readonly restarts: HypervisorRestart[] = [];
  /** Why the watch was lost, each time. */
  readonly losses: string[] = [];
  #current: { cancel(): void; readonly done: Promise<void> } | undefined;
  #ready: Promise<void>;
  #cancelled = false;

  constructor(
    private readonly client: Pick<ToolstackClient, "watchFaults" | "listFaults">,
    private readonly onEvent: (event: FaultEventView) => void,
    private readonly options: ResumingWatchOptions = {},
  ) {
    this.#ready = this.#open(false);
  }

  /** Settles once the watch is in place (after an outage: on the new hypervisor). */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Ends the watch (no reopening after this). */
  async cancel(): Promise<void> {
    this.#cancelled = true;
    const current = this.#current;
    current?.cancel();
    await current?.done.catch(() => undefined);
  }

  async #open(resumed: boolean): Promise<void> {
    let delay = this.options.retryMs ?? 100;
    while (!this.#cancelled) {
      const epoch = resumed ? this.epoch + 1 : this.epoch;
      // Mutated by the stream's settlement (an object: TypeScript narrows a plain let).
      const stream = { ended: false };
      const watch = this.client.watchFaults((e) => {
        this.onEvent({ ...e, id: epochId(e.id, epoch) });
      });
      const settled = watch.done.then(
        () => "the hypervisor ended the fault watch",
        (err: unknown) => describeError(err),
      );
      void settled.then(() => (stream.ended = true));
      try {
        // Answered after the watch was opened on this channel: the watch is registered.
        await this.client.listFaults();
      } catch {
        watch.cancel();
        await sleep(delay);
        delay = Math.min(this.options.maxRetryMs ?? 1000, delay * 2);
        continue;
      }
      if (stream.ended) continue;
      this.#current = watch;
      void settled.then((reason) => {
        if (this.#cancelled || this.#current !== watch) return;
        this.losses.push(reason);
        this.#ready = this.#open(true);
      });
      if (resumed) {
        this.epoch = epoch;
        const restart = { epoch, timeMs: Date.now() };
        this.restarts.push(restart);
        await this.options.onResume?.(restart);
      }
      return;
    }
  }
}
