// SPDX-License-Identifier: Apache-2.0
/**
 * The hypervisor's state as snapshot records, and back: `captureState` reads the registry,
 * guest memory, Argo rings and waiters, resume logs, MAC changes, device placements and
 * enrolled instances in one synchronous pass (the event loop is the lock, so the picture is
 * consistent), copying every page and counter it keeps; everything else it holds is never
 * changed in place (results, device specs, MAC changes), so the records can be encoded and
 * written in later turns while the state moves on. `restoreState` rebuilds the same state in an empty hypervisor through the same
 * constructors the live service uses: domains through the registry (so `argo_init` and the
 * other lifecycle hooks run), pages through `GuestMemory.write`, rings as `RingInfo`s over those
 * very pages, waiters through `pendingRequeue`.
 *
 * What it does not keep, by design: caches (the AVC, per-domain MAC memos), the scheduler's
 * debts, and pending VIRQ bits (a guest that reconnects drains its rings anyway, which is what
 * a VIRQ asks of it).
 */
import { PAGE_SIZE } from "@hmx/proto/abi";

import { pendingRequeue } from "../argo/pending.js";
import { ringKey } from "../argo/ring-id.js";
import { RingInfo } from "../argo/ring-info.js";
import type { DeviceManager } from "../devices/device-manager.js";
import type { HypercallDispatcher } from "../dispatch/dispatcher.js";
import type { Domain } from "../domain/domain.js";
import type { DomainRegistry } from "../domain/domain-registry.js";
import type { EnrolmentService } from "../fleet/enrolment.js";
import type { MacChange } from "../mac/mac-controller.js";
import {
  PAGES_PER_RECORD,
  type PageImage,
  type RingImage,
  type SnapshotRecord,
} from "./snapshot-format.js";
import type { DomainIdentity } from "./state-records.js";

/** Brings a domain back under its domid with its credential's digest (journal and snapshot). */
export function restoreDomain(registry: DomainRegistry, d: DomainIdentity): Domain {
  const { name, label, memoryBytes, privileged } = d;
  return registry.restore(
    { name, label, memoryBytes, privileged },
    d.domid,
    Buffer.from(d.digest, "hex"),
  );
}

/** What the snapshot reads and rebuilds, besides the registry and the dispatcher. */
export interface SnapshotServices {
  readonly registry: DomainRegistry;
  readonly dispatcher: HypercallDispatcher;
  readonly devices?: DeviceManager | undefined;
  readonly enrolment?: EnrolmentService | undefined;
}

/**
 * The MAC changes made since boot, reduced to the ones today's state needs: the last policy
 * load and flask mode, and the firewall as a flush and its rules (when it was ever changed).
 */
export class MacHistory {
  #policy: MacChange | undefined;
  #flaskMode: MacChange | undefined;
  #firewallDefault: MacChange | undefined;
  #firewallChanged = false;

  note(change: MacChange): void {
    if (change.kind === "policy") this.#policy = change;
    else if (change.kind === "flask-mode") this.#flaskMode = change;
    else if (change.kind === "firewall-default") this.#firewallDefault = change;
    else this.#firewallChanged = true;
  }

  /** The changes that rebuild the current MAC state from the boot flags. */
  changes(firewallRules: readonly MacChange[]): MacChange[] {
    const out: MacChange[] = [];
    if (this.#policy !== undefined) out.push(this.#policy);
    if (this.#flaskMode !== undefined) out.push(this.#flaskMode);
    if (this.#firewallChanged) out.push({ kind: "firewall-flush" }, ...firewallRules);
    if (this.#firewallDefault !== undefined) out.push(this.#firewallDefault);
    return out;
  }
}

/** Every record of the current state, in the order `restoreState` needs them. */
export function captureState(
  { registry, dispatcher, devices, enrolment }: SnapshotServices,
  mac: readonly MacChange[],
): SnapshotRecord[] {
  const domains = registry.list();
  const records: SnapshotRecord[] = [
    { kind: "meta", nextDomid: registry.nextDomid, domains: domains.length },
    ...mac.map((change): SnapshotRecord => ({ kind: "mac", change })),
  ];
  const gfnsOf = new Map<Domain, Map<Buffer, number>>();
  for (const domain of domains) {
    records.push({
      kind: "domain",
      domid: domain.domid,
      name: domain.name,
      label: domain.label,
      memoryBytes: domain.memory.sizeBytes,
      privileged: domain.privileged,
      digest: registry.digestOf(domain.domid)?.toString("hex") ?? "",
      counters: { ...domain.counters },
    });
    const gfns = new Map<Buffer, number>();
    const resident = [...domain.memory.residentPages()];
    for (let first = 0; first < resident.length; first += PAGES_PER_RECORD) {
      const slice = resident.slice(first, first + PAGES_PER_RECORD);
      // The copy: the records are encoded and written in later turns, while the pages change.
      const copy = Buffer.allocUnsafe(slice.length * PAGE_SIZE);
      const pages = slice.map(([gfn, page], i): PageImage => {
        gfns.set(page, gfn);
        page.copy(copy, i * PAGE_SIZE);
        return { gfn, bytes: copy.subarray(i * PAGE_SIZE, (i + 1) * PAGE_SIZE) };
      });
      records.push({ kind: "pages", domid: domain.domid, pages });
    }
    gfnsOf.set(domain, gfns);
  }
  for (const record of enrolment?.records() ?? []) records.push({ kind: "enrolled", ...record });
  if (devices !== undefined) records.push({ kind: "devices", state: devices.exportState() });
  for (const domain of domains) {
    const gfns = gfnsOf.get(domain) ?? new Map<Buffer, number>();
    const rings: RingImage[] = [...(domain.argo?.rings.values() ?? [])].map((ring) => ({
      aport: ring.aport,
      partnerId: ring.partnerId,
      len: ring.len,
      gfns: ring.pages.map((page) => {
        const gfn = gfns.get(page);
        if (gfn === undefined)
          throw new Error(`ring ${ring.toString()} pins a page not in its owner's memory`);
        return gfn;
      }),
      txPtr: ring.txPtr,
      waiters: [...ring.pending.values()].map((ent) => [ent.domid, ent.len] as const),
    }));
    if (rings.length > 0) records.push({ kind: "rings", domid: domain.domid, rings });
    const log = dispatcher.resumeLog(domain);
    if (log.lastExecuted > 0) {
      records.push({
        kind: "resume",
        domid: domain.domid,
        highest: log.lastExecuted,
        results: [...log.results()],
      });
    }
  }
  return records;
}

/**
 * Applies one snapshot record to an empty hypervisor (in file order). `replayMac` applies a
 * MAC change as the journal's replay does.
 */
export function restoreRecord(
  record: SnapshotRecord,
  { registry, dispatcher, devices, enrolment }: SnapshotServices,
  replayMac: (change: MacChange) => void,
): void {
  switch (record.kind) {
    case "meta":
    case "end":
      return;
    case "mac":
      replayMac(record.change);
      return;
    case "domain":
      Object.assign(restoreDomain(registry, record).counters, record.counters);
      return;
    case "pages": {
      const memory = live(registry, record.domid).memory;
      for (const { gfn, bytes } of record.pages) memory.write(gfn * PAGE_SIZE, bytes);
      return;
    }
    case "enrolled": {
      const { domid, template, secretDigest } = record;
      enrolment?.restore({ domid, template, secretDigest });
      return;
    }
    case "devices":
      devices?.restoreState(record.state);
      return;
    case "rings":
      restoreRings(registry, live(registry, record.domid), record.rings);
      return;
    case "resume":
      dispatcher.resumeLog(live(registry, record.domid)).restore(record.highest, record.results);
      return;
  }
}

/** The domid counter a snapshot's meta record carries, applied once every domain exists. */
export function restoreMeta(records: readonly SnapshotRecord[], registry: DomainRegistry): void {
  const meta = records[0];
  if (meta?.kind === "meta") registry.restoreNextDomid(meta.nextDomid);
}

function live(registry: DomainRegistry, domid: number): Domain {
  const domain = registry.get(domid);
  if (domain === undefined)
    throw new Error(`record for domain ${domid}, which the snapshot did not create`);
  return domain;
}

/** Rebuilds a domain's rings over its restored pages, then their waiters, in queue order. */
function restoreRings(registry: DomainRegistry, owner: Domain, images: readonly RingImage[]): void {
  const state = owner.argo;
  if (state === null) throw new Error(`domain ${owner.domid} has rings but no Argo state`);
  for (const image of images) {
    const pages = owner.memory.pinPages(image.gfns);
    if (pages === "einval")
      throw new Error(`ring gfns ${image.gfns.join(",")} are not domain ${owner.domid}'s`);
    const partnerState = registry.get(image.partnerId)?.argo ?? null;
    const ring = new RingInfo(
      owner,
      image.aport,
      image.partnerId,
      partnerState,
      image.len,
      pages,
      image.txPtr,
    );
    state.rings.set(ringKey(image.aport, image.partnerId), ring);
    partnerState?.partnerRings.add(ring);
    for (const [domid, len] of image.waiters) {
      const waiterState = registry.get(domid)?.argo;
      if (waiterState === undefined || waiterState === null) {
        throw new Error(
          `ring ${ring.toString()} has a waiter, domain ${domid}, without Argo state`,
        );
      }
      pendingRequeue(ring, domid, len, waiterState);
    }
  }
}
