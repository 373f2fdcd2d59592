// SPDX-License-Identifier: Apache-2.0
/**
 * Tests of the `hmx up` hypervisor supervisor: listener addresses pinned for a restart, the
 * restart delays, and a real `hmx hypervisor` SIGKILLed under it (restarted on the same port),
 * or unable to start again (given up on, with the reason).
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:net";
import { after, describe, it } from "node:test";
import type { LogRecord } from "./child-process.js";
import {
  DEFAULT_RESTART_POLICY,
  pinListenAddresses,
  RestartingChild,
  RestartSchedule,
  type RestartPolicy,
} from "./supervisor.js";

describe("pinListenAddresses", () => {
  it("replaces each listener flag's value by the address the ready line reported, both spellings", () => {
    const ready = {
      msg: "hypervisor ready",
      listen: "127.0.0.1:4001",
      controlListen: "127.0.0.1:4002",
      httpListen: "127.0.0.1:4003",
    };
    assert.deepEqual(
      pinListenAddresses(
        [
          "hypervisor",
          "--listen",
          "127.0.0.1:0",
          "--control-listen=127.0.0.1:0",
          "--policy",
          "p.te",
          "--http-listen",
          "127.0.0.1:0",
        ],
        ready,
      ),
      [
        "hypervisor",
        "--listen",
        "127.0.0.1:4001",
        "--control-listen=127.0.0.1:4002",
        "--policy",
        "p.te",
        "--http-listen",
        "127.0.0.1:4003",
      ],
    );
  });

  it("leaves a listener the ready line does not report as it was", () => {
    const args = ["hypervisor", "--listen", "unix:/run/hmx.sock", "--http-listen", "127.0.0.1:0"];
    assert.deepEqual(pinListenAddresses(args, { listen: "" }), args);
  });
});

describe("RestartSchedule", () => {
  it("doubles the delay per crash up to the maximum, and starts over after a healthy run", () => {
    const s = new RestartSchedule({
      ...DEFAULT_RESTART_POLICY,
      initialDelayMs: 100,
      maxDelayMs: 500,
    });
    assert.deepEqual([s.next(10), s.next(10), s.next(10), s.next(10)], [100, 200, 400, 500]);
    assert.equal(s.next(DEFAULT_RESTART_POLICY.healthyAfterMs), 100);
  });
});

const QUICK: RestartPolicy = {
  initialDelayMs: 50,
  maxDelayMs: 200,
  healthyAfterMs: 60_000,
  maxFailedStarts: 3,
};

/** A bounded wait for `cond`. */
async function until(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe("RestartingChild around a real hmx hypervisor", { timeout: 120_000 }, () => {
  const children: RestartingChild[] = [];
  const blockers: Server[] = [];
  after(async () => {
    for (const c of children) await c.stop();
    for (const b of blockers) b.close();
  });

  function start(policy: RestartPolicy = QUICK): {
    child: RestartingChild;
    readies: LogRecord[];
    exits: { reason: string; delayMs: number | undefined }[];
  } {
    const readies: LogRecord[] = [];
    const exits: { reason: string; delayMs: number | undefined }[] = [];
    const child = new RestartingChild(
      "hypervisor",
      ["hypervisor", "--listen", "127.0.0.1:0", "--control-listen", "127.0.0.1:0"],
      { HMX_ADMIN_TOKEN: "a-supervisor-test-admin-token" },
      "hypervisor ready",
      {
        onRecord: (r) => {
          if (r.msg === "hypervisor ready") readies.push(r);
        },
        onText: () => undefined,
        onExit: (e) => exits.push(e),
      },
      policy,
    );
    children.push(child);
    return { child, readies, exits };
  }

  it("a SIGKILLed hypervisor is restarted on the same ports", async () => {
    const { child, readies, exits } = start();
    await until("the first ready line", () => readies.length === 1);
    const first = child.current;
    first.process.kill("SIGKILL");
    await until("the restart's ready line", () => readies.length === 2);
    assert.deepEqual(exits, [
      { code: null, signal: "SIGKILL", reason: "signal SIGKILL", delayMs: 50 },
    ]);
    assert.equal(readies[1]?.["listen"], readies[0]?.["listen"]);
    assert.equal(readies[1]?.["controlListen"], readies[0]?.["controlListen"]);
    assert.equal(child.restarts, 1);
    assert.notEqual(child.current, first);
    assert.equal(child.running, true);
    await child.stop();
    assert.equal(child.current.running, false, "stop() ends the current run");
    assert.equal(child.running, false);
  });

  it("with maxRestarts 0 a killed child stays down and is reported given up (hmx up without --restart-guests)", async () => {
    const { child, readies, exits } = start({ ...QUICK, maxRestarts: 0 });
    await until("the first ready line", () => readies.length === 1);
    child.current.process.kill("SIGKILL");
    await until("giving up", () => !child.running);
    assert.deepEqual(exits, [
      { code: null, signal: "SIGKILL", reason: "signal SIGKILL", delayMs: undefined },
    ]);
    assert.equal(child.restarts, 0);
  });

  it("a hypervisor that cannot start again is given up on after maxFailedStarts, saying why", async () => {
    const { child, readies, exits } = start();
    await until("the first ready line", () => readies.length === 1);
    // Take its guest port as soon as it is free: every restart then fails to listen.
    const port = Number(String(readies[0]?.["listen"]).split(":")[1]);
    child.current.process.kill("SIGKILL");
    await child.current.exited;
    const blocker = createServer();
    blockers.push(blocker);
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    await until("giving up", () => !child.running);
    assert.equal(exits.length, 1 + QUICK.maxFailedStarts);
    assert.equal(exits.at(-1)?.delayMs, undefined, "no restart after the last failed start");
    assert.equal(exits.at(-1)?.reason, "exit code 1");
    assert.equal(child.restarts, QUICK.maxFailedStarts);
  });
});
