// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-demo workload: a front-end guest using standard virtio devices over Argo
 * (virtio-argo.md §4.4–§4.6). It discovers its devices from the VARG table at gfn 0, then, every
 * `intervalMs`: writes a pattern to its disk and reads it back (counting any mismatch), pings
 * the next of its ping targets over virtio-net through the back end's L2 switch (addresses
 * 10.77.<domid/256>.<domid%256>),
 * and writes a line to its console (input typed into the console is counted and logged). A
 * device whose probe failed — a MAC denial, say — is reported once with its errno and skipped.
 */
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { HypercallClient } from "../hypercall/hypercall-client.js";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { DeviceWatcher } from "../virtio/discovery/device-watcher.js";
import { FrontendDevices } from "../virtio/discovery/frontend-devices.js";
import { readDeviceTable } from "../virtio/discovery/varg-reader.js";
import { MiniIpStack } from "../virtio/drivers/net/ip-stack.js";
import type { NetDriver } from "../virtio/drivers/net/net-driver.js";
import { LatencyHistogram, type WorkloadBaseOptions } from "./common.js";

export interface VirtioDemoOptions extends WorkloadBaseOptions {
  readonly client: HypercallClient;
  readonly address: string;
  readonly credential: string;
  /**
   * The domids to ping over virtio-net, one per round in turn (none: answer pings only). Asked
   * every round, so a fleet can follow its peers as they come and go.
   */
  readonly pingTargets: () => readonly number[] | Promise<readonly number[]>;
  /** Rounds; 0 = until stopped. */
  readonly count: number;
  readonly intervalMs: number;
  readonly log: Logger;
}

export interface VirtioDemoStats {
  devices: number;
  failedDevices: number;
  blkWrites: number;
  blkReads: number;
  blkBytes: number;
  blkVerifyErrors: number;
  pings: number;
  received: number;
  lost: number;
  /** Pings whose target never answered ARP: not on this guest's switch (or not up yet). */
  unreachable: number;
  rttP50Us: number;
  rttP99Us: number;
  consoleBytes: number;
  consoleInputBytes: number;
  errors: number;
}

export function newVirtioDemoStats(): VirtioDemoStats {
  return {
    devices: 0,
    failedDevices: 0,
    blkWrites: 0,
    blkReads: 0,
    blkBytes: 0,
    blkVerifyErrors: 0,
    pings: 0,
    received: 0,
    lost: 0,
    unreachable: 0,
    rttP50Us: 0,
    rttP99Us: 0,
    consoleBytes: 0,
    consoleInputBytes: 0,
    errors: 0,
  };
}

/** The demo's IPv4 address for a domid. */
export function demoIp(domid: number): string {
  return `10.77.${(domid >> 8) & 0xff}.${domid & 0xff}`;
}

const PATTERN_SECTORS = 16;

/** Runs the demo until `count` rounds are done or the signal aborts. */
export async function runVirtioDemo(
  endpoint: ArgoEndpoint,
  o: VirtioDemoOptions,
  stats: VirtioDemoStats,
): Promise<void> {
  const info = await o.client.getDomainInfo();
  const devices = new FrontendDevices({
    client: o.client,
    allocator: endpoint.allocator,
    memoryBytes: info.memoryBytes,
    logger: o.log.child({ component: "virtio" }),
  });
  let stack: MiniIpStack | undefined;
  let stackNic: NetDriver | undefined;
  const reported = new Set<string>();
  const refresh = (): void => {
    stats.devices = devices.devices.filter((d) => d.state === "ready").length;
    stats.failedDevices = devices.devices.length - stats.devices;
    for (const d of devices.devices) {
      const key = `${d.entry.devIndex}`;
      if (d.state === "failed" && !reported.has(key)) {
        reported.add(key);
        o.log.warn(
          {
            device: d.entry.name,
            deviceId: d.entry.deviceId,
            backend: d.entry.peerDomid,
            errno: d.code,
            reason: d.reason,
          },
          "virtio device FAILED",
        );
      }
    }
    const nic = devices.net();
    if (nic !== stackNic) {
      stack?.close();
      stackNic = nic;
      stack = nic === undefined ? undefined : new MiniIpStack(nic, demoIp(o.client.domid));
    }
  };
  let watcher: DeviceWatcher | undefined;
  let offInput: (() => void) | undefined;
  try {
    const table = await readDeviceTable(o.client);
    if (!table.ok) o.log.warn({ reason: table.reason }, "virtual ACPI device table rejected");
    else await devices.apply(table.table);
    refresh();
    watcher = new DeviceWatcher({
      address: o.address,
      credential: o.credential,
      client: o.client,
      generation: table.ok ? table.table.generation : -1,
      onTable: async (t) => {
        await devices.apply(t);
        refresh();
      },
    });
    offInput = devices.console()?.onData((d) => {
      stats.consoleInputBytes += d.length;
      o.log.info({ input: new TextDecoder().decode(d).slice(0, 200) }, "console input");
    });
    o.onReady?.({ aport: 0, partner: 0 });
    const rtt = new LatencyHistogram();
    const tag = randomInt(0, 256);
    for (let round = 0; (o.count === 0 || round < o.count) && !o.signal.aborted; round++) {
      await demoRound(devices, o, stats, round, tag, stack, rtt);
      try {
        await sleep(o.intervalMs, undefined, { signal: o.signal });
      } catch {
        break;
      }
    }
  } finally {
    offInput?.();
    watcher?.close();
    stack?.close();
    await devices.close();
  }
}

async function demoRound(
  devices: FrontendDevices,
  o: VirtioDemoOptions,
  stats: VirtioDemoStats,
  round: number,
  tag: number,
  stack: MiniIpStack | undefined,
  rtt: LatencyHistogram,
): Promise<void> {
  const blk = devices.blk();
  if (blk !== undefined && blk.capacitySectors >= PATTERN_SECTORS * 2) {
    const sector = (round * PATTERN_SECTORS) % (blk.capacitySectors - PATTERN_SECTORS);
    const pattern = new Uint8Array(PATTERN_SECTORS * 512).map((_, i) => (i + round + tag) & 0xff);
    try {
      if (!blk.readOnly) {
        await blk.write(sector, pattern);
        stats.blkWrites++;
        stats.blkBytes += pattern.length;
      }
      const back = await blk.read(sector, PATTERN_SECTORS);
      stats.blkReads++;
      stats.blkBytes += back.length;
      if (!blk.readOnly && !equal(back, pattern)) stats.blkVerifyErrors++;
    } catch (err) {
      stats.errors++;
      o.log.warn({ err }, "virtio-blk request failed");
    }
  }
  const targets = stack === undefined ? [] : await o.pingTargets();
  const target = targets[round % Math.max(1, targets.length)];
  if (stack !== undefined && target !== undefined) {
    const ip = demoIp(target);
    stats.pings++;
    try {
      const r = await stack.ping(ip, { timeoutMs: 1000 });
      stats.received++;
      rtt.record(r.rttMs * 1000);
      stats.rttP50Us = rtt.percentile(50);
      stats.rttP99Us = rtt.percentile(99);
    } catch {
      // No ARP answer means nobody on the switch has that address; an ARP answer without an
      // echo reply is a lost ping.
      if (stack.arpLookup(ip) === undefined) stats.unreachable++;
      else stats.lost++;
    }
  }
  const con = devices.console();
  if (con !== undefined) {
    const line = `guest ${o.client.domid}: round ${round}, disk ${stats.blkWrites} writes ${stats.blkVerifyErrors} mismatches, ping ${stats.received}/${stats.pings}\n`;
    try {
      await con.write(line);
      stats.consoleBytes += line.length;
    } catch {
      stats.errors++;
    }
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
