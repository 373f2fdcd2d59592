// SPDX-License-Identifier: Apache-2.0
/**
 * The attacker's side of an isolated attack (isolated-attack.ts), run in a worker thread: it
 * connects its own toolstack client, launches the named guest attack and answers the parent's
 * "stop". The attacker then encodes, decodes and waits on its own event loop, so what the victim
 * pair measures is the hypervisor, not the attacker sharing its thread.
 */
import { ToolstackClient } from "@hmx/client";
import { parentPort, workerData } from "node:worker_threads";
import type { AttackRun } from "./attack.js";
import { GUEST_ATTACKS } from "./index.js";
import type { AttackWorkerData, FromAttackWorker, ToAttackWorker } from "./isolated-attack.js";

const port = parentPort;
if (port === null) throw new Error("attack-worker.js runs only as a worker thread");
const data = workerData as AttackWorkerData;
const post = (message: FromAttackWorker): void => {
  port.postMessage(message);
};
const describe = (err: unknown): string =>
  err instanceof Error ? (err.stack ?? err.message) : String(err);

const toolstack = new ToolstackClient(data.controlListen, data.adminToken);
let run: AttackRun | undefined;

// The one message the parent sends is "stop".
port.once("message", (_stop: ToAttackWorker) => {
  const stopped = run?.stop() ?? Promise.resolve();
  void stopped
    .catch(() => undefined)
    .then(() => {
      toolstack.close();
      post({ type: "stopped", facts: run?.facts() ?? {} });
      port.close();
    });
});

try {
  const attack = GUEST_ATTACKS.find((a) => a.name === data.attack);
  if (attack === undefined) throw new Error(`no guest attack named ${data.attack}`);
  run = await attack.launch({ listen: data.listen, toolstack }, data.seed);
  post({ type: "launched" });
  run.finished.then(
    () => {
      post({ type: "finished", facts: run?.facts() ?? {} });
    },
    (err: unknown) => {
      post({ type: "failed", error: describe(err) });
    },
  );
} catch (err) {
  post({ type: "failed", error: describe(err) });
}
