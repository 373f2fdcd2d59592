// SPDX-License-Identifier: Apache-2.0
/**
 * `?format=binary` end to end: one `hmx hypervisor` process, a JSON and a binary HistorySubscriber
 * following the same traffic (sendvs that succeed, fill the ring and fail with EAGAIN, or find
 * no ring; ReadMemory, WriteMemory, domain churn), then a JSON read-back up to now: the three
 * event lists are identical. A bad format is refused with a 400 naming it.
 */
import { HistorySubscriber, HistorySubscriberError, type HistoryEvent } from "@hmx/client";
import { SessionClient } from "@hmx/guest-agent";
import {
  ARGO_DOMID_ANY,
  ARGO_RING_HEADER_SIZE,
  FIRST_GUEST_GFN,
  PAGE_SIZE,
  npagesRing,
  ringLenForPages,
} from "@hmx/proto/abi";
import { Testbed } from "@hmx/testkit";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

let bed: Testbed;
let http = "";

before(async () => {
  bed = await Testbed.start(["--argo-mac-permissive", "--http-listen", "127.0.0.1:0"]);
  http = String(bed.hypervisor.last("hypervisor ready")?.["httpListen"]);
});
after(async () => {
  await bed.stopAll();
});

async function until(what: string, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every hot event kind and outcome, and some JSON events between them. */
async function traffic(): Promise<void> {
  const rxDom = await bed.domain("rx");
  const txDom = await bed.domain("tx");
  const rx = await SessionClient.connect({ address: bed.listen, credential: rxDom.credential });
  const tx = await SessionClient.connect({ address: bed.listen, credential: txDom.credential });
  try {
    const ringGpa = FIRST_GUEST_GFN * PAGE_SIZE;
    const stagingGpa = (FIRST_GUEST_GFN + 8) * PAGE_SIZE;
    const len = ringLenForPages(1);
    await rx.writeMemory(ringGpa, Buffer.alloc(ARGO_RING_HEADER_SIZE));
    const gfns = Array.from({ length: npagesRing(len) }, (_, i) => FIRST_GUEST_GFN + i);
    assert.equal(
      await rx.registerRing({ aport: 5, partnerId: ARGO_DOMID_ANY, len, gfns, flags: 0 }),
      0,
    );
    await tx.writeMemory(stagingGpa, Buffer.alloc(512, 0x5a));
    const src = { aport: 1, domainId: ARGO_DOMID_ANY };
    const iovs = [{ gpa: stagingGpa, len: 512 }];
    // Until the one-page ring is full: successes, then EAGAIN.
    let full = 0;
    for (let i = 0; i < 40 && full < 3; i++)
      if ((await tx.sendv(src, { aport: 5, domainId: rxDom.domid }, iovs, 7)) < 0) full++;
    assert.equal(full, 3, "the ring filled");
    // No ring at this port.
    assert.ok((await tx.sendv(src, { aport: 6, domainId: rxDom.domid }, iovs, 0)) < 0);
    await rx.readMemory(ringGpa, 64);
    await rx.writeMemory(ringGpa + 4, Buffer.from([1, 2, 3, 4]));
    const { domid } = await bed.toolstack.createDomain({
      name: "churn",
      label: "churn_t",
      memoryBytes: 64 * 1024,
    });
    await bed.toolstack.destroyDomain(domid);
  } finally {
    await Promise.all([rx.close(), tx.close()]);
  }
}

test("a binary subscriber gets exactly the events a JSON subscriber gets", async () => {
  const json: HistoryEvent[] = [];
  const binary: HistoryEvent[] = [];
  const subs = [
    new HistorySubscriber({
      address: http,
      adminToken: bed.adminToken,
      onEvent: (e) => json.push(e),
    }),
    new HistorySubscriber({
      address: http,
      adminToken: bed.adminToken,
      format: "binary",
      onEvent: (e) => binary.push(e),
    }),
  ];
  try {
    await until("both connected", () => subs.every((s) => s.connections === 1));
    await traffic();
    const all: HistoryEvent[] = [];
    const readBack = new HistorySubscriber({
      address: http,
      adminToken: bed.adminToken,
      since: 0,
      until: "now",
      onEvent: (e) => all.push(e),
    });
    await readBack.done;
    const last = all.at(-1)?.seq ?? 0;
    await until("both followers at the newest event", () =>
      [json, binary].every((list) => (list.at(-1)?.seq ?? 0) >= last),
    );
    const cut = (list: HistoryEvent[]): HistoryEvent[] => list.filter((e) => e.seq <= last);
    assert.ok(json.length > 30, `traffic was recorded (${json.length} events)`);
    const ops = new Set(json.map((e) => `${String(e["f"])} ${String(e["type"])}`));
    for (const op of ["sendv ok", "sendv fail", "readMemory ok", "writeMemory ok"])
      assert.ok(ops.has(op), `the traffic has a ${op} event: ${[...ops].join(", ")}`);
    assert.deepEqual(cut(binary), cut(json));
    assert.deepEqual(
      cut(json),
      all.filter((e) => e.seq >= (json[0]?.seq ?? 0)),
    );
  } finally {
    for (const s of subs) s.close();
  }
});

test("a format other than json or binary is refused with 400, naming it", async () => {
  const sub = new HistorySubscriber({
    address: http,
    adminToken: bed.adminToken,
    format: "cbor" as never,
    onEvent: () => undefined,
  });
  await assert.rejects(
    sub.done,
    (err: unknown) =>
      err instanceof HistorySubscriberError &&
      err.status === 400 &&
      err.message.includes('format "cbor": expected json or binary'),
  );
});
