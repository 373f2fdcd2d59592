// SPDX-License-Identifier: Apache-2.0
/**
 * The virtio-demo workload: a front-end guest using standard virtio devices over Argo
 * (virtio-argo.md §4.4–§4.6). It discovers its devices from the VARG table at gfn 0, then, every
 * `intervalMs`: writes a pattern to its disk and reads it back (counting any mismatch), pings
 * the next of its ping targets over virtio-net through the back end's L2 switch (addresses
 * 10.77.<domid/256>.<domid%256>),
 * and writes a line to its console (input typed into the console is counted and logged). A
 * device whose probe failed — a MAC denial, say — is reported once with its errno and skipped.
 *
 * A round uses only the devices that are ready when it starts (`FrontendDevices` re-probes a
 * failed one by itself and hands out its fresh driver once its back end is back), and no
 * operation may hold the round up for more than `opTimeoutMs`: a device that stops answering
 * costs that round one error, never the loop. `devices` / `failedDevices` follow every change.
 */
import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import type { HypercallClient } from "../hypercall/hypercall-client.js";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { DeviceWatcher } from "../virtio-argo/discovery/device-watcher.js";
import {
  FrontendDevices,
  type FrontendDevicesOptions,
} from "../virtio-argo/discovery/frontend-devices.js";
import { readDeviceTable } from "../virtio-argo/discovery/varg-reader.js";
import { MiniIpStack, type ConsoleDriver, type NetDriver } from "@hmx/virtio";
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
  /**
   * Longest wait for one device operation of a round (default 15 000 ms, above the transport's
   * 10 s request timeout, which normally settles it first): a safety net, so no device can hold
   * the round loop up forever.
   */
  readonly opTimeoutMs?: number;
  /** Transport and recovery tuning of the front end (tests; defaults otherwise). */
  readonly tuning?: Pick<
    FrontendDevicesOptions,
    | "timeoutMs"
    | "requestTimeoutMs"
    | "probeTimeoutMs"
    | "reprobeMinMs"
    | "reprobeMaxMs"
    | "healthCheckMs"
  >;
  readonly log: Logger;
}

const DEFAULT_OP_TIMEOUT_MS = 15_000;

/** A device operation that did not settle within the round's bound. */
export class DeviceOpTimeoutError extends Error {
  override readonly name = "DeviceOpTimeoutError";
}

/**
 * `p`, or `DeviceOpTimeoutError` naming `what` once `ms` pass. The abandoned operation still
 * settles later (its driver rejects it when the device fails); that outcome is dropped here.
 */
export async function bounded<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new DeviceOpTimeoutError(`${what} did not complete within ${ms} ms`));
    }, ms);
  });
  p.catch(() => undefined); // a late rejection of an abandoned operation is not unhandled
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
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
    endpoint,
    memoryBytes: info.memoryBytes,
    logger: o.log.child({ component: "virtio" }),
    ...o.tuning,
  });
  let stack: MiniIpStack | undefined;
  let stackNic: NetDriver | undefined;
  let inputConsole: ConsoleDriver | undefined;
  let offInput: (() => void) | undefined;
  /** Devices whose current outage was reported already (once per outage). */
  const reported = new Set<string>();
  const refresh = (): void => {
    stats.devices = devices.devices.filter((d) => d.state === "ready").length;
    stats.failedDevices = devices.devices.length - stats.devices;
    for (const d of devices.devices) {
      const key = `${d.entry.devIndex}`;
      if (d.state === "ready") {
        reported.delete(key);
        continue;
      }
      if (reported.has(key)) continue;
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
    // A recovered device has a fresh driver: move the IP stack and the input handler to it.
    const nic = devices.net();
    if (nic !== stackNic) {
      stack?.close();
      stackNic = nic;
      stack = nic === undefined ? undefined : new MiniIpStack(nic, demoIp(o.client.domid));
    }
    const con = devices.console();
    if (con !== inputConsole) {
      offInput?.();
      inputConsole = con;
      offInput = con?.onData((d) => {
        stats.consoleInputBytes += d.length;
        o.log.info({ input: new TextDecoder().decode(d).slice(0, 200) }, "console input");
      });
    }
  };
  const offChange = devices.onChange(refresh);
  let watcher: DeviceWatcher | undefined;
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
    o.onReady?.({ aport: 0, partner: 0 });
    const rtt = new LatencyHistogram();
    const tag = randomInt(0, 256);
    for (let round = 0; (o.count === 0 || round < o.count) && !o.signal.aborted; round++) {
      refresh();
      await demoRound(devices, o, stats, round, tag, stack, rtt);
      try {
        await sleep(o.intervalMs, undefined, { signal: o.signal });
      } catch {
        break;
      }
    }
  } finally {
    offChange();
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
  const opMs = o.opTimeoutMs ?? DEFAULT_OP_TIMEOUT_MS;
  // Only the devices ready now: a failed one is skipped until it is re-probed.
  const blk = devices.blk();
  if (blk !== undefined && blk.capacitySectors >= PATTERN_SECTORS * 2) {
    const sector = (round * PATTERN_SECTORS) % (blk.capacitySectors - PATTERN_SECTORS);
    const pattern = new Uint8Array(PATTERN_SECTORS * 512).map((_, i) => (i + round + tag) & 0xff);
    try {
      if (!blk.readOnly) {
        await bounded("virtio-blk write", blk.write(sector, pattern), opMs);
        stats.blkWrites++;
        stats.blkBytes += pattern.length;
      }
      const back = await bounded("virtio-blk read", blk.read(sector, PATTERN_SECTORS), opMs);
      stats.blkReads++;
      stats.blkBytes += back.length;
      if (!blk.readOnly && !equal(back, pattern)) stats.blkVerifyErrors++;
    } catch (err) {
      stats.errors++;
      o.log.warn({ err }, "virtio-blk request failed");
    }
  }
  let targets: readonly number[] = [];
  try {
    targets =
      stack === undefined
        ? []
        : await bounded("ping targets", Promise.resolve(o.pingTargets()), opMs);
  } catch (err) {
    stats.errors++;
    o.log.warn({ err }, "ping targets unavailable");
  }
  const target = targets[round % Math.max(1, targets.length)];
  if (stack !== undefined && target !== undefined) {
    const ip = demoIp(target);
    stats.pings++;
    try {
      const r = await bounded("ping", stack.ping(ip, { timeoutMs: 1000 }), opMs);
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
      await bounded("virtio-console write", con.write(line), opMs);
      stats.consoleBytes += line.length;
    } catch (err) {
      stats.errors++;
      o.log.warn({ err }, "virtio-console write failed");
    }
  }
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
