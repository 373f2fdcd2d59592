// SPDX-License-Identifier: Apache-2.0
/**
 * Every fault's start and end is a `fault` event in the history (DESIGN §3.5), and the metrics
 * count the faults active: a toxic added and removed, and a link taken down and up, through the
 * Toxiproxy-compatible API, and an Argo partition through the toolstack, of a real `hmx hypervisor`
 * process writing `--history-file`.
 */
import { Testbed } from "@hmx/testkit";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";

const dir = mkdtempSync(join(tmpdir(), "hmx-fault-history-"));
const historyFile = join(dir, "history.jsonl");
let bed: Testbed;
let api = "";
let http = "";

before(async () => {
  bed = await Testbed.start([
    "--toxiproxy-listen",
    "127.0.0.1:0",
    "--http-listen",
    "127.0.0.1:0",
    "--history-file",
    historyFile,
  ]);
  const ready = bed.hypervisor.last("hypervisor ready");
  api = `http://${String(ready?.["toxiproxyListen"])}`;
  http = `http://${String(ready?.["httpListen"])}`;
});
after(async () => {
  await bed.stopAll();
  rmSync(dir, { recursive: true, force: true });
});

interface FaultRecord {
  kind: string;
  type: string;
  name: string;
  action: string;
}

/** The fault events in the history file so far. */
function faultEvents(): FaultRecord[] {
  let text = "";
  try {
    text = readFileSync(historyFile, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.includes('"kind":"fault"'))
    .map((l) => JSON.parse(l) as FaultRecord);
}

async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${what} within 10 s`);
}

async function activeFaults(): Promise<number> {
  const res = await fetch(`${http}/metrics`, {
    headers: { authorization: `Bearer ${bed.adminToken}` },
  });
  const line = (await res.text()).split("\n").find((l) => l.startsWith("hmx_faults_active "));
  return Number(line?.split(" ")[1]);
}

test("a toxic's and a link-down's start and end are fault events, and hmx_faults_active follows them", async () => {
  await bed.domain("victim");
  const post = (path: string, body: object) =>
    fetch(`${api}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  const added = await post("/proxies/victim/toxics", {
    name: "slow",
    type: "latency",
    stream: "downstream",
    attributes: { latency: 50 },
  });
  assert.equal(added.status, 200, await added.text());
  assert.equal(await post("/proxies/victim", { enabled: false }).then((r) => r.status), 200);
  assert.equal(await activeFaults(), 2, "one toxic and one link down are active");

  assert.equal(
    (await fetch(`${api}/proxies/victim/toxics/slow`, { method: "DELETE" })).status,
    204,
  );
  assert.equal(await post("/proxies/victim", { enabled: true }).then((r) => r.status), 200);
  assert.equal(await activeFaults(), 0);

  const events = await until("four fault events in the history file", () => {
    const e = faultEvents();
    return e.length >= 4 ? e : undefined;
  });
  assert.deepEqual(
    events.map((e) => [e.type, e.name]),
    [
      ["start", "victim/slow"],
      ["start", "victim/down"],
      ["stop", "victim/slow"],
      ["stop", "victim/down"],
    ],
  );
});

test("an Argo fault's start and end, through the toolstack, are fault events counted in hmx_faults_active", async () => {
  await bed.domain("left");
  await bed.domain("right");
  const before = faultEvents().length;
  const fault = await bed.toolstack.applyFault({
    argo: { type: "partition", from: ["left"], to: ["right"], bothWays: true },
  });
  assert.equal(await activeFaults(), 1);
  await bed.toolstack.clearFaults([fault.id]);
  assert.equal(await activeFaults(), 0);
  const events = await until("two more fault events in the history file", () => {
    const e = faultEvents().slice(before);
    return e.length >= 2 ? e : undefined;
  });
  assert.deepEqual(
    events.map((e) => [e.type, e.name]),
    [
      ["start", `left<->right/${fault.id}`],
      ["stop", `left<->right/${fault.id}`],
    ],
  );
});
