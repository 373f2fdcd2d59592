// SPDX-License-Identifier: Apache-2.0
/**
 * Schedules and checkers: a seeded schedule expands to the same fault sequence every time, bad
 * schedules name the bad field, and each checker fails on a planted violation.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

import { UsageError } from "../commands/control.js";
import { checkAllApplied, checkAllHealed, checkLiveness, junitXml } from "./checkers.js";
import { expandSchedule } from "./schedule.js";
import { expandScheduleFile, readScheduleFile } from "./schedule-file.js";

const DOMAINS = ["g1", "g2", "g3", "g4", "g5"];
const SCHEDULE = {
  duration: "60s",
  timeline: [{ at: "1s", for: "2s", fault: { argo: { type: "pause", from: ["g1"] } } }],
  generators: [
    { kind: "random-halves", every: "5s", for: "2s" },
    { kind: "one-way", every: "7s", for: "1s" },
    { kind: "bridge", every: "11s", for: "3s" },
    { kind: "majority-ring", every: "13s", for: "3s" },
    { kind: "pause-random", every: "17s", for: "500ms" },
    { kind: "link-flap", every: "19s", for: "1s", domains: ["g2", "g3"] },
  ],
};

describe("fault schedules", () => {
  it("the same seed gives the same fault sequence, another seed another", () => {
    console.log("# seeds 42 and 43");
    const first = expandSchedule(SCHEDULE, DOMAINS, 42, 0);
    assert.deepEqual(expandSchedule(SCHEDULE, DOMAINS, 42, 0), first);
    assert.notDeepEqual(expandSchedule(SCHEDULE, DOMAINS, 43, 0).faults, first.faults);
    assert.equal(first.seed, 42);
  });

  it("--seed wins over the file's seed, which wins over the fallback", () => {
    assert.equal(expandSchedule({ ...SCHEDULE, seed: 7 }, DOMAINS, undefined, 1).seed, 7);
    assert.equal(expandSchedule({ ...SCHEDULE, seed: 7 }, DOMAINS, 9, 1).seed, 9);
    assert.equal(expandSchedule(SCHEDULE, DOMAINS, undefined, 1).seed, 1);
  });

  it("timeline and generator faults come sorted by time, each generator every interval", () => {
    const { faults } = expandSchedule(SCHEDULE, DOMAINS, 1, 0);
    assert.deepEqual(
      faults.map((f) => f.atMs),
      [...faults.map((f) => f.atMs)].sort((a, b) => a - b),
    );
    assert.deepEqual(faults[0], {
      atMs: 1000,
      durationMs: 2000,
      source: "timeline[0]",
      fault: { argo: { type: "pause", from: ["g1"] } },
    });
    const halves = faults.filter((f) => f.source === "generators[0] random-halves");
    assert.deepEqual(
      halves.map((f) => f.atMs),
      [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55].map((s) => s * 1000),
    );
    for (const f of halves) {
      assert.ok("argo" in f.fault);
      const { from, to = [] } = f.fault.argo;
      assert.deepEqual([...from, ...to].sort(), DOMAINS, "two halves of every domain");
    }
    const flaps = faults.filter((f) => "link" in f.fault);
    assert.ok(flaps.every((f) => "link" in f.fault && ["g2", "g3"].includes(f.fault.link.domain)));
  });

  it("the example schedules in deploy/chaos expand; the soak applies at least 1,000 faults", () => {
    const dir = fileURLToPath(new URL("../../../deploy/chaos/", import.meta.url));
    const files = readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f));
    assert.ok(files.includes("soak.yaml"));
    for (const file of files) {
      // Some name the guests of hmx up's default fleet.
      const live = [...DOMAINS, "echo", "sink", "pinger", "streamer"];
      const expanded = expandScheduleFile(readScheduleFile(dir + file), live, 1, 0);
      assert.ok(expanded.faults.length > 0, file);
      if (file === "soak.yaml") {
        assert.ok(expanded.faults.length >= 1000, `soak: ${expanded.faults.length} faults`);
        assert.equal(expanded.durationMs, 600_000);
      }
    }
  });

  it("a bad schedule names the bad field and value", () => {
    const cases: [unknown, RegExp][] = [
      [[], /expected an object \(a YAML mapping or JSON object\)/],
      [{ ...SCHEDULE, extra: 1 }, /unknown field "extra"/],
      [{ ...SCHEDULE, duration: "1h" }, /duration "1h": expected a duration/],
      [{ ...SCHEDULE, seed: -1 }, /seed -1: expected an integer/],
      [{ duration: "5s", timeline: [{ at: "1s", for: "1s" }] }, /timeline\[0\]: expected/],
      [
        { duration: "5s", generators: [{ kind: "tornado", every: "1s", for: "1s" }] },
        /generators\[0\]\.kind "tornado": expected one of random-halves/,
      ],
      [
        { duration: "5s", generators: [{ kind: "one-way", every: "1s", for: "1s" }] },
        /for 1000ms is not shorter than every 1000ms/,
      ],
      [
        {
          duration: "5s",
          generators: [{ kind: "bridge", every: "2s", for: "1s", domains: ["g1", "g2"] }],
        },
        /bridge needs at least 3 domains, has 2/,
      ],
      [
        {
          duration: "5s",
          generators: [{ kind: "one-way", every: "2s", for: "1s", domains: ["g1", "zz"] }],
        },
        /no live domain named "zz"/,
      ],
    ];
    cases.push([
      {
        duration: "5s",
        timeline: [{ at: "1s", for: "1s", fault: { process: { action: "nap", target: "g1" } } }],
      },
      /timeline\[0\]\.fault\.process .*"nap".*expected \{"action": kill\|terminate\|stop/,
    ]);
    for (const [schedule, message] of cases)
      assert.throws(
        () => expandSchedule(schedule, DOMAINS, 1, 0),
        (err: unknown) => err instanceof UsageError && message.test(err.message),
        String(message),
      );
  });
});

describe("schedule files: YAML or JSON", () => {
  const YAML_SCHEDULE = `# the same schedule as SCHEDULE, written as YAML
duration: 60s
timeline:
  - at: 1s
    for: 2s
    fault: { argo: { type: pause, from: [g1] } }
generators:
  - { kind: random-halves, every: 5s, for: 2s }
  - { kind: one-way, every: 7s, for: 1s }
  - { kind: bridge, every: 11s, for: 3s }
  - { kind: majority-ring, every: 13s, for: 3s }
  - kind: pause-random
    every: 17s
    for: 500ms
  - { kind: link-flap, every: 19s, for: 1s, domains: [g2, g3] }
`;

  function withFile(name: string, text: string, body: (file: string) => void): void {
    const dir = mkdtempSync(join(tmpdir(), "hmx-schedule-"));
    try {
      const file = join(dir, name);
      writeFileSync(file, text);
      body(file);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  function refusal(file: string): string {
    try {
      expandScheduleFile(readScheduleFile(file), DOMAINS, 1, 0);
    } catch (err) {
      assert.ok(err instanceof UsageError, String(err));
      return err.message;
    }
    assert.fail(`${file} was accepted`);
  }

  it("a YAML schedule expands exactly like the same schedule in JSON", () => {
    for (const name of ["s.yaml", "s.yml"])
      withFile(name, YAML_SCHEDULE, (file) => {
        assert.deepEqual(
          expandScheduleFile(readScheduleFile(file), DOMAINS, 42, 0),
          expandSchedule(SCHEDULE, DOMAINS, 42, 0),
        );
      });
    withFile("s.json", JSON.stringify(SCHEDULE, null, 2), (file) => {
      assert.deepEqual(
        expandScheduleFile(readScheduleFile(file), DOMAINS, 42, 0),
        expandSchedule(SCHEDULE, DOMAINS, 42, 0),
      );
    });
  });

  it("a bad field in a YAML file is named with the file and its line", () => {
    const text = YAML_SCHEDULE.replace("every: 13s", "every: 13 seconds");
    withFile("bad.yaml", text, (file) => {
      const message = refusal(file);
      assert.match(
        message,
        /bad\.yaml:11: schedule: generators\[3\]\.every "13 seconds": expected a duration/,
      );
    });
    withFile("bad.yaml", YAML_SCHEDULE.replace("    for: 500ms\n", ""), (file) => {
      // A missing field is reported at the entry that lacks it.
      assert.match(refusal(file), /bad\.yaml:12: schedule: generators\[4\]\.for undefined/);
    });
    withFile(
      "bad.yaml",
      YAML_SCHEDULE.replace("domains: [g2, g3]", "domains: [g2, zz]"),
      (file) => {
        assert.match(
          refusal(file),
          /bad\.yaml:15: schedule: generators\[5\]\.domains: no live domain named "zz"/,
        );
      },
    );
  });

  it("a bad field in a JSON file is named with the file and its line", () => {
    const bad = { ...SCHEDULE, generators: [...SCHEDULE.generators, { kind: "tornado" }] };
    withFile("bad.json", JSON.stringify(bad, null, 2), (file) => {
      const line =
        JSON.stringify(bad, null, 2)
          .split("\n")
          .findIndex((l) => l.includes("tornado")) + 1;
      assert.match(
        refusal(file),
        new RegExp(`bad\\.json:${line}: schedule: generators\\[6\\]\\.kind "tornado"`),
      );
    });
  });

  it("a syntax error names the file and the line, and an unreadable file is named", () => {
    withFile(
      "broken.yaml",
      "duration: 60s\ngenerators:\n  - { kind: one-way, every: 3s\n",
      (file) => {
        assert.match(
          refusal(file),
          /broken\.yaml:\d+ is not valid YAML: .+ at line \d+, column \d+/,
        );
      },
    );
    withFile("broken.json", '{\n  "duration": "60s",\n  "generators": [,]\n}\n', (file) => {
      assert.match(refusal(file), /broken\.json(:3)? is not JSON: /);
    });
    assert.match(refusal("/nonexistent/soak.yaml"), /schedule "\/nonexistent\/soak\.yaml": ENOENT/);
  });
});

describe("process-fault generators", () => {
  it("kill-random and stop-random pick a guest of the pool by the seed", () => {
    const schedule = {
      duration: "10s",
      generators: [
        { kind: "kill-random", every: "3s", for: "1s" },
        { kind: "stop-random", every: "4s", for: "1s", domains: ["g2"] },
      ],
    };
    const a = expandSchedule(schedule, DOMAINS, 9, 0);
    assert.deepEqual(a, expandSchedule(schedule, DOMAINS, 9, 0), "same seed, same faults");
    const kinds = a.faults.map((f) => ("process" in f.fault ? f.fault.process.action : "?"));
    assert.deepEqual(kinds, ["kill", "stop", "kill", "stop", "kill"]);
    for (const f of a.faults) {
      assert.ok("process" in f.fault);
      assert.ok(DOMAINS.includes(f.fault.process.target));
      if (f.fault.process.action === "stop") assert.equal(f.fault.process.target, "g2");
    }
  });

  it("hypervisor-kill and hypervisor-restart take the hypervisor down every interval; kill-random may draw it", () => {
    const schedule = {
      duration: "20s",
      generators: [
        { kind: "hypervisor-kill", every: "6s", for: "5s" },
        { kind: "hypervisor-restart", every: "9s", for: "5s" },
        { kind: "kill-random", every: "4s", for: "1s", domains: ["g1", "hypervisor"] },
      ],
    };
    const { faults } = expandSchedule(schedule, DOMAINS, 3, 0);
    const hv = faults.flatMap((f) =>
      "process" in f.fault && f.source.includes("hypervisor-")
        ? [[f.atMs, f.fault.process.action, f.fault.process.target]]
        : [],
    );
    assert.deepEqual(hv, [
      [6000, "kill", "hypervisor"],
      [9000, "restart", "hypervisor"],
      [12000, "kill", "hypervisor"],
    ]);
    const drawn = new Set(
      faults.flatMap((f) =>
        "process" in f.fault && f.source.includes("kill-random") ? [f.fault.process.target] : [],
      ),
    );
    assert.ok(
      [...drawn].every((t) => ["g1", "hypervisor"].includes(t)),
      [...drawn].join(),
    );
    assert.throws(
      () =>
        expandSchedule(
          {
            duration: "5s",
            generators: [{ kind: "stop-random", every: "2s", for: "1s", domains: ["hypervisor"] }],
          },
          DOMAINS,
          1,
          0,
        ),
      /no live domain named "hypervisor"/,
      "only kill-random may draw the hypervisor",
    );
  });
});

describe("checkers fail on planted violations", () => {
  it("faults applied: a refused fault fails it", () => {
    assert.equal(checkAllApplied([{ atMs: 0, id: "argo-1" }]).passed, true);
    const planted = checkAllApplied([
      { atMs: 0, id: "argo-1" },
      { atMs: 5, refused: "nope" },
    ]);
    assert.equal(planted.passed, false);
    assert.match(planted.message, /1 of 2 faults refused; first at 5ms: nope/);
  });

  it("every fault healed: a fault with no end, or one still in force, fails it", () => {
    assert.equal(checkAllHealed(["a", "b"], new Set(["a", "b"]), []).passed, true);
    assert.equal(checkAllHealed(["a", "b"], new Set(["a"]), []).passed, false);
    assert.equal(checkAllHealed(["a"], new Set(["a"]), ["link:g1/down"]).passed, false);
  });

  it("liveness: no delivery within the limit after a heal fails it", () => {
    const samples = [0, 100, 200, 300, 400, 500].map((t, i) => ({
      timeMs: t,
      delivered: t < 300 ? i : 2,
    }));
    assert.equal(checkLiveness([50], samples, 100).passed, true);
    const planted = checkLiveness([50, 250], samples, 200);
    assert.equal(planted.passed, false, "nothing moved after the heal at 250ms");
    assert.equal(planted.figures["failedHeals"], 1);
    assert.equal(checkLiveness([450], samples, 1000).passed, false, "samples end too early");
  });

  it("junit.xml has one test case per check and a failure for each failed one", () => {
    const report = junitXml("hmx chaos", [checkAllApplied([]), checkLiveness([10], [], 100)]);
    assert.match(report, /<testsuite name="hmx chaos" tests="2" failures="1">/);
    assert.match(report, /<failure message="no message moved within 100ms/);
  });
});
