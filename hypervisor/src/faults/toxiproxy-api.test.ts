// SPDX-License-Identifier: Apache-2.0
/**
 * Toxiproxy's API shapes over HTTP (the client-driven end-to-end test is
 * tests/src/toxiproxy-api.test.ts): status codes, the `{error, status}` body naming the bad
 * value, and a refused request changing nothing.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { DomainRegistry } from "../domain/domain-registry.js";
import { createLogger } from "../logger.js";
import { MemoryQuota } from "../memory/memory-quota.js";
import { LinkFaults } from "./link-faults.js";
import { ToxiproxyApi } from "./toxiproxy-api.js";

let api: ToxiproxyApi;
let base: string;

before(async () => {
  const registry = new DomainRegistry({
    quota: new MemoryQuota(1 << 30),
    maxDomainMemoryBytes: 1 << 24,
  });
  registry.create({ name: "guest-1", label: "g_t", memoryBytes: 1 << 20 });
  api = new ToxiproxyApi(new LinkFaults({ registry, seed: 1, log: createLogger("silent") }));
  base = `http://${await api.listen("127.0.0.1:0")}`;
});
after(async () => {
  await api.close();
});

async function call(method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

test("GET /version answers Toxiproxy 2.x's JSON", async () => {
  assert.deepEqual(await call("GET", "/version"), { status: 200, body: { version: "2.12.0" } });
});

test("a toxic is created with Toxiproxy's defaults and shown with every attribute", async () => {
  const created = await call("POST", "/proxies/guest-1/toxics", {
    type: "latency",
    attributes: { latency: 10 },
  });
  assert.deepEqual(created, {
    status: 200,
    body: {
      attributes: { latency: 10, jitter: 0 },
      name: "latency_downstream",
      type: "latency",
      stream: "downstream",
      toxicity: 1,
    },
  });
  const proxy = await call("GET", "/proxies/guest-1");
  assert.equal((proxy.body as { toxics: unknown[] }).toxics.length, 1);
  assert.deepEqual(await call("POST", "/proxies/guest-1/toxics", { type: "latency" }), {
    status: 409,
    body: {
      error: 'toxic already exists: "latency_downstream" on proxy "guest-1"',
      status: 409,
    },
  });
  assert.equal((await call("DELETE", "/proxies/guest-1/toxics/latency_downstream")).status, 204);
});

test("bad toxics are refused with 400, the bad value named, and nothing changes", async () => {
  const cases: [unknown, RegExp][] = [
    [{ type: "packet_storm" }, /invalid toxic type: "packet_storm"/],
    [{ type: "latency", stream: "sideways" }, /stream was invalid.*"sideways"/],
    [{ type: "latency", toxicity: 1.5 }, /toxicity 1\.5: expected a number in 0\.\.1/],
    [{ type: "latency", attributes: { latency: -1 } }, /latency -1: expected an integer/],
    [{ type: "bandwidth", attributes: { speed: 1 } }, /"speed" is not one of bandwidth's: rate/],
    [{ type: "slicer", attributes: { size_variation: 1 } }, /average_size 0: expected at least 1/],
  ];
  for (const [body, message] of cases) {
    const reply = await call("POST", "/proxies/guest-1/toxics", body);
    assert.equal(reply.status, 400, JSON.stringify(body));
    const error = reply.body as { error: string; status: number };
    assert.match(error.error, message);
    assert.equal(error.status, 400);
  }
  assert.deepEqual((await call("GET", "/proxies/guest-1/toxics")).body, []);
});

test("unknown proxies and toxics are 404; a proxy cannot be created; a link's address cannot move", async () => {
  assert.equal((await call("GET", "/proxies/nobody")).status, 404);
  assert.equal((await call("GET", "/proxies/guest-1/toxics/none")).status, 404);
  const created = await call("POST", "/proxies", { name: "db", listen: ":0", upstream: "x:1" });
  assert.equal(created.status, 400);
  assert.match((created.body as { error: string }).error, /"db" is not a guest domain's link/);
  assert.equal((await call("POST", "/proxies", { name: "db" })).status, 400);
  const moved = await call("POST", "/proxies/guest-1", { listen: "0.0.0.0:1" });
  assert.equal(moved.status, 400);
  assert.match((moved.body as { error: string }).error, /listen "0\.0\.0\.0:1"/);
});

test("populate switches the named links and answers {proxies}; a bad entry changes none", async () => {
  const bad = await call("POST", "/populate", [
    { name: "guest-1", enabled: false },
    { name: "nobody" },
  ]);
  assert.equal(bad.status, 404);
  assert.equal(
    ((await call("GET", "/proxies/guest-1")).body as { enabled: boolean }).enabled,
    true,
  );
  const good = await call("POST", "/populate", [{ name: "guest-1", enabled: false }]);
  assert.equal(good.status, 201);
  assert.equal((good.body as { proxies: { enabled: boolean }[] }).proxies[0]?.enabled, false);
  assert.equal((await call("POST", "/reset")).status, 204);
  assert.equal(
    ((await call("GET", "/proxies/guest-1")).body as { enabled: boolean }).enabled,
    true,
  );
});
