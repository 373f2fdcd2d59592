// SPDX-License-Identifier: Apache-2.0
/**
 * `node bench/dist/history-bench.js [--rounds N] [--seconds S] [--variants a,b] [--cpu-prof DIR]`:
 * what the harness surface costs
 * the data path. Three `hmx hypervisor` processes run side by side: one plain, one with
 * `--http-listen` (metrics on, nobody subscribed), one with `--http-listen` and a live
 * WebSocket subscriber reading and parsing the whole history in a process of its own
 * (history-reader.ts). One guest pair per hypervisor drives
 * pipelined Session batches of 64-byte sendvs (the receiver consumes by moving rx_ptr), and the
 * variants take turns, round by round, so machine noise hits them alike. Reported per variant
 * (medians of the rounds): hypercalls per second, and the hypervisor's CPU time per hypercall
 * (from /proc). The second is the one to read on a shared machine: when the driver, not the
 * hypervisor, is the bottleneck, wall-clock rates mostly measure the driver and the noise, while
 * CPU per call is what the hypervisor's capacity is divided by. A second table splits each
 * variant's CPU per call: the hypervisor's main thread and kernel time, the subscriber's process
 * and this driver (on 2 cores the three share the same CPUs). DESIGN's targets: ≥ 0.95× with
 * metrics, ≥ 0.85× with history and a subscriber. `--variants` runs a subset (the first one
 * named is the base of the ratios: comparing a change with main needs only plain and
 * history+ws; `history+ws-binary`, run by default, has a subscriber taking `?format=binary` and
 * decoding every event with the client's decoder; `history+ws-unparsed`, not run by default, has
 * a subscriber that only counts the frames, which separates what the hypervisor costs from what
 * parsing costs the reader; `history-recording`, not run by default, records from boot with
 * nobody subscribed: what recording alone costs, without the pump, the socket writes or a
 * reader beside it). After the tables, each subscriber's delivery: a round whose
 * subscriber missed events (a gap) or was closed is flagged, its figures not valid for the target;
 * `--cpu-prof DIR` profiles each hypervisor (node's `--cpu-prof`) into DIR.
 */
import { median } from "./stats.js";
import { SessionClient, type HypercallOp } from "@hmx/guest-agent";
import {
  ARGO_DOMID_ANY,
  ARGO_RING_HEADER_SIZE,
  FIRST_GUEST_GFN,
  PAGE_SIZE,
  RING_RX_PTR_OFFSET,
  RING_TX_PTR_OFFSET,
  npagesRing,
  ringLenForPages,
} from "@hmx/proto/abi";
import { Testbed } from "@hmx/testkit";
import { cpuTimes } from "./proc-stat.js";
import type { ReaderCount, ReaderMode, ReaderStart } from "./history-reader.js";
import { fork, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "5" },
    seconds: { type: "string", default: "2" },
    variants: { type: "string", default: "plain,metrics,history+ws,history+ws-binary" },
    "cpu-prof": { type: "string" },
  },
});
const ROUNDS = Number(values.rounds);
const SECONDS = Number(values.seconds);
const HTTP = ["--http-listen", "127.0.0.1:0"];
const VARIANTS: Record<string, { args: readonly string[]; reader: ReaderMode | null }> = {
  plain: { args: [], reader: null },
  metrics: { args: HTTP, reader: null },
  "history+ws": { args: HTTP, reader: "json" },
  // Recording from boot with nobody subscribed: what the recording alone costs, without the
  // pump, the socket writes or a reader's process beside it.
  "history-recording": { args: [...HTTP, "--history-from-boot"], reader: null },
  // The same, the subscriber only counting the frames: what the history costs when its reader
  // is nearly free (not a harness's case: a harness parses what it reads).
  "history+ws-unparsed": { args: HTTP, reader: "unparsed" },
  // The subscriber takes the binary format (`?format=binary`) and decodes every event into the
  // same objects with the client's decoder.
  "history+ws-binary": { args: HTTP, reader: "binary" },
};
const CHOSEN = values.variants.split(",").map((name) => {
  if (!(name in VARIANTS))
    throw new Error(`--variants ${name}: expected some of ${Object.keys(VARIANTS).join(", ")}`);
  return name;
});
/** Each hypervisor's profile when `--cpu-prof` is given (history-cpu-profile.ts). */
const HYPERVISOR_ENV: Record<string, string> =
  values["cpu-prof"] === undefined
    ? {}
    : {
        NODE_OPTIONS: `--import=${fileURLToPath(new URL("./history-cpu-profile.js", import.meta.url))}`,
        HMX_BENCH_CPU_PROF_DIR: resolve(values["cpu-prof"]),
      };
const BATCH = 500;
const IN_FLIGHT = 4;
const PAYLOAD = 64;
const RING_PAGES = 64;
const RING_GPA = FIRST_GUEST_GFN * PAGE_SIZE;
const STAGING_GPA = (FIRST_GUEST_GFN + RING_PAGES + 4) * PAGE_SIZE;

interface Variant {
  readonly name: string;
  readonly bed: Testbed;
  readonly tx: SessionClient;
  readonly rx: SessionClient;
  readonly rxDomid: number;
  readonly subscriber?: ChildProcess;
  /** The HTTP listener's address and admin token (the history's newest seq, from /v1/state). */
  readonly http: string;
  readonly adminToken: string;
  readonly rates: number[];
  /** Per round, what the subscriber got of the round's events (variants with a subscriber). */
  readonly delivery: Delivery[];
  /** Hypervisor CPU microseconds per hypercall, per round. */
  readonly cpuPerCall: number[];
  /** Where the CPU went, microseconds per hypercall, per round (the second table). */
  readonly split: CpuSplit[];
}

/**
 * What a round's subscriber got: the history's events of the round (`expected`, from its seqs),
 * those received, gaps (the hypervisor skipped it ahead) and the events they dropped, how far
 * behind it was when the traffic stopped, and whether it was closed. `live`: it received every
 * event with no gap and is still subscribed; a round where it was not measured a history with
 * nobody (or not everybody) reading, and the report says so.
 */
interface Delivery {
  readonly expected: number;
  readonly received: number;
  readonly gaps: number;
  readonly dropped: number;
  readonly lagAtEnd: number;
  readonly closeCode: number | null;
  readonly live: boolean;
}

/** Longest wait for a subscriber to catch up after a round's traffic stops. */
const CATCH_UP_MS = 10_000;

/**
 * One round's CPU per hypercall, split: the hypervisor's main thread (the JavaScript) against
 * its other threads (the collector's helpers, libuv), its kernel time, and the two other
 * processes on the same cores, the subscriber and this driver. On a 2-core machine a
 * subscriber's CPU is taken from the driver and the hypervisor, so it bounds the throughput
 * ratio whatever the hypervisor costs.
 */
interface CpuSplit {
  readonly mainThread: number;
  readonly system: number;
  readonly subscriber: number;
  readonly driver: number;
}

async function setUp(name: string): Promise<Variant> {
  const { args, reader } = VARIANTS[name] ?? { args: [], reader: null };
  const bed = await Testbed.start(["--argo-mac-permissive", ...args], HYPERVISOR_ENV);
  const rxDom = await bed.domain("rx");
  const txDom = await bed.domain("tx");
  const rx = await SessionClient.connect({ address: bed.listen, credential: rxDom.credential });
  const tx = await SessionClient.connect({ address: bed.listen, credential: txDom.credential });
  const len = ringLenForPages(RING_PAGES);
  await rx.writeMemory(RING_GPA, Buffer.alloc(ARGO_RING_HEADER_SIZE));
  const gfns = Array.from({ length: npagesRing(len) }, (_, i) => FIRST_GUEST_GFN + i);
  const rc = await rx.registerRing({ aport: 5, partnerId: ARGO_DOMID_ANY, len, gfns, flags: 0 });
  if (rc !== 0) throw new Error(`register_ring failed: ${rc}`);
  await tx.writeMemory(STAGING_GPA, Buffer.alloc(PAYLOAD, 0x5a));
  let subscriber: Variant["subscriber"];
  const http = String(bed.hypervisor.last("hypervisor ready")?.["httpListen"]);
  if (reader !== null) {
    subscriber = fork(fileURLToPath(new URL("./history-reader.js", import.meta.url)));
    process.on("exit", () => subscriber?.kill("SIGKILL"));
    const start: ReaderStart = {
      url: `ws://${http}/v1/history${reader === "binary" ? "?format=binary" : ""}`,
      token: bed.adminToken,
      mode: reader,
    };
    subscriber.send(start);
    const [opened] = (await once(subscriber, "message")) as [{ open?: boolean }];
    if (opened.open !== true) throw new Error("the history reader did not connect");
  }
  return {
    name,
    bed,
    tx,
    rx,
    rxDomid: rxDom.domid,
    http,
    adminToken: bed.adminToken,
    rates: [],
    delivery: [],
    cpuPerCall: [],
    split: [],
    ...(subscriber === undefined ? {} : { subscriber }),
  };
}

/** The receiver takes everything in its ring: rx_ptr := tx_ptr. */
async function consume(v: Variant): Promise<void> {
  const { data } = await v.rx.readMemory(RING_GPA, 8);
  const tx = data.readUInt32LE(RING_TX_PTR_OFFSET);
  const ptr = Buffer.alloc(4);
  ptr.writeUInt32LE(tx, 0);
  await v.rx.writeMemory(RING_GPA + RING_RX_PTR_OFFSET, ptr);
}

/** What the subscriber has seen so far. */
async function readerCount(subscriber: ChildProcess): Promise<ReaderCount> {
  subscriber.send("count");
  const [count] = (await once(subscriber, "message")) as [ReaderCount];
  return count;
}

/** The history's newest seq (GET /v1/state). */
async function newestSeq(v: Variant): Promise<number> {
  const res = await fetch(`http://${v.http}/v1/state`, {
    headers: { authorization: `Bearer ${v.adminToken}` },
  });
  if (!res.ok) throw new Error(`GET /v1/state: HTTP ${res.status}`);
  const state = (await res.json()) as { history: { nextSeq: number } };
  return state.history.nextSeq - 1;
}

/**
 * After the traffic stopped: waits (at most CATCH_UP_MS) for the subscriber to receive up to the
 * round's newest event, and says what it got of the round's events.
 */
async function delivery(
  v: Variant,
  subscriber: ChildProcess,
  start: ReaderCount,
  startSeq: number,
): Promise<Delivery> {
  const endSeq = await newestSeq(v);
  let count = await readerCount(subscriber);
  const lagAtEnd = Math.max(0, endSeq - count.lastSeq);
  const deadline = performance.now() + CATCH_UP_MS;
  while (count.lastSeq < endSeq && count.closeCode === null && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    count = await readerCount(subscriber);
  }
  const gaps = count.gaps - start.gaps;
  const received = count.received - start.received - gaps;
  const expected = endSeq - startSeq;
  return {
    expected,
    received,
    gaps,
    dropped: count.dropped - start.dropped,
    lagAtEnd,
    closeCode: count.closeCode,
    live: count.closeCode === null && gaps === 0 && received === expected,
  };
}

/**
 * Hypercalls per second over `SECONDS` of pipelined batches; records CPU per call (including
 * what the hypervisor and the subscriber spend catching up after the traffic stops: it is the
 * round's events they are still handling) and what the subscriber got.
 */
async function round(v: Variant): Promise<number> {
  const pid = v.bed.hypervisor.child.process.pid ?? 0;
  const readerPid = v.subscriber?.pid;
  const startCount = v.subscriber === undefined ? null : await readerCount(v.subscriber);
  const startSeq = startCount === null ? 0 : await newestSeq(v);
  const before = snapshot(pid, readerPid);
  const send: HypercallOp = {
    op: "sendv",
    src: { aport: 1, domainId: ARGO_DOMID_ANY },
    dst: { aport: 5, domainId: v.rxDomid },
    iovs: [{ gpa: STAGING_GPA, len: PAYLOAD }],
    messageType: 0,
  };
  const ops = Array.from({ length: BATCH }, () => send);
  const started = performance.now();
  const until = started + SECONDS * 1000;
  let calls = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() < until) {
      await v.tx.batch(ops);
      calls += BATCH;
    }
  };
  const drain = async (): Promise<void> => {
    while (performance.now() < until) await consume(v);
  };
  await Promise.all([...Array.from({ length: IN_FLIGHT }, lane), drain()]);
  const seconds = (performance.now() - started) / 1000;
  if (v.subscriber !== undefined && startCount !== null)
    v.delivery.push(await delivery(v, v.subscriber, startCount, startSeq));
  const after = snapshot(pid, readerPid);
  const perCall = (key: keyof Snapshot): number => ((after[key] - before[key]) * 1e6) / calls;
  v.cpuPerCall.push(perCall("hypervisor"));
  v.split.push({
    mainThread: perCall("mainThread"),
    system: perCall("system"),
    subscriber: perCall("subscriber"),
    driver: perCall("driver"),
  });
  return calls / seconds;
}

interface Snapshot {
  readonly hypervisor: number;
  readonly mainThread: number;
  readonly system: number;
  readonly subscriber: number;
  readonly driver: number;
}

/** CPU seconds so far of the hypervisor (all threads, its main thread, its kernel time), the subscriber and this process. */
function snapshot(pid: number, readerPid: number | undefined): Snapshot {
  const all = cpuTimes(pid);
  const main = cpuTimes(pid, pid);
  const reader = readerPid === undefined ? null : cpuTimes(readerPid);
  const own = process.cpuUsage();
  return {
    hypervisor: all === null ? 0 : all.user + all.system,
    mainThread: main === null ? 0 : main.user + main.system,
    system: all?.system ?? 0,
    subscriber: reader === null ? 0 : reader.user + reader.system,
    driver: (own.user + own.system) / 1e6,
  };
}

const variants: Variant[] = [];
try {
  for (const name of CHOSEN) variants.push(await setUp(name));
  // A warm-up round each (JIT, heap growth), not counted.
  for (const v of variants) {
    await round(v);
    v.rates.length = 0;
    v.cpuPerCall.length = 0;
    v.split.length = 0;
    v.delivery.length = 0;
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const v of variants) v.rates.push(await round(v));
    console.log(
      `round ${r + 1}/${ROUNDS}: ${variants.map((v) => `${v.name} ${Math.round(v.rates.at(-1) ?? 0)}/s`).join(", ")}`,
    );
  }
  const base = median(variants[0]?.rates ?? []);
  const baseCpu = median(variants[0]?.cpuPerCall ?? []);
  console.log(
    "\n| variant | hypercalls/s | ratio | hypervisor CPU µs/call | capacity ratio | target |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const v of variants) {
    const rate = median(v.rates);
    const cpu = median(v.cpuPerCall);
    const target = v.name === "metrics" ? "≥ 0.95" : v.name.startsWith("history") ? "≥ 0.85" : "";
    console.log(
      `| ${v.name} | ${Math.round(rate)} | ${(rate / base).toFixed(2)} | ${cpu.toFixed(2)} | ${(baseCpu / cpu).toFixed(2)} | ${target} |`,
    );
  }
  console.log(
    "\n| variant | CPU µs/call: hypervisor | its main thread | its kernel time | subscriber | driver |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const v of variants) {
    const of = (key: keyof CpuSplit): string => median(v.split.map((s) => s[key])).toFixed(2);
    console.log(
      `| ${v.name} | ${median(v.cpuPerCall).toFixed(2)} | ${of("mainThread")} | ${of("system")} | ${v.subscriber === undefined ? "" : of("subscriber")} | ${of("driver")} |`,
    );
  }
  for (const v of variants) {
    if (v.subscriber === undefined) continue;
    const sum = (key: "expected" | "received" | "gaps" | "dropped"): number =>
      v.delivery.reduce((n, d) => n + d[key], 0);
    const notLive = v.delivery.filter((d) => !d.live).length;
    const closed = v.delivery.find((d) => d.closeCode !== null)?.closeCode;
    console.log(
      `\n${v.name}: the subscriber received ${sum("received")} of ${sum("expected")} events over ${v.delivery.length} rounds` +
        ` (${sum("gaps")} gaps dropping ${sum("dropped")}; most behind when the traffic stopped: ${Math.max(0, ...v.delivery.map((d) => d.lagAtEnd))} events` +
        `${closed === undefined ? "" : `; closed with ${closed}`})` +
        (notLive === 0
          ? ": live in every round."
          : `: NOT LIVE in ${notLive} of ${v.delivery.length} rounds, so its figures above measure a history nobody was fully reading; they are not valid for the target.`),
    );
  }
} finally {
  for (const v of variants) {
    v.subscriber?.kill();
    await Promise.all([v.tx.close(), v.rx.close()]);
    await v.bed.stopAll();
  }
}
