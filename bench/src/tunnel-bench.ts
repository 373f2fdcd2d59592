// SPDX-License-Identifier: Apache-2.0
/**
 * `node bench/dist/tunnel-bench.js`: what an Argo stream tunnel costs real programs, as ratios
 * measured in one run. (1) `redis-benchmark` (SET and GET, 50 clients) through an entry and an
 * exit tunnel guest against the same `redis-server` directly on loopback; (2) bulk bytes: one
 * TCP connection pushing 64 MiB through the tunnel into a counting sink, against the datagram
 * path (the traffic workload sending the same bytes as 16 KiB messages to the sink workload).
 * Every party is its own process; the hypervisor is `hmx hypervisor --argo-mac-permissive`.
 * Needs redis-server and redis-tools (Debian); without them only the bulk rows run.
 */
import { execFile, spawn, spawnSync } from "node:child_process";
import { createServer, connect, type AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { ToolstackClient } from "@hmx/client";
import { killAll, spawnUntilReady, stopChild } from "./children.js";
import { REPO_ROOT, startHypervisorProcess } from "./hypervisor-process.js";

const run = promisify(execFile);
const HMX = join(REPO_ROOT, "cli", "bin", "hmx.js");
const BULK_BYTES = 64 * 1024 * 1024;

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  const hv = await startHypervisorProcess();
  const toolstack = new ToolstackClient(hv.controlListen, hv.adminToken);
  const guest = async (name: string, args: readonly string[]) => {
    const { credential } = await toolstack.createDomain({
      name,
      label: `${name}_t`,
      memoryBytes: 32 << 20,
    });
    const lines: Record<string, unknown>[] = [];
    const g = await spawnUntilReady(
      process.execPath,
      [HMX, "guest", "--hypervisor", hv.listen, "--stats-interval-ms", "100", ...args],
      {
        env: { ...process.env, HMX_DOMAIN_CREDENTIAL: credential },
        cwd: REPO_ROOT,
        readyMsg: "guest ready",
        timeoutMs: 20_000,
        onLine: (l) => {
          try {
            lines.push(JSON.parse(l) as Record<string, unknown>);
          } catch {
            // not a record
          }
        },
      },
    );
    const domid = Number(g.ready["domid"]);
    return { child: g.child, domid, lines };
  };
  try {
    // The sink the tunnel's exit side connects to: counts bytes, reports when all arrived.
    let sinkBytes = 0;
    let sinkDone: () => void = () => undefined;
    const sink = createServer((s) => {
      s.on("data", (b: Buffer) => {
        sinkBytes += b.length;
        if (sinkBytes >= BULK_BYTES) sinkDone();
      });
    });
    await new Promise<void>((r) => sink.listen(0, "127.0.0.1", r));
    const sinkPort = (sink.address() as AddressInfo).port;
    const exit = await guest("bulkexit", [
      "--workload",
      "tunnel",
      "--serve",
      "5001",
      "--connect",
      `tcp:127.0.0.1:${sinkPort}`,
    ]);
    const entryPort = await freePort();
    await guest("bulkentry", [
      "--workload",
      "tunnel",
      "--listen",
      `tcp:127.0.0.1:${entryPort}`,
      "--to",
      `${exit.domid}:5001`,
    ]);
    const chunk = Buffer.alloc(256 * 1024, 0x61);
    const t0 = performance.now();
    const all = new Promise<void>((r) => (sinkDone = r));
    const c = connect(entryPort, "127.0.0.1");
    for (let sent = 0; sent < BULK_BYTES; sent += chunk.length) {
      if (!c.write(chunk)) await new Promise((r) => c.once("drain", r));
    }
    await all;
    const streamMBs = BULK_BYTES / 1e6 / ((performance.now() - t0) / 1000);
    c.destroy();
    sink.close();

    // The datagram path: the same bytes as 16 KiB messages, traffic → sink workloads.
    const count = BULK_BYTES / 16384;
    const dsink = await guest("dgramsink", ["--workload", "sink", "--port", "9"]);
    const t1 = performance.now();
    await guest("dgramsrc", [
      "--workload",
      "traffic",
      "--peer",
      String(dsink.domid),
      "--port",
      "9",
      "--size",
      "16384",
      "--rate",
      "0",
      "--count",
      String(count),
    ]);
    while (!dsink.lines.some((r) => r["msg"] === "guest stats" && Number(r["received"]) >= count)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const dgramMBs = BULK_BYTES / 1e6 / ((performance.now() - t1) / 1000);
    log(
      `bulk 64 MiB: stream tunnel ${streamMBs.toFixed(1)} MB/s, datagram path ${dgramMBs.toFixed(1)} MB/s (includes guest start, ±100 ms stats granularity): ratio ${(streamMBs / dgramMBs).toFixed(2)}`,
    );

    if (spawnSync("redis-benchmark", ["--version"], { stdio: "ignore" }).error !== undefined) {
      log(
        "redis rows skipped: redis-benchmark not installed (apt-get install redis-server redis-tools)",
      );
      return;
    }
    const redisPort = await freePort();
    const redis = spawn(
      "redis-server",
      ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    try {
      await new Promise((r) => setTimeout(r, 500));
      const rexit = await guest("redisexit", [
        "--workload",
        "tunnel",
        "--serve",
        "6379",
        "--connect",
        `tcp:127.0.0.1:${redisPort}`,
        "--max-connections",
        "100",
      ]);
      const rport = await freePort();
      const rentry = await guest("redisentry", [
        "--workload",
        "tunnel",
        "--listen",
        `tcp:127.0.0.1:${rport}`,
        "--to",
        `${rexit.domid}:6379`,
        "--max-connections",
        "100",
      ]);
      const bench = async (port: number): Promise<Map<string, number>> => {
        const { stdout } = await run("redis-benchmark", [
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-t",
          "set,get",
          "-c",
          "50",
          "-n",
          "50000",
          "--csv",
        ]);
        const rows = new Map<string, number>();
        for (const line of stdout.split("\n")) {
          const m = /^"(SET|GET)","([\d.]+)"/.exec(line);
          if (m?.[1] !== undefined) rows.set(m[1], Number(m[2]));
        }
        return rows;
      };
      const direct = await bench(redisPort);
      const tunnel = await bench(rport).catch((err: unknown) => {
        // Say why the tunnel dropped a connection, from the guests' own warn lines.
        for (const g of [rentry, rexit]) {
          for (const r of g.lines.filter((l) => l["level"] === 40).slice(-3))
            log(JSON.stringify(r));
        }
        throw err;
      });
      for (const op of ["SET", "GET"]) {
        const d = direct.get(op) ?? Number.NaN;
        const t = tunnel.get(op) ?? Number.NaN;
        log(
          `redis-benchmark ${op} (50 clients): tunnel ${t.toFixed(0)} req/s, direct ${d.toFixed(0)} req/s: ratio ${(t / d).toFixed(3)}`,
        );
      }
    } finally {
      await stopChild(redis);
    }
  } finally {
    toolstack.close();
    await killAll();
    await hv.stop();
  }
}

await main();
