// SPDX-License-Identifier: Apache-2.0
/**
 * Tunnels under link faults, with Redis: each tunnel guest reaches the hypervisor through its
 * own TcpProxy, so a test can take a guest's link down for real (connections reset, then
 * refused) and bring it back. A short outage is ridden out: the guests' Sessions reconnect and
 * resume, the streams never noticed, and a pipeline cut in the middle completes with every
 * reply, in order. A peer that is gone for good (its guest killed) resets the stream: the
 * application sees its connection closed, never a wrong reply. The entry side names its peer
 * by domain name (`--to NAME`, resolved with ListPeers). Debian packages redis-server and
 * redis-tools; skipped, naming them, when absent.
 */
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { connect, type Socket } from "node:net";
import { after, before, describe, test, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { Testbed, type TestProcess } from "@hmx/testkit";
import { freePort, Link, missing, resp, tunnelPair, type TunnelPair } from "./tunnel-pair.js";

const run = promisify(execFile);
const skip = missing("redis-server", "redis-server") ?? missing("redis-cli", "redis-tools");

async function startRedis(): Promise<{ server: ChildProcess; port: number }> {
  const port = await freePort();
  const server = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  for (let i = 0; ; i++) {
    const r = await run("redis-cli", ["-p", String(port), "PING"]).catch(() => ({ stdout: "" }));
    if (r.stdout.trim() === "PONG") return { server, port };
    if (i > 100) throw new Error("redis-server did not start");
    await sleep(100);
  }
}

/**
 * A raw connection through the tunnel that has had its PING answered; `closed` says how it
 * ended (a close, or an error code).
 */
interface PingedConnection {
  readonly socket: Socket;
  readonly received: () => string;
  readonly closed: Promise<string>;
}

async function pingedConnection(port: number): Promise<PingedConnection> {
  const socket = connect({ host: "127.0.0.1", port });
  let received = "";
  socket.on("data", (c: Buffer) => (received += c.toString()));
  const closed = new Promise<string>((resolve) => {
    socket.on("error", (err: NodeJS.ErrnoException) => {
      resolve(`error ${err.code ?? err.message}`);
    });
    socket.on("close", () => {
      resolve("close");
    });
  });
  socket.write(resp("PING"));
  for (let i = 0; !received.includes("+PONG\r\n"); i++) {
    if (i > 400) assert.fail(`no PONG through the tunnel: ${JSON.stringify(received)}`);
    await sleep(25);
  }
  return { socket, received: () => received, closed };
}

/**
 * After `event` (at `since`), a command written on a pinged connection must get no reply: the
 * connection ends, and all it ever received is the PONG from before.
 */
async function closesUnanswered(
  t: TestContext,
  client: PingedConnection,
  key: string,
  event: string,
  since: number,
): Promise<void> {
  client.socket.write(resp("SET", key, "x"));
  const how = await client.closed;
  t.diagnostic(`client connection ended (${how}) ${Date.now() - since} ms after ${event}`);
  assert.equal(
    client.received(),
    "+PONG\r\n",
    `nothing but the first reply arrived (then: ${how})`,
  );
}

/** The entry tunnel's report of a failed stream: its error message. */
async function streamFailure(entry: TestProcess): Promise<string> {
  const failed = await entry.waitFor(
    (r) => r.msg === "tunnel stream failed",
    30_000,
    "the entry tunnel to report the reset",
  );
  return String(failed["err"]);
}

describe("Redis through a tunnel whose links fail", { timeout: 240_000, skip }, () => {
  let bed: Testbed;
  let redis: { server: ChildProcess; port: number };
  let pair: TunnelPair;
  const links: Link[] = [];
  const cli = (...args: string[]) =>
    run("redis-cli", ["-h", "127.0.0.1", "-p", String(pair.port), ...args], {
      maxBuffer: 1 << 24,
    });

  before(async () => {
    bed = await Testbed.start(["--argo-mac-permissive"]);
    redis = await startRedis();
    const entryLink = await Link.to(bed.listen);
    const exitLink = await Link.to(bed.listen);
    links.push(entryLink, exitLink);
    pair = await tunnelPair(bed, "rcut", redis.port, 6379, {
      entryHypervisor: entryLink.address,
      exitHypervisor: exitLink.address,
      toByName: true,
    });
  });
  after(async () => {
    for (const l of links) await l.down();
    await bed.stopAll();
    redis.server.kill();
  });

  test("--to NAME: the entry tunnel finds its peer by domain name (ListPeers) and carries SET/GET", async () => {
    // Logged just after "guest ready", which is all tunnelPair waited for.
    const listening = await pair.entry.waitFor(
      (r) => r.msg === "tunnel listening",
      10_000,
      "the entry tunnel's listening line",
    );
    assert.equal(listening["to"], `vm${pair.exitDomid}:0x18eb`, "rcutexit resolved to its domid");
    assert.equal((await cli("SET", "named", "by name")).stdout.trim(), "OK");
    assert.equal((await cli("GET", "named")).stdout.trim(), "by name");
  });

  test("a pipeline whose links go down for 3 s in the middle completes with every reply, in order", async () => {
    const n = 20_000;
    const commands: string[] = [];
    for (let i = 0; i < n; i++) commands.push(resp("RPUSH", "cut", String(i)));
    const child = execFile("redis-cli", ["-h", "127.0.0.1", "-p", String(pair.port), "--pipe"]);
    let out = "";
    child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    // The first half crosses while the links are up; wait until Redis has applied some of it.
    child.stdin?.write(commands.slice(0, n / 2).join(""));
    for (
      let i = 0;
      Number((await run("redis-cli", ["-p", String(redis.port), "LLEN", "cut"])).stdout) === 0;
      i++
    ) {
      if (i > 400) assert.fail(`nothing of the pipeline reached Redis: ${out}`);
      await sleep(25);
    }
    // Both guests lose the hypervisor; the second half is written into the outage.
    await Promise.all(links.map((l) => l.down()));
    child.stdin?.end(commands.slice(n / 2).join(""));
    await sleep(3000);
    await Promise.all(links.map((l) => l.up()));
    const code = await exited;
    assert.equal(code, 0, out);
    assert.match(out, new RegExp(`errors: 0, replies: ${n}`));
    const items = (await cli("LRANGE", "cut", "0", "-1")).stdout.trim().split("\n");
    assert.deepEqual(
      items,
      Array.from({ length: n }, (_, i) => String(i)),
      "every command applied once, in order",
    );
    for (const g of [pair.entry, pair.exit]) {
      assert.ok(
        g.records.some((r) => r.msg === "session resumed"),
        `${g.child.name} resumed its session`,
      );
      assert.equal(
        g.last("guest stats")?.["failed"],
        0,
        `${g.child.name}: no tunnel connection failed`,
      );
    }
  });

  test("a connection opened while the entry guest's link is down waits for the link, then is carried: its command is answered once", async () => {
    const entryLink = links[0] ?? assert.fail("no link");
    await entryLink.down();
    const socket = connect({ host: "127.0.0.1", port: pair.port });
    const chunks: Buffer[] = [];
    const received = (): string => Buffer.concat(chunks).toString();
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.write(resp("RPUSH", "during", "x"));
    // The stream cannot even bind its ring while the Session is down: nothing may arrive.
    await sleep(3000);
    assert.equal(received(), "", "no reply while the link is down");
    await entryLink.up();
    for (let i = 0; received() !== ":1\r\n"; i++) {
      if (i > 1200) assert.fail(`no reply after the link returned: ${JSON.stringify(received())}`);
      await sleep(25);
    }
    socket.destroy();
    assert.equal((await cli("LLEN", "during")).stdout.trim(), "1", "applied once");
  });

  test("a link down for longer than the stream keepalive closes the client's connection cleanly; what Redis applied is a prefix, in order", async (t) => {
    const entryLink = links[0] ?? assert.fail("no link");
    const client = await pingedConnection(pair.port);
    await entryLink.down();
    const downAt = Date.now();
    const n = 2000;
    for (let i = 0; i < n; i++) client.socket.write(resp("RPUSH", "long", String(i)));
    const how = await client.closed;
    t.diagnostic(`client connection ended (${how}) ${Date.now() - downAt} ms into the outage`);
    await entryLink.up();
    // Every reply the client got is a correct one: PONG, then ":k" for the k-th push.
    const replies = client
      .received()
      .split("\r\n")
      .filter((l) => l !== "");
    assert.equal(replies[0], "+PONG");
    replies.slice(1).forEach((r, i) => {
      assert.equal(r, `:${i + 1}`);
    });
    const { stdout } = await run("redis-cli", [
      "-p",
      String(redis.port),
      "LRANGE",
      "long",
      "0",
      "-1",
    ]);
    const applied = stdout.split("\n").filter((l) => l !== "");
    t.diagnostic(`Redis applied ${applied.length} of the ${n} pushes`);
    assert.deepEqual(
      applied,
      Array.from({ length: applied.length }, (_, i) => String(i)),
      "a prefix of the pushes, in order",
    );
    // The tunnel itself outlived the outage: a new connection works once the link is back.
    assert.equal((await cli("PING")).stdout.trim(), "PONG");
  });

  test("a peer guest killed mid-connection resets the stream: the client sees its connection closed, never a wrong reply", async (t) => {
    const client = await pingedConnection(pair.port);
    pair.exit.child.process.kill("SIGKILL");
    await pair.exit.child.exited;
    await closesUnanswered(t, client, "after-kill", "the kill", Date.now());
    assert.match(await streamFailure(pair.entry), /keepalive|refused|reset/);
  });

  test("an exit guest restarted in its domain resets the connections of its previous life at once (unknown connection) and serves new ones", async (t) => {
    const previous = await pair.restartExit();
    const client = await pingedConnection(pair.port);
    previous.child.process.kill("SIGKILL");
    await previous.child.exited;
    await pair.restartExit();
    // Reaches the new process, which has no such connection: RST, not a reply.
    await closesUnanswered(t, client, "old-connection", "the restart", Date.now());
    assert.equal((await cli("SET", "after-restart", "y")).stdout.trim(), "OK");
    assert.equal((await cli("GET", "after-restart")).stdout.trim(), "y");
    assert.equal((await cli("EXISTS", "old-connection")).stdout.trim(), "0");
  });

  test("a peer domain destroyed mid-connection resets the stream at the next send: the client sees its connection closed, never a wrong reply", async (t) => {
    // A pair of its own: the one above lost its exit guest.
    const second = await tunnelPair(bed, "rgone", redis.port, 6380);
    const client = await pingedConnection(second.port);
    await bed.toolstack.destroyDomain(second.exitDomid);
    await closesUnanswered(t, client, "after-destroy", "the destroy", Date.now());
    assert.match(await streamFailure(second.entry), /no domain|refused|reset/);
  });
});
