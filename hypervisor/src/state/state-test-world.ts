// SPDX-License-Identifier: Apache-2.0
/**
 * Test support for the state store's tests: a hypervisor core without listeners (a "world"),
 * opening a state dir on it, a fingerprint of everything recovery must bring back, and one
 * seeded random input (a toolstack action or a hypercall, some with request ids).
 */
import { createHash } from "node:crypto";

import { ARGO_DOMID_ANY, PAGE_SIZE } from "@hmx/proto/abi";
import { pino } from "pino";

import { createHypervisorCore, type HypervisorCore } from "../core.js";
import { HypercallDispatcher } from "../dispatch/dispatcher.js";
import { CallStatusCode, type Hypercall } from "../dispatch/hypercall.js";
import { FakeVirqSink } from "../test-utils/argo-harness.js";
import type { MacController } from "../mac/mac-controller.js";
import type { JournalFile } from "./journal-writer.js";
import { toJson } from "./state-records.js";
import { StateStore, type StateStoreOptions } from "./state-store.js";

export const log = pino({ level: "silent" });

/** The element at `index`, which the test knows exists. */
export function at<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`no element ${index} of ${items.length}`);
  return item;
}
export interface World {
  readonly core: HypervisorCore;
  readonly dispatcher: HypercallDispatcher;
}

export function world(mac?: MacController): World {
  const core = createHypervisorCore({
    argo: { enabled: true, macPermissive: true },
    maxTotalMemoryBytes: 64 * 1024 * 1024,
    maxDomainMemoryBytes: 1024 * 1024,
    virq: new FakeVirqSink(),
    ...(mac === undefined ? {} : { mac }),
  });
  const dispatcher = new HypercallDispatcher(core.argo, log, { maxEntries: 8, maxBytes: 4096 });
  return { core, dispatcher };
}

export function open(
  dir: string,
  w: World,
  openFile?: (path: string) => JournalFile,
  mac?: MacController,
  more: Partial<StateStoreOptions> = {},
): StateStore {
  return StateStore.open(
    {
      dir,
      fsync: false,
      log,
      ...(openFile === undefined ? {} : { openFile }),
      ...(mac === undefined ? {} : { mac }),
      ...more,
    },
    w.core.domains,
    w.dispatcher,
  );
}

/** Everything recovery must bring back, as one comparable value. */
export function fingerprint(w: World, credentials: ReadonlyMap<number, string>): unknown {
  return w.core.domains.list().map((d) => ({
    domid: d.domid,
    name: d.name,
    label: d.label,
    privileged: d.privileged,
    // Unary reads without a request id change nothing and are not journaled: their tallies
    // (hypercalls, errors) are the only counters a restart may lower.
    counters: { ...d.counters, hypercalls: 0, errors: 0 },
    memory: createHash("sha256")
      .update(d.memory.read(0, d.memory.sizeBytes) ?? Buffer.alloc(0))
      .digest("hex"),
    rings: w.core.argo.listRings(d),
    lastExecuted: w.dispatcher.resumeLog(d).lastExecuted,
    resumeSize: w.dispatcher.resumeLog(d).size,
    resumeResults: createHash("sha256")
      .update(toJson([...w.dispatcher.resumeLog(d).results()]))
      .digest("hex"),
    authenticates: w.core.domains.authenticate(credentials.get(d.domid) ?? "")?.domid,
  }));
}

/** One random input to the hypervisor: a toolstack action or a hypercall, some with request ids. */
export function randomOp(
  rand: () => number,
  w: World,
  credentials: Map<number, string>,
  requestIds: Map<number, number>,
  names: { next: number },
): void {
  const pick = (n: number): number => Math.floor(rand() * n);
  const live = w.core.domains.list();
  const roll = rand();
  if (live.length < 2 || roll < 0.03) {
    if (live.length >= 5) return;
    const { domain, credential } = w.core.domains.create({
      name: `vm${names.next++}`,
      label: `label_${pick(3)}_t`,
      memoryBytes: (16 + 4 + pick(8)) * PAGE_SIZE,
      privileged: rand() < 0.2,
    });
    credentials.set(domain.domid, credential);
    return;
  }
  const domain = at(live, pick(live.length));
  if (roll < 0.04) {
    w.core.domains.destroy(domain.domid);
    return;
  }
  if (roll < 0.05) {
    credentials.set(domain.domid, w.core.domains.rotateCredential(domain.domid) ?? "");
    return;
  }
  const peer = at(live, pick(live.length));
  const pages = domain.memory.pageCount;
  const gfn = 16 + pick(pages - 16);
  const calls: (() => Hypercall)[] = [
    () => ({
      op: "writeMemory",
      gpa: gfn * PAGE_SIZE + pick(PAGE_SIZE),
      data: Buffer.from(Array.from({ length: 1 + pick(300) }, () => pick(256))),
    }),
    () => ({
      op: "registerRing",
      args: {
        aport: 1 + pick(3),
        partnerId: rand() < 0.3 ? ARGO_DOMID_ANY : peer.domid,
        len: 48 + 16 * pick(200),
        gfns: [gfn],
        flags: pick(2),
      },
    }),
    () => ({ op: "unregisterRing", args: { aport: 1 + pick(3), partnerId: peer.domid } }),
    () => ({
      op: "sendv",
      args: {
        src: { domainId: ARGO_DOMID_ANY, aport: pick(5) },
        dst: { domainId: peer.domid, aport: 1 + pick(3) },
        iovs: [{ gpa: gfn * PAGE_SIZE, len: pick(700) }],
        messageType: pick(4),
      },
    }),
    () => ({
      op: "notify",
      ringData:
        rand() < 0.3
          ? null
          : [{ ring: { domainId: peer.domid, aport: 1 + pick(3) }, spaceRequired: pick(4000) }],
    }),
    () => ({ op: "readMemory", gpa: gfn * PAGE_SIZE, length: 1 + pick(64) }),
  ];
  const call = at(calls, pick(calls.length))();
  const r = rand();
  if (r < 0.25) {
    w.dispatcher.execute(domain, call);
    return;
  }
  const id = (requestIds.get(domain.domid) ?? 0) + 1;
  requestIds.set(domain.domid, id);
  if (r < 0.3) {
    // A stop-on-error skip: answered without running.
    w.dispatcher.answerOnce(domain, id, () => ({
      op: "status",
      code: CallStatusCode.ABORTED,
      message: "skipped",
    }));
  } else {
    w.dispatcher.executeOnce(domain, id, call);
  }
  if (rand() < 0.2) w.dispatcher.acknowledge(domain, id - pick(3));
}
