// SPDX-License-Identifier: Apache-2.0
/**
 * The `Observer` that records: it turns the core's hooks into history events (Jepsen's op shape
 * for hypercalls) and metric updates. Payload bytes never enter the history: a sendv or
 * WriteMemory carries its length and a digest (SHA-256, first 16 hex digits), enough for an
 * offline checker to line up each message sent with the one read out of the ring.
 */
import { ARGO_DOMID_ANY } from "@hmx/proto/abi";
import { createHash } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Domain } from "../domain/domain.js";
import type { Hypercall, HypercallResult } from "../dispatch/hypercall.js";
import type { AuditRecord } from "../mac/audit.js";
import type { GuestMemory } from "../memory/guest-memory.js";
import type { Iov } from "../argo/types.js";
import { NO_DOMID, type History } from "./history.js";
import { resultLabel, type HmxMetrics } from "./metrics.js";
import type { Observer, StreamKind } from "./observer.js";

/** Hex digits of SHA-256 kept: 64 bits tell messages apart in any realistic run. */
const DIGEST_HEX = 16;

/** The digest of the bytes `iovs` name in `memory` (the message as the sender gathered it). */
export function payloadDigest(memory: GuestMemory, iovs: readonly Iov[]): string {
  const hash = createHash("sha256");
  for (const iov of iovs) {
    const bytes = memory.read(iov.gpa, iov.len);
    if (bytes !== null) hash.update(bytes);
  }
  return hash.digest("hex").slice(0, DIGEST_HEX);
}

function bytesDigest(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, DIGEST_HEX);
}

/** A hypercall's arguments as the history shows them (`value` of a Jepsen op). */
export function hypercallValue(caller: Domain, call: Hypercall, ok: boolean): object | null {
  switch (call.op) {
    case "getDomainInfo":
      return null;
    case "readMemory":
      return { gpa: call.gpa, len: call.length };
    case "writeMemory":
      return { gpa: call.gpa, len: call.data.length, digest: bytesDigest(call.data) };
    case "registerRing": {
      const { aport, partnerId, len, gfns, flags } = call.args;
      return { aport, partner: partnerId, len, npages: gfns.length, flags };
    }
    case "unregisterRing":
      return { aport: call.args.aport, partner: call.args.partnerId };
    case "sendv": {
      const { src, dst, iovs, messageType } = call.args;
      let len = 0;
      for (const iov of iovs) len += iov.len;
      return {
        src: {
          domid: src.domainId === ARGO_DOMID_ANY ? caller.domid : src.domainId,
          aport: src.aport,
        },
        dst: { domid: dst.domainId, aport: dst.aport },
        messageType,
        len,
        // Only a delivered message's bytes are worth hashing (and are known to be readable).
        ...(ok ? { digest: payloadDigest(caller.memory, iovs) } : {}),
      };
    }
    case "notify":
      return call.ringData === null
        ? null
        : {
            rings: call.ringData.map((e) => ({
              domid: e.ring.domainId,
              aport: e.ring.aport,
              space: e.spaceRequired,
            })),
          };
  }
}

export class RecordingObserver implements Observer {
  constructor(
    readonly history: History | undefined,
    readonly metrics: HmxMetrics | undefined,
  ) {}

  hypercallStarted(): number {
    return performance.now();
  }

  hypercall(caller: Domain, call: Hypercall, result: HypercallResult, startedAt: number): void {
    this.metrics?.hypercall(call.op, result, (performance.now() - startedAt) / 1000);
    if (this.history === undefined) return;
    const ok = result.op !== "status" && result.ret >= 0;
    const dst = call.op === "sendv" ? call.args.dst.domainId : NO_DOMID;
    this.history.append("hypercall", caller.domid, dst, {
      type: ok ? "ok" : "fail",
      f: call.op,
      process: caller.domid,
      ret: result.op === "status" ? null : result.ret,
      value: hypercallValue(caller, call, ok),
      ...(ok ? {} : { error: resultLabel(result) }),
      ...(result.op === "status" ? { message: result.message } : {}),
    });
  }

  virq(domid: number, virq: number): void {
    this.metrics?.virq();
    this.history?.append("virq", domid, NO_DOMID, { domid, virq });
  }

  stream(domid: number, kind: StreamKind, open: boolean, remaining: number): void {
    if (this.history === undefined) return;
    this.history.append("session", domid, NO_DOMID, {
      domid,
      stream: kind,
      state: open ? "open" : "close",
    });
    // The link is up while the guest holds any stream: the first opens it, the last closes it.
    if (open ? remaining === 1 : remaining === 0)
      this.history.append("link", domid, NO_DOMID, { domid, state: open ? "up" : "down" });
  }

  macDenial(r: AuditRecord): void {
    this.metrics?.macDenial(r.module, r.permission);
    this.history?.append("mac", r.sourceDomid, r.targetDomid, {
      decision: r.permissive ? "allowed-permissive" : "denied",
      module: r.module,
      permission: r.permission,
      sdomid: r.sourceDomid,
      tdomid: r.targetDomid,
      scontext: r.scontext,
      tcontext: r.tcontext,
      ...(r.ports === null ? {} : { sport: r.ports.src, dport: r.ports.dst }),
      rule: r.rule,
      ret: r.ret,
    });
  }

  domain(d: Domain, event: "created" | "destroyed"): void {
    this.history?.append("domain", d.domid, NO_DOMID, {
      domid: d.domid,
      event,
      name: d.name,
      label: d.label,
      memoryBytes: d.memory.sizeBytes,
    });
  }

  /**
   * A fault started or stopped (Jepsen's nemesis ops sit in the same history). Nothing injects
   * faults yet; the fault controller calls this when it exists.
   */
  fault(action: "start" | "stop", name: string, detail: object): void {
    this.history?.append("fault", NO_DOMID, NO_DOMID, { type: action, name, ...detail });
  }
}
