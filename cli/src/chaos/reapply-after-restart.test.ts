// SPDX-License-Identifier: Apache-2.0
/**
 * Faults in force when the hypervisor dies are applied again on the new run (hypervisor-faults.ts
 * `faultsToReapply`, run-schedule.ts): a schedule's long partition, across a hypervisor kill,
 * holds on the new hypervisor for the rest of its scheduled time, under a new id recorded as
 * re-applied in history.jsonl and results.json. The planted case runs the same schedule with the
 * re-apply off and shows the partition gone on the new run: the test's check can fail.
 *
 * The toolstack is a fake hypervisor that can die: its faults and fault watches end with it (no
 * end events: the process is gone), and a new run starts with no fault and ids from `argo-1`.
 * Then the same against a real hypervisor, stopped and started again on its toolstack address:
 * the new one's fault engine refuses the partitioned pair's sends.
 */
import {
  ToolstackClient,
  type DomainView,
  type FaultEventView,
  type FaultSpecView,
  type FaultView,
} from "@hmx/client";
import {
  createLogger,
  parseHypervisorConfig,
  startHypervisor,
  type RunningHypervisor,
} from "@hmx/hypervisor";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";

import { runSchedule, type ReappliedFault } from "./run-schedule.js";
import type { ScheduledFault } from "./schedule.js";

/** A fault a hypervisor run held: on which run, its spec, and its id there. */
interface HeldOnRun {
  readonly run: number;
  readonly id: string;
  readonly spec: FaultSpecView;
}

/** A hypervisor that can be killed and started again, as the toolstack sees it. */
class DyingHypervisor {
  run = 0;
  up = true;
  readonly held: HeldOnRun[] = [];
  #nextId = 1;
  #delivered = 0;
  readonly #faults = new Map<string, { view: FaultView; timer?: NodeJS.Timeout }>();
  readonly #watchers = new Set<{
    onEvent: (e: FaultEventView) => void;
    end: (err?: Error) => void;
  }>();

  #down(): Promise<never> {
    return Promise.reject(new Error("14 UNAVAILABLE: connect ECONNREFUSED"));
  }

  #emit(action: "start" | "end", id: string): void {
    for (const w of this.#watchers)
      w.onEvent({ kind: "argo", action, target: "a", id, detail: {}, timeMs: Date.now() });
  }

  readonly client = {
    listDomains: (): Promise<DomainView[]> => {
      if (!this.up) return this.#down();
      // Other pairs keep moving: the count grows while the hypervisor is up.
      this.#delivered++;
      return Promise.resolve([
        { domid: 1, name: "a", counters: { messagesReceived: this.#delivered } } as DomainView,
      ]);
    },
    listFaults: (): Promise<FaultView[]> =>
      this.up ? Promise.resolve([...this.#faults.values()].map((f) => f.view)) : this.#down(),
    applyFault: (spec: FaultSpecView): Promise<FaultView> => {
      if (!this.up) return this.#down();
      const view = { ...spec, id: `argo-${this.#nextId++}` };
      const ms = spec.durationMs ?? 0;
      const timer =
        ms > 0
          ? setTimeout(() => {
              this.#faults.delete(view.id);
              this.#emit("end", view.id);
            }, ms)
          : undefined;
      this.#faults.set(view.id, { view, ...(timer === undefined ? {} : { timer }) });
      this.held.push({ run: this.run, id: view.id, spec });
      this.#emit("start", view.id);
      return Promise.resolve(view);
    },
    watchFaults: (onEvent: (e: FaultEventView) => void) => {
      let end: (err?: Error) => void = () => undefined;
      const done = new Promise<void>((resolve, reject) => {
        end = (err) => {
          if (err === undefined) resolve();
          else reject(err);
        };
      });
      const watcher = { onEvent, end };
      if (this.up) this.#watchers.add(watcher);
      else end(new Error("14 UNAVAILABLE: connect ECONNREFUSED"));
      return {
        done,
        cancel: () => {
          this.#watchers.delete(watcher);
          end();
        },
      };
    },
  } as unknown as ToolstackClient;

  /** SIGKILL: every fault and watch ends with the process, with no end event. */
  kill(): void {
    this.up = false;
    for (const f of this.#faults.values()) clearTimeout(f.timer);
    this.#faults.clear();
    for (const w of this.#watchers) w.end(new Error("14 UNAVAILABLE: Connection dropped"));
    this.#watchers.clear();
  }

  /** The new run: no faults, ids from argo-1 again. */
  start(): void {
    this.run++;
    this.#nextId = 1;
    this.up = true;
  }
}

const PARTITION: FaultSpecView = {
  argo: { type: "partition", from: ["a"], to: ["b"], bothWays: true },
};
const KILL_AT_MS = 300;
const PARTITION_MS = 3000;

/** A partition from 50 ms for `partitionMs`, and a hypervisor kill (down 100 ms) at 300 ms. */
function partitionAcrossAKill(partitionMs: number): ScheduledFault[] {
  return [
    { atMs: 50, durationMs: partitionMs, source: "timeline[0]", fault: PARTITION },
    {
      atMs: KILL_AT_MS,
      durationMs: 100,
      source: "timeline[1]",
      fault: { process: { action: "kill", target: "hypervisor" } },
    },
  ];
}

/** The schedule above against the fake, with the re-apply on or (planted) off. */
async function runAgainstFake(reapplyAfterRestart: boolean) {
  const hypervisor = new DyingHypervisor();
  const out = mkdtempSync(join(tmpdir(), "hmx-reapply-"));
  try {
    const passed = await runSchedule({
      client: hypervisor.client,
      schedule: {
        seed: 1,
        durationMs: 50 + PARTITION_MS,
        faults: partitionAcrossAKill(PARTITION_MS),
      },
      outDir: out,
      io: { log: () => undefined, error: () => undefined },
      livenessMs: 1000,
      sampleMs: 20,
      reapplyAfterRestart,
      processFault: async (fault) => {
        hypervisor.kill();
        await sleep(fault.forMs ?? 0);
        hypervisor.start();
        return "hypervisor killed, started again";
      },
    });
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as {
      reapplied: ReappliedFault[];
      checks: { name: string; passed: boolean; message: string }[];
    };
    const history = readFileSync(join(out, "history.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { hypervisor, passed, results, history };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

describe("faults in force at a hypervisor kill", () => {
  it("a partition across a hypervisor kill holds on the new run for the rest of its time, recorded as re-applied", async () => {
    const { hypervisor, passed, results, history } = await runAgainstFake(true);
    assert.equal(hypervisor.run, 1, "the hypervisor was killed and started once");
    const onNewRun = hypervisor.held.filter((h) => h.run === 1);
    assert.equal(onNewRun.length, 1, "the partition was applied again on the new run");
    const again = onNewRun[0];
    assert.ok(again !== undefined);
    const { durationMs, ...spec } = again.spec;
    assert.deepEqual(spec, PARTITION, "the same partition");
    assert.ok(
      durationMs !== undefined && durationMs > 0 && durationMs < PARTITION_MS - KILL_AT_MS,
      `for the rest of its scheduled time only (${durationMs}ms)`,
    );
    assert.deepEqual(
      results.reapplied.map(({ id, from, epoch, source }) => ({ id, from, epoch, source })),
      [{ id: "argo-1@1", from: "argo-1", epoch: 1, source: "timeline[0]" }],
    );
    const event = (id: string, action: string) =>
      history.find((e) => e["id"] === id && e["action"] === action);
    assert.equal(event("argo-1@1", "start")?.["reappliedFrom"], "argo-1");
    assert.equal(event("argo-1", "end")?.["reappliedAs"], "argo-1@1");
    assert.ok(event("argo-1@1", "end") !== undefined, "the re-applied partition ended by itself");
    const failed = results.checks.filter((c) => !c.passed);
    assert.deepEqual(failed, [], "every check passes, the re-applied fault healed");
    assert.equal(passed, true);
  });

  it("planted: with the re-apply off the new run holds no partition, which the check above catches", async () => {
    const { hypervisor, results } = await runAgainstFake(false);
    assert.equal(hypervisor.run, 1);
    assert.deepEqual(
      hypervisor.held.filter((h) => h.run === 1),
      [],
      "the partition ended with the killed run",
    );
    assert.deepEqual(results.reapplied, []);
  });
});

describe("faults in force at a real hypervisor's restart", () => {
  const token = randomBytes(24).toString("base64url");
  /** A hypervisor on `control` (port 0 picks one) with the two domains the partition cuts. */
  async function hypervisorOn(control: string): Promise<RunningHypervisor> {
    const config = parseHypervisorConfig({
      argv: ["--listen", "127.0.0.1:0", "--control-listen", control],
      env: { HMX_ADMIN_TOKEN: token },
    });
    if (config === "help") throw new Error("unexpected help");
    const hv = await startHypervisor(config, createLogger("silent"));
    for (const name of ["a", "b"])
      hv.core.domains.create({ name, label: "domU_t", memoryBytes: 1 << 20 });
    return hv;
  }
  /** Whether the hypervisor's fault engine refuses a's sends to b (the partition holds). */
  function cut(hv: RunningHypervisor): boolean {
    const [a, b] = ["a", "b"].map((name) => hv.core.domains.list().find((d) => d.name === name));
    assert.ok(a !== undefined && b !== undefined);
    return hv.argoFaults.sendv(a, b) !== 0;
  }

  it("the partition holds on the new hypervisor after the restart, under a new id", async () => {
    let hv = await hypervisorOn("127.0.0.1:0");
    const control = hv.controlListen;
    const client = new ToolstackClient(control, token);
    const out = mkdtempSync(join(tmpdir(), "hmx-reapply-real-"));
    let heldAfterRestart = false;
    try {
      const passed = await runSchedule({
        client,
        schedule: { seed: 1, durationMs: 8050, faults: partitionAcrossAKill(8000) },
        outDir: out,
        io: { log: () => undefined, error: () => undefined },
        livenessMs: 1000,
        processFault: async () => {
          assert.equal(cut(hv), true, "the partition holds before the restart");
          await hv.stop();
          hv = await hypervisorOn(control);
          assert.equal(cut(hv), false, "a new hypervisor starts with no fault");
          // The run applies it again once its fault watch is back (a bound, not a measurement).
          for (let waited = 0; waited < 6000 && !cut(hv); waited += 50) await sleep(50);
          heldAfterRestart = cut(hv);
          return "hypervisor stopped and started again";
        },
      });
      assert.equal(heldAfterRestart, true, "the partition was applied again on the new hypervisor");
      const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as {
        reapplied: ReappliedFault[];
        checks: { name: string; passed: boolean; message: string }[];
      };
      assert.deepEqual(
        results.reapplied.map((r) => [r.from, r.epoch]),
        [["argo-1", 1]],
      );
      // No guest sends here, so liveness cannot pass; the fault checks must.
      assert.equal(passed, false);
      for (const name of ["faults applied", "every fault healed"]) {
        const check = results.checks.find((c) => c.name === name);
        assert.equal(check?.passed, true, `${name}: ${check?.message}`);
      }
      assert.equal(cut(hv), false, "and it ended at its scheduled end");
    } finally {
      client.close();
      await hv.stop();
      rmSync(out, { recursive: true, force: true });
    }
  });
});
