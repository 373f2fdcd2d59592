// SPDX-License-Identifier: Apache-2.0
/**
 * HTTP across two guests: a node:http server behind an exit tunnel, reached through an entry
 * tunnel by node's own client (request and response bodies both ways, keep-alive and parallel
 * connections) and by `curl` (Debian package curl; skipped when absent). The tunnels' stats
 * lines count the bytes.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createServer, request, Agent, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import { Testbed } from "@hmx/testkit";
import { freePort, missing, tunnelPair, type TunnelPair } from "./tunnel-pair.js";

const run = promisify(execFile);

/** POST body → `{len, sha256}`; GET /big → 1 MiB of a known pattern. */
function app(): Server {
  return createServer((req, res) => {
    if (req.url === "/big") {
      const body = Buffer.alloc(1 << 20);
      for (let i = 0; i < body.length; i++) body[i] = i % 253;
      res.end(body);
      return;
    }
    const hash = createHash("sha256");
    let len = 0;
    req.on("data", (c: Buffer) => {
      hash.update(c);
      len += c.length;
    });
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ len, sha256: hash.digest("hex"), url: req.url }));
    });
  });
}

function fetchVia(
  port: number,
  path: string,
  body: Buffer | undefined,
  agent: Agent,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method: body === undefined ? "GET" : "POST", agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          resolve(Buffer.concat(chunks));
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

describe("HTTP through an Argo tunnel", { timeout: 120_000 }, () => {
  let bed: Testbed;
  let server: Server;
  let pair: TunnelPair;
  before(async () => {
    bed = await Testbed.start(["--argo-mac-permissive"]);
    const serverPort = await freePort();
    server = app();
    await new Promise<void>((resolve) => server.listen(serverPort, "127.0.0.1", resolve));
    pair = await tunnelPair(bed, "http", serverPort, 80);
  });
  after(async () => {
    await bed.stopAll();
    server.close();
  });

  test("requests and responses cross intact, with keep-alive and parallel connections", async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const upload = Buffer.alloc(300_000, 0x5a);
    const replies = await Promise.all(
      Array.from({ length: 16 }, (_, i) => fetchVia(pair.port, `/r${i}`, upload, agent)),
    );
    const want = createHash("sha256").update(upload).digest("hex");
    for (const [i, r] of replies.entries()) {
      assert.deepEqual(JSON.parse(r.toString()), {
        len: upload.length,
        sha256: want,
        url: `/r${i}`,
      });
    }
    const big = await fetchVia(pair.port, "/big", undefined, agent);
    assert.equal(big.length, 1 << 20);
    assert.ok(
      big.every((b, i) => b === i % 253),
      "the 1 MiB response arrived byte for byte",
    );
    agent.destroy();
    const stats = await pair.entry.waitFor(
      (r) =>
        r.msg === "guest stats" &&
        Number(r["bytesFromArgo"]) >= 1 << 20 &&
        Number(r["opened"]) >= 1,
      10_000,
      "entry stats counting the response bytes",
    );
    assert.ok(Number(stats["bytesToArgo"]) >= 16 * upload.length);
  });

  test("curl fetches through the tunnel", { skip: missing("curl", "curl") }, async () => {
    const { stdout } = await run("curl", [
      "-sS",
      "--max-time",
      "20",
      "--data-binary",
      "hello over argo",
      `http://127.0.0.1:${pair.port}/curl`,
    ]);
    assert.deepEqual(JSON.parse(stdout), {
      len: 15,
      sha256: createHash("sha256").update("hello over argo").digest("hex"),
      url: "/curl",
    });
  });
});
