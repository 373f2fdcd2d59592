// SPDX-License-Identifier: Apache-2.0
/**
 * The Toxiproxy-compatible API end to end: a real `hmx hypervisor --toxiproxy-listen`, guests
 * on SessionClients, driven by the unmodified `toxiproxy-node-client` package. Each guest
 * domain's link is a proxy; taking it down cuts the guest, which resumes once it is back with
 * nothing lost; every toxic type can be added, seen and removed; reset heals everything.
 */
import { SessionClient, type HypercallOp } from "@hmx/guest-agent";
import {
  ARGO_DOMID_ANY,
  ARGO_MSG_HEADER_SIZE,
  ARGO_RING_HEADER_SIZE,
  FIRST_GUEST_GFN,
  PAGE_SIZE,
  npagesRing,
  ringLenForPages,
  roundUpToSlot,
} from "@hmx/proto/abi";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Testbed } from "@hmx/testkit";
import { Toxiproxy, ToxiproxyError, type Proxy } from "toxiproxy-node-client";

const SEED = 7;
const RING_PAGES = 16;
const RING_GPA = FIRST_GUEST_GFN * PAGE_SIZE;
const STAGING_GPA = (FIRST_GUEST_GFN + RING_PAGES + 2) * PAGE_SIZE;

let bed: Testbed;
let toxiproxy: Toxiproxy;
const clients: SessionClient[] = [];
let pairs = 0;

before(async () => {
  bed = await Testbed.start([
    "--argo-mac-permissive",
    "--toxiproxy-listen",
    "127.0.0.1:0",
    "--fault-seed",
    String(SEED),
  ]);
  const ready = bed.hypervisor.last("hypervisor ready");
  assert.ok(ready !== undefined);
  assert.equal(ready["faultSeed"], SEED, "the seed is printed on the ready line");
  toxiproxy = new Toxiproxy(`http://${String(ready["toxiproxyListen"])}`);
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await bed.stopAll();
});

/** A receiving domain with a ring, and a sending domain whose link the test breaks. */
async function pair(name: string) {
  const receiver = await bed.domain(`${name}-rx`, 8 * 1024 * 1024);
  const sender = await bed.domain(`${name}-tx`, 8 * 1024 * 1024);
  const rx = await SessionClient.connect({ address: bed.listen, credential: receiver.credential });
  const tx = await SessionClient.connect({
    address: bed.listen,
    credential: sender.credential,
    keepaliveMs: 1000,
    // grpc-js shares one connection between channels with equal options, and a connection is
    // one domain's link: distinct options give each sender a connection (and link) of its own.
    keepaliveTimeoutMs: 1000 + pairs++,
  });
  clients.push(rx, tx);
  const len = ringLenForPages(RING_PAGES);
  assert.equal(await rx.writeMemory(RING_GPA, Buffer.alloc(ARGO_RING_HEADER_SIZE)), 0);
  const gfns = Array.from({ length: npagesRing(len) }, (_, i) => FIRST_GUEST_GFN + i);
  assert.equal(
    await rx.registerRing({ aport: 9, partnerId: sender.domid, len, gfns, flags: 0 }),
    0,
  );
  let sent = 0;
  return {
    link: `${name}-tx`,
    tx,
    /** Sends the next numbered message; resolves with sendv's return value. */
    async send(): Promise<number | undefined> {
      const k = sent++;
      const payload = Buffer.alloc(8);
      payload.writeUInt32LE(k, 0);
      const gpa = STAGING_GPA + k * 8;
      const ops: HypercallOp[] = [
        { op: "writeMemory", gpa, data: payload },
        {
          op: "sendv",
          src: { aport: 1, domainId: ARGO_DOMID_ANY },
          dst: { aport: 9, domainId: receiver.domid },
          iovs: [{ gpa, len: 8 }],
          messageType: 0,
        },
      ];
      const outcomes = (await tx.batch(ops, { stopOnError: true })) as { ret?: number }[];
      return outcomes[1]?.ret;
    },
    /** Every message sent is in the ring exactly once, in order. */
    async assertDelivered(): Promise<void> {
      const slot = roundUpToSlot(ARGO_MSG_HEADER_SIZE + 8);
      const header = await rx.readMemory(RING_GPA, 8);
      assert.equal(header.data.readUInt32LE(4), sent * slot, `the ring holds ${sent} messages`);
      const data = await rx.readMemory(RING_GPA + ARGO_RING_HEADER_SIZE, sent * slot);
      for (let k = 0; k < sent; k++) {
        assert.equal(data.data.readUInt32LE(k * slot + ARGO_MSG_HEADER_SIZE), k, `message ${k}`);
      }
    },
  };
}

/** Resolves `true` if `promise` settles within `ms`, else `false` (it keeps running). */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<boolean>((r) =>
      setTimeout(() => {
        r(false);
      }, ms),
    ),
  ]);
}

async function waitUntil(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("the proxies are the guest domains' links, one per domain, at the guest listener", async () => {
  await pair("list");
  const version = JSON.parse(await toxiproxy.getVersion()) as { version: string };
  assert.match(version.version, /^2\./);
  const proxies = await toxiproxy.getAll();
  for (const name of ["list-rx", "list-tx"]) {
    const proxy = proxies[name];
    assert.ok(proxy !== undefined, `a proxy named ${name}`);
    assert.equal(proxy.listen, bed.listen);
    assert.equal(proxy.enabled, true);
  }
});

test("a proxy that is not a domain's link cannot be created; a domain's link already exists", async () => {
  await pair("create");
  const body = { name: "not-a-domain", listen: "127.0.0.1:0", upstream: "127.0.0.1:1" };
  await assert.rejects(toxiproxy.createProxy(body), (err: unknown) => {
    assert.ok(err instanceof ToxiproxyError);
    assert.match(err.message, /400/);
    return true;
  });
  await assert.rejects(toxiproxy.createProxy({ ...body, name: "create-tx" }), /409/);
  await assert.rejects(toxiproxy.get("not-a-domain"), /404/);
});

test("a link taken down cuts its guest, which resumes when it is back: nothing lost", async () => {
  const p = await pair("down");
  for (let i = 0; i < 5; i++) assert.equal(await p.send(), 8);
  const proxy: Proxy = await toxiproxy.get(p.link);
  const down = await proxy.update({
    enabled: false,
    listen: proxy.listen,
    upstream: proxy.upstream,
  });
  assert.equal(down.enabled, false);
  await waitUntil(() => p.tx.state !== "ready", "link drop seen by the guest");
  const during = p.send();
  assert.equal(await settlesWithin(during, 500), false, "no hypercall completes while down");
  const reconnects = p.tx.reconnects;
  const up = await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
  assert.equal(up.enabled, true);
  assert.equal(await during, 8, "the hypercall made while down completes once the link is up");
  assert.ok(p.tx.reconnects > reconnects, "the guest reconnected");
  for (let i = 0; i < 5; i++) assert.equal(await p.send(), 8);
  await p.assertDelivered();
});

test("every toxic type can be added, read back and removed; the link works after each", async () => {
  const p = await pair("toxics");
  const proxy = await toxiproxy.get(p.link);
  const toxics = [
    { type: "latency", stream: "downstream", attributes: { latency: 50, jitter: 10 } },
    { type: "bandwidth", stream: "upstream", attributes: { rate: 100 } },
    { type: "slow_close", stream: "downstream", attributes: { delay: 10 } },
    {
      type: "slicer",
      stream: "upstream",
      attributes: { average_size: 16, size_variation: 4, delay: 10 },
    },
    { type: "timeout", stream: "upstream", attributes: { timeout: 0 } },
    { type: "reset_peer", stream: "downstream", attributes: { timeout: 0 } },
    { type: "limit_data", stream: "downstream", attributes: { bytes: 10 } },
  ] as const;
  for (const spec of toxics) {
    const toxic = await proxy.addToxic<Record<string, number>>({
      name: `t-${spec.type}`,
      toxicity: 1,
      ...spec,
    });
    assert.equal(toxic.type, spec.type);
    assert.equal(toxic.stream, spec.stream);
    assert.deepEqual(toxic.attributes, spec.attributes);
    const read = await proxy.getToxic(`t-${spec.type}`);
    assert.deepEqual(read.toJson(), toxic.toJson());
    const sending = p.send();
    if (spec.type === "timeout") {
      // A black hole: nothing gets through until the toxic is removed, then all of it does.
      assert.equal(await settlesWithin(sending, 500), false, "held while the timeout toxic acts");
    } else if (spec.type === "reset_peer" || spec.type === "limit_data") {
      await waitUntil(() => p.tx.state !== "ready", `the ${spec.type} toxic cutting the link`);
    }
    await toxic.remove();
    assert.equal(await sending, 8, `a hypercall completes with or after ${spec.type}`);
    assert.deepEqual((await toxiproxy.get(p.link)).toJson().enabled, true);
  }
  assert.equal(await p.send(), 8);
  await p.assertDelivered();
});

test("reset brings every link up and removes every toxic", async () => {
  const p = await pair("reset");
  const proxy = await toxiproxy.get(p.link);
  await proxy.addToxic({
    name: "slow",
    type: "latency",
    stream: "upstream",
    toxicity: 1,
    attributes: { latency: 20, jitter: 0 },
  });
  await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
  await toxiproxy.reset();
  const after = await toxiproxy.getApi().get(`${toxiproxy.host}/proxies/${p.link}`);
  const body = after.data as { enabled: boolean; toxics: unknown[] };
  assert.equal(body.enabled, true);
  assert.deepEqual(body.toxics, []);
  assert.equal(await p.send(), 8);
  await p.assertDelivered();
});
