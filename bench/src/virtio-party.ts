// SPDX-License-Identifier: Apache-2.0
/**
 * One guest of the virtio bench's separate-process rows, as a deployment runs it (`hmx up`:
 * every guest its own process, heap tuned as `hmx guest` tunes it): connects to the
 * hypervisor process with its domain credential, then either hosts its table's devices (the
 * back end: `VioaHub` + `DeviceHost`, as the virtio-backend workload does) or probes its blk
 * device and runs the orchestrator's phases on the driver (the front end). Either counts its
 * Session client's multicalls and memory bytes for the orchestrator (`virtio-work`).
 */
import { ArgoEndpoint, SessionClient, virtioArgo } from "@hmx/guest-agent";
import type { BlkDriver } from "@hmx/virtio";
import type { VirtioPartyCommand } from "./ipc.js";
import { countWork, runBlkPhase, type Phase, type WorkTally } from "./virtio-blk-phases.js";
import { serveCommands } from "./worker-runtime.js";

interface Party {
  readonly client: SessionClient;
  readonly endpoint: ArgoEndpoint;
  /** What to stop, newest first, before the endpoint and the client. */
  readonly closers: (() => Promise<void>)[];
}

const tally: WorkTally = { multicalls: 0, memoryBytes: 0 };
let party: Party | null = null;
let blk: BlkDriver | null = null;

async function connect(address: string, credential: string): Promise<Party> {
  if (party !== null) throw new Error("this virtio party is already connected");
  const client = await SessionClient.connect({ address, credential });
  countWork(client, tally);
  const endpoint = await ArgoEndpoint.create(client);
  party = { client, endpoint, closers: [] };
  return party;
}

async function table(client: SessionClient): Promise<virtioArgo.VargTable> {
  const r = await virtioArgo.readDeviceTable(client);
  if (!r.ok) throw new Error(`bad device table: ${r.reason}`);
  return r.table;
}

async function handle(c: VirtioPartyCommand): Promise<unknown> {
  switch (c.cmd) {
    case "virtio-backend": {
      const p = await connect(c.address, c.credential);
      const hub = new virtioArgo.VioaHub(p.endpoint);
      const host = new virtioArgo.DeviceHost({ hub, imageDir: c.imageDir });
      p.closers.unshift(async () => {
        await host.close();
        await hub.close();
      });
      await host.apply((await table(p.client)).devices);
      return null;
    }
    case "virtio-frontend": {
      const p = await connect(c.address, c.credential);
      const fe = new virtioArgo.FrontendDevices({
        endpoint: p.endpoint,
        memoryBytes: (await p.client.getDomainInfo()).memoryBytes,
        timeoutMs: 2000,
        probeTimeoutMs: 5000,
      });
      p.closers.unshift(() => fe.close());
      await fe.apply(await table(p.client));
      blk = fe.blk() ?? null;
      if (blk === null) throw new Error("virtio-blk over Argo did not come up");
      return null;
    }
    case "virtio-phase": {
      if (blk === null) throw new Error("virtio-phase before virtio-frontend");
      const phase: Phase = await runBlkPhase(blk, c.test, c.options);
      return phase;
    }
    case "virtio-work":
      return { ...tally };
    case "close": {
      if (party === null) return null;
      for (const close of party.closers) await close().catch(() => undefined);
      await party.endpoint.close();
      await party.client.close();
      party = null;
      return null;
    }
  }
}

serveCommands((c) => handle(c as VirtioPartyCommand));
