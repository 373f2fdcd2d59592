// SPDX-License-Identifier: Apache-2.0
/**
 * `hmx chaos`: its arguments become the toolstack's fault requests, usage errors name the bad
 * value (exit 2), and end to end against a real hypervisor it applies, lists and clears faults,
 * with a refused fault exiting 1 and naming the domain.
 */
import {
  createLogger,
  parseHypervisorConfig,
  startHypervisor,
  type RunningHypervisor,
} from "@hmx/hypervisor";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import type { CommandIo } from "../commands/control.js";
import { UsageError } from "../commands/control.js";
import { parseChaosArgs, runChaosCommand } from "./chaos-command.js";
import { parseDuration } from "./duration.js";

function capture(): CommandIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, log: (l) => out.push(l), error: (l) => err.push(l) };
}

describe("hmx chaos arguments", () => {
  it("partition is both ways by default, --one-way and --refused change it, --for sets the duration", () => {
    assert.deepEqual(parseChaosArgs("partition", ["guest-1", "guest-2,guest-3", "--for", "5s"]), {
      op: "apply",
      fault: {
        argo: {
          type: "partition",
          from: ["guest-1"],
          to: ["guest-2", "guest-3"],
          bothWays: true,
          show: "full",
        },
        durationMs: 5000,
      },
    });
    const oneWay = parseChaosArgs("partition", ["a", "b", "--one-way", "--refused"]);
    assert.deepEqual(oneWay.op === "apply" && oneWay.fault, {
      argo: { type: "partition", from: ["a"], to: ["b"], bothWays: false, show: "refused" },
    });
  });

  it("eagain, delay, late-virq and pause", () => {
    assert.deepEqual(parseChaosArgs("eagain", ["a", "--probability", "0.3"]), {
      op: "apply",
      fault: { argo: { type: "eagain", from: ["a"], probability: 0.3 } },
    });
    assert.deepEqual(parseChaosArgs("delay", ["a,b", "--by", "50ms", "--jitter", "10ms"]), {
      op: "apply",
      fault: { argo: { type: "delay", from: ["a", "b"], delayMs: 50, jitterMs: 10 } },
    });
    assert.deepEqual(parseChaosArgs("late-virq", ["a", "--by", "1.5s"]), {
      op: "apply",
      fault: { argo: { type: "late_virq", from: ["a"], delayMs: 1500 } },
    });
    assert.deepEqual(parseChaosArgs("pause", ["a", "--for", "2m"]), {
      op: "apply",
      fault: { argo: { type: "pause", from: ["a"] }, durationMs: 120_000 },
    });
  });

  it("link faults by domain name: down, or a toxic with its attributes", () => {
    assert.deepEqual(parseChaosArgs("link", ["guest-1", "down"]), {
      op: "apply",
      fault: { link: { domain: "guest-1", down: true } },
    });
    assert.deepEqual(
      parseChaosArgs("link", ["guest-1", "latency", "--attr", "latency=200", "--attr", "jitter=5"]),
      {
        op: "apply",
        fault: {
          link: {
            domain: "guest-1",
            toxic: { type: "latency", attributes: { latency: 200, jitter: 5 } },
          },
        },
      },
    );
  });

  it("list, clear and watch", () => {
    assert.deepEqual(parseChaosArgs("list", ["--json"]), { op: "list", json: true });
    assert.deepEqual(parseChaosArgs("clear", []), { op: "clear", ids: [] });
    assert.deepEqual(parseChaosArgs("clear", ["argo-1", "link:a/down"]), {
      op: "clear",
      ids: ["argo-1", "link:a/down"],
    });
    assert.deepEqual(parseChaosArgs("watch", []), { op: "watch" });
  });

  it("process faults: kill (SIGKILL, or SIGTERM with --signal), stop --for, cont, restart", () => {
    assert.deepEqual(parseChaosArgs("kill", ["sink"]), {
      op: "process",
      fault: { action: "kill", target: "sink" },
    });
    assert.deepEqual(parseChaosArgs("kill", ["hypervisor", "--signal", "SIGTERM"]), {
      op: "process",
      fault: { action: "terminate", target: "hypervisor" },
    });
    assert.deepEqual(parseChaosArgs("stop", ["echo", "--for", "2s"]), {
      op: "process",
      fault: { action: "stop", target: "echo", forMs: 2000 },
    });
    assert.deepEqual(parseChaosArgs("restart", ["sink"]), {
      op: "process",
      fault: { action: "restart", target: "sink", forMs: 0 },
    });
  });

  it("usage errors name the bad value", () => {
    const cases: [string, string[], RegExp][] = [
      ["meteor", [], /unknown subcommand "meteor"/],
      ["partition", ["a"], /needs two groups/],
      [
        "partition",
        ["a", "b", "--for", "5"],
        /--for "5": expected a duration like 500ms, 5s or 2m/,
      ],
      ["partition", ["a", "b c"], /second group "b c": expected a domain name/],
      ["partition", ["a", "b", "--probability", "1"], /chaos partition takes no --probability/],
      ["eagain", ["a", "--probability", "0"], /--probability "0": expected a number in \(0, 1\]/],
      ["delay", ["a"], /chaos delay needs --by DURATION/],
      ["late-virq", ["a", "--by", "0ms"], /--by "0ms": at least 1ms/],
      ["link", ["a", "latency", "--attr", "latency"], /--attr "latency": expected NAME=N/],
      ["link", ["a", "down", "--attr", "x=1"], /down takes no toxic options/],
      ["link", ["a", "latency", "--stream", "sideways"], /--stream "sideways"/],
      ["kill", ["sink", "--signal", "SIGHUP"], /--signal "SIGHUP": expected SIGKILL or SIGTERM/],
      ["kill", [], /chaos kill needs one process NAME/],
      ["cont", ["sink", "--for", "1s"], /chaos cont takes no --for/],
    ];
    for (const [sub, args, message] of cases)
      assert.throws(
        () => parseChaosArgs(sub, args),
        (err: unknown) => {
          assert.ok(err instanceof UsageError, `${sub} ${args.join(" ")}: ${String(err)}`);
          assert.match(err.message, message);
          return true;
        },
      );
    assert.equal(parseDuration("--for", "250ms"), 250);
  });
});

describe("hmx chaos against a hypervisor", () => {
  let hv: RunningHypervisor;
  let env: Record<string, string>;

  before(async () => {
    const token = randomBytes(24).toString("base64url");
    const config = parseHypervisorConfig({
      argv: ["--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0"],
      env: { HMX_ADMIN_TOKEN: token },
    });
    if (config === "help") throw new Error("unexpected help");
    hv = await startHypervisor(config, createLogger("silent"));
    env = { HMX_CONTROL: hv.controlListen, HMX_ADMIN_TOKEN: token };
    for (const name of ["guest-1", "guest-2"])
      hv.core.domains.create({ name, label: "domU_t", memoryBytes: 1 << 20 });
  });
  after(async () => {
    await hv.stop();
  });

  it("partition, list and clear: the fault is in force, then gone", async () => {
    const io = capture();
    assert.equal(
      await runChaosCommand(["partition", "guest-1", "guest-2", "--for", "5s"], io, env),
      0,
      io.err.join("\n"),
    );
    assert.match(
      io.out[0] ?? "",
      /^started argo-\d+ {2}partition guest-1 <-> guest-2 \(full\) for 5s$/,
    );
    assert.equal(hv.argoFaults.size, 1);
    const listed = capture();
    assert.equal(await runChaosCommand(["list"], listed, env), 0);
    assert.match(listed.out[0] ?? "", /partition guest-1 <-> guest-2/);
    const cleared = capture();
    assert.equal(await runChaosCommand(["clear"], cleared, env), 0);
    assert.match(cleared.out[0] ?? "", /^cleared argo-\d+$/);
    assert.equal(hv.argoFaults.size, 0);
  });

  it("a fault on an unknown domain exits 1 naming it, a bad flag exits 2", async () => {
    const io = capture();
    assert.equal(await runChaosCommand(["pause", "guest-9"], io, env), 1);
    assert.match(io.err[0] ?? "", /hmx chaos pause: not found: no live domain named "guest-9"/);
    const usage = capture();
    assert.equal(await runChaosCommand(["pause", "guest-1", "--for", "soon"], usage, env), 2);
    assert.match(usage.err.join("\n"), /--for "soon"/);
    assert.equal(hv.argoFaults.size, 0);
  });

  it("run plays a schedule, writes its results, and fails when liveness is not shown", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hmx-chaos-run-"));
    const file = join(dir, "schedule.json");
    writeFileSync(
      file,
      JSON.stringify({
        duration: "400ms",
        timeline: [
          {
            at: "50ms",
            for: "100ms",
            fault: { argo: { type: "partition", from: ["guest-1"], to: ["guest-2"] } },
          },
        ],
      }),
    );
    const out = join(dir, "results");
    const io = capture();
    // No guest moves messages here, so liveness after the heal cannot be shown: exit 1.
    assert.equal(
      await runChaosCommand(
        ["run", file, "--seed", "5", "--out", out, "--liveness", "300ms"],
        io,
        env,
      ),
      1,
      io.err.join("\n"),
    );
    assert.match(io.out[0] ?? "", /^seed 5: 1 faults over 400ms/);
    const results = JSON.parse(readFileSync(join(out, "results.json"), "utf8")) as {
      passed: boolean;
      checks: { name: string; passed: boolean }[];
    };
    assert.equal(results.passed, false);
    assert.deepEqual(
      results.checks.map((c) => [c.name, c.passed]),
      [
        ["faults applied", true],
        ["every fault healed", true],
        ["liveness after every heal", false],
      ],
    );
    const history = readFileSync(join(out, "history.jsonl"), "utf8").trim().split("\n");
    assert.deepEqual(
      history.map((l) => (JSON.parse(l) as { action: string }).action),
      ["start", "end"],
    );
    assert.match(readFileSync(join(out, "junit.xml"), "utf8"), /failures="1"/);
    const summary = readFileSync(join(out, "summary.txt"), "utf8");
    assert.match(summary, /^hmx chaos run: FAILED \(seed 5/);
    assert.match(summary, /timeline\.svg: every fault as a bar over time/);
    const svg = readFileSync(join(out, "timeline.svg"), "utf8");
    const faultId = (JSON.parse(history[0] ?? "{}") as { id: string }).id;
    assert.equal(svg.match(/<rect class="fault"/g)?.length, 1, "one bar for the one fault");
    assert.match(svg, new RegExp(`data-id="${faultId}"`));
    assert.equal(hv.argoFaults.size, 0);
  });
});
