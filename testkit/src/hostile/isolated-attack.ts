// SPDX-License-Identifier: Apache-2.0
/**
 * Runs a guest attack in a worker thread of its own (attack-worker.ts). In the victim's thread
 * the attacker's work — encoding 786,432 notify entries, decoding 16 MiB replies — stalled the
 * victim pair as much as the hypervisor did, so the victim's rate measured the attacker. Isolated,
 * the attacker reaches the hypervisor over its own connections exactly as before.
 */
import { Worker } from "node:worker_threads";
import type { AttackRun, AttackTarget, HostileAttack } from "./attack.js";

/** A target the worker can reach on its own: the control listener and the admin token. */
export interface IsolatableTarget extends AttackTarget {
  readonly controlListen: string;
  readonly adminToken: string;
}

export interface AttackWorkerData {
  readonly attack: string;
  readonly listen: string;
  readonly controlListen: string;
  readonly adminToken: string;
  readonly seed: number;
}

export interface ToAttackWorker {
  readonly type: "stop";
}
export type FromAttackWorker =
  | { readonly type: "launched" }
  | { readonly type: "finished"; readonly facts: Record<string, number> }
  | { readonly type: "stopped"; readonly facts: Record<string, number> }
  | { readonly type: "failed"; readonly error: string };

/**
 * The attack as a HostileAttack whose launch starts the worker; `attack` must be one of
 * GUEST_ATTACKS (the worker finds it by name).
 */
export function isolatedAttack(attack: HostileAttack, target: IsolatableTarget): HostileAttack {
  return {
    name: attack.name,
    kind: attack.kind,
    launch: (_target, seed) => launchInWorker(attack.name, target, seed),
  };
}

function launchInWorker(name: string, target: IsolatableTarget, seed: number): Promise<AttackRun> {
  const workerData: AttackWorkerData = {
    attack: name,
    listen: target.listen,
    controlListen: target.controlListen,
    adminToken: target.adminToken,
    seed,
  };
  const worker = new Worker(new URL("./attack-worker.js", import.meta.url), { workerData });
  let facts: Record<string, number> = {};
  let settleFinished: { resolve: () => void; reject: (err: Error) => void } | undefined;
  const finished = new Promise<void>((resolve, reject) => {
    settleFinished = { resolve, reject };
  });
  // A failure before anyone awaits `finished` is still reported through it.
  finished.catch(() => undefined);
  // Settles once the worker closed its connections ("stopped") or is gone.
  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    markStopped = resolve;
    worker.once("exit", () => {
      resolve();
    });
  });
  return new Promise<AttackRun>((resolveLaunch, rejectLaunch) => {
    let launched = false;
    const fail = (error: string): void => {
      const err = new Error(`${name} (seed ${seed}) failed in its worker: ${error}`);
      if (launched) settleFinished?.reject(err);
      else rejectLaunch(err);
      void worker.terminate();
    };
    worker.on("error", (err) => {
      fail(err.stack ?? err.message);
    });
    worker.on("message", (message: FromAttackWorker) => {
      switch (message.type) {
        case "launched":
          launched = true;
          resolveLaunch({
            finished,
            facts: () => facts,
            async stop() {
              const stop: ToAttackWorker = { type: "stop" };
              worker.postMessage(stop);
              await stopped;
              await worker.terminate();
            },
          });
          break;
        case "finished":
        case "stopped":
          facts = message.facts;
          if (message.type === "finished") settleFinished?.resolve();
          else markStopped();
          break;
        case "failed":
          fail(message.error);
          break;
      }
    });
    worker.once("exit", (code) => {
      if (!launched) rejectLaunch(new Error(`${name}'s worker exited (${code}) before launching`));
    });
  });
}
