// SPDX-License-Identifier: Apache-2.0
/**
 * Redis across two guests: `redis-server` on a free loopback port behind an exit tunnel,
 * `redis-cli` through the entry tunnel: SET / GET, a 10,000-command pipeline (`redis-cli
 * --pipe`, every reply counted), and a value larger than one stream window. Debian packages
 * redis-server and redis-tools; skipped, naming them, when absent.
 */
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Testbed } from "@hmx/testkit";
import { freePort, missing, resp, tunnelPair, type TunnelPair } from "./tunnel-pair.js";

const run = promisify(execFile);
const skip = missing("redis-server", "redis-server") ?? missing("redis-cli", "redis-tools");

describe("Redis through an Argo tunnel", { timeout: 120_000, skip }, () => {
  let bed: Testbed;
  let redis: ChildProcess;
  let pair: TunnelPair;
  const cli = (...args: string[]) =>
    run("redis-cli", ["-h", "127.0.0.1", "-p", String(pair.port), ...args], { maxBuffer: 1 << 24 });

  before(async () => {
    bed = await Testbed.start(["--argo-mac-permissive"]);
    const redisPort = await freePort();
    redis = spawn(
      "redis-server",
      ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      { stdio: "ignore" },
    );
    // Ready when it answers directly.
    for (let i = 0; ; i++) {
      const r = await run("redis-cli", ["-p", String(redisPort), "PING"]).catch(() => ({
        stdout: "",
      }));
      if (r.stdout.trim() === "PONG") break;
      if (i > 100) throw new Error("redis-server did not start");
      await new Promise((res) => setTimeout(res, 100));
    }
    pair = await tunnelPair(bed, "redis", redisPort, 6379);
  });
  after(async () => {
    await bed.stopAll();
    redis.kill();
  });

  test("SET and GET cross the tunnel", async () => {
    assert.equal((await cli("SET", "greeting", "hello over argo")).stdout.trim(), "OK");
    assert.equal((await cli("GET", "greeting")).stdout.trim(), "hello over argo");
  });

  test("a 10,000-command pipeline gets every reply, and a 1 MB value comes back whole", async () => {
    const n = 10_000;
    let input = "";
    for (let i = 0; i < n; i++) input += resp("RPUSH", "list", String(i));
    const child = execFile("redis-cli", ["-h", "127.0.0.1", "-p", String(pair.port), "--pipe"]);
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stdin?.end(input);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`errors: 0, replies: ${n}`));
    assert.equal((await cli("LLEN", "list")).stdout.trim(), String(n));
    const tail = (await cli("LRANGE", "list", "-3", "-1")).stdout.trim().split("\n");
    assert.deepEqual(
      tail,
      [String(n - 3), String(n - 2), String(n - 1)],
      "the pipeline arrived in order",
    );
    const big = "x".repeat(1_000_000);
    const setter = execFile("redis-cli", [
      "-h",
      "127.0.0.1",
      "-p",
      String(pair.port),
      "-x",
      "SET",
      "big",
    ]);
    setter.stdin?.end(big);
    await new Promise((resolve) => setter.on("exit", resolve));
    assert.equal((await cli("STRLEN", "big")).stdout.trim(), String(big.length));
    assert.equal((await cli("GET", "big")).stdout.trim(), big);
  });
});
