// SPDX-License-Identifier: Apache-2.0
/**
 * An agent restart loses nothing (DESIGN.md §3.2, gfns 1..15 hold the agent's state): a
 * receiver that stops leaves its ring registered; messages sent while it is away wait in the
 * ring (or in the sender, on a full ring); the restarted agent finds its ring in its own
 * memory, re-registers it on the same pages, and reads on from its old rx_ptr — every message
 * exactly once, in order, across the restart.
 */
import { embeddedHypervisorConfig, startHypervisor, type RunningHypervisor } from "@hmx/hypervisor";
import { ToolstackClient } from "@hmx/client";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { pino } from "pino";
import { SessionClient } from "./hypercall/session-client.js";
import { ArgoEndpoint } from "./libargo/argo-endpoint.js";
import { numberedPayload, readNumbered } from "./workloads/common.js";

let hv: RunningHypervisor;
let toolstack: ToolstackClient;
const adminToken = randomBytes(24).toString("base64url");

before(async () => {
  hv = await startHypervisor(
    {
      ...embeddedHypervisorConfig(adminToken),
      argoMacPermissive: false,
      maxTotalMemoryBytes: 256 * 1024 * 1024,
      maxDomainMemoryBytes: 64 * 1024 * 1024,
    },
    pino({ level: "silent" }),
  );
  toolstack = new ToolstackClient(hv.controlListen, adminToken);
});
after(async () => {
  toolstack.close();
  await hv.stop();
});

test("a restarted receiver resumes its ring from its own memory: nothing lost, nothing twice, in order", async () => {
  const rx = await toolstack.createDomain({
    name: "rx",
    label: "rx_t",
    memoryBytes: 8 * 1024 * 1024,
  });
  const tx = await toolstack.createDomain({
    name: "tx",
    label: "tx_t",
    memoryBytes: 8 * 1024 * 1024,
  });
  const senderClient = await SessionClient.connect({
    address: hv.listen,
    credential: tx.credential,
  });
  const sender = await ArgoEndpoint.create(senderClient);
  const out = await sender.bind({ partner: rx.domid });
  const dst = { domainId: rx.domid, aport: 9 };
  const seen: number[] = [];
  const take = async (socket: Awaited<ReturnType<ArgoEndpoint["bind"]>>, n: number) => {
    for (let i = 0; i < n; i++) {
      const m = await socket.receive();
      assert.ok(m !== null);
      seen.push(readNumbered(m.data)?.seq ?? -1);
    }
  };
  try {
    // First life of the receiver: a small unicast ring, 100 messages, read 60 of them.
    let client = await SessionClient.connect({ address: hv.listen, credential: rx.credential });
    let endpoint = await ArgoEndpoint.create(client, { resume: true });
    let socket = await endpoint.bind({ aport: 9, partner: tx.domid, ringLen: 4096 - 64 });
    for (let seq = 0; seq < 100; seq++) void out.sendTo(dst, numberedPayload(64, seq, 7));
    await take(socket, 60);
    for (const m of await socket.quiesce()) seen.push(readNumbered(m.data)?.seq ?? -1);
    await endpoint.close();
    await client.close();
    assert.equal(
      (await toolstack.listDomains()).find((d) => d.domid === rx.domid)?.rings,
      1,
      "the ring stayed registered while the agent was away",
    );

    // While it is away, 100 more are sent; the small ring fills and the sender waits.
    const late = Array.from({ length: 100 }, (_, k) =>
      out.sendTo(dst, numberedPayload(64, 100 + k, 7)),
    );

    // Second life: the ring comes back from the agent state, with its contents and rx_ptr.
    client = await SessionClient.connect({ address: hv.listen, credential: rx.credential });
    endpoint = await ArgoEndpoint.create(client, { resume: true });
    socket = await endpoint.bind({ aport: 9, partner: tx.domid, ringLen: 4096 - 64 });
    await take(socket, 200 - seen.length);
    await Promise.all(late);
    assert.deepEqual(
      seen,
      Array.from({ length: 200 }, (_, i) => i),
      "every message once, in order, across the restart",
    );
    await endpoint.close();
    await client.close();
  } finally {
    await sender.close();
    await senderClient.close();
  }
});
