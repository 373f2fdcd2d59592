// SPDX-License-Identifier: Apache-2.0
/**
 * The `Observer` that records: it turns the core's hooks into history events (Jepsen's op shape
 * for hypercalls) and metric updates. Payload bytes never enter the history: a sendv or
 * WriteMemory carries its length and a digest (CRC-32: payload-digest.ts), enough for an
 * offline checker to line up each message sent with the one read out of the ring.
 */
import { ARGO_DOMID_ANY } from "@hmx/proto/abi";
import { performance } from "node:perf_hooks";
import type { Domain } from "../domain/domain.js";
import type { Hypercall, HypercallResult } from "../dispatch/hypercall.js";
import type { AuditRecord } from "../mac/audit.js";
import type { SendvArgs } from "../argo/types.js";
import { NO_DOMID, type History } from "./history.js";
import { resultLabel, type HmxMetrics } from "./metrics.js";
import type { Observer, StreamKind } from "./observer.js";
import { bytesDigest, dataDigest, digestText, NO_DIGEST, payloadDigest } from "./payload-digest.js";
import type { SendvFields } from "./sendv-record.js";

/** Reused for every recorded sendv (appendSendv copies what it needs). */
const sendvFields: SendvFields = {
  process: 0,
  ret: 0,
  srcDomid: 0,
  srcAport: 0,
  dstDomid: 0,
  dstAport: 0,
  messageType: 0,
  len: 0,
};

/** A sendv's `value`, serialised by hand: it is the hot path and holds only numbers. */
function sendvValueJson(caller: Domain, args: SendvArgs, ok: boolean): string {
  const { src, dst, iovs, messageType } = args;
  let len = 0;
  for (const iov of iovs) len += iov.len;
  const srcDomid = src.domainId === ARGO_DOMID_ANY ? caller.domid : src.domainId;
  const digest = ok ? `,"digest":"${digestText(payloadDigest(caller.memory, iovs))}"` : "";
  return (
    `{"src":{"domid":${srcDomid},"aport":${src.aport}},"dst":{"domid":${dst.domainId},"aport":${dst.aport}},` +
    `"messageType":${messageType},"len":${len}${digest}}`
  );
}

/**
 * A sendv that returned into the history as a binary record (its line is built when read); a
 * failed one (`ret` < 0) has no digest.
 */
function recordSendv(
  history: History,
  caller: Domain,
  args: SendvArgs,
  ret: number,
  monoMs: number,
): void {
  const { src, dst, iovs } = args;
  let len = 0;
  for (const iov of iovs) len += iov.len;
  sendvFields.process = caller.domid;
  sendvFields.ret = ret;
  sendvFields.srcDomid = src.domainId === ARGO_DOMID_ANY ? caller.domid : src.domainId;
  sendvFields.srcAport = src.aport;
  sendvFields.dstDomid = dst.domainId;
  sendvFields.dstAport = dst.aport;
  sendvFields.messageType = args.messageType;
  sendvFields.len = len;
  const digest = ret < 0 ? NO_DIGEST : payloadDigest(caller.memory, iovs);
  history.appendSendv(sendvFields, digest, monoMs);
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
    case "sendv":
      return JSON.parse(sendvValueJson(caller, call.args, ok)) as object;
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

  /** The history while it records (from its first subscriber on), else undefined. */
  #live(): History | undefined {
    return this.history?.recording === true ? this.history : undefined;
  }

  hypercallStarted(): number {
    return performance.now();
  }

  hypercall(caller: Domain, call: Hypercall, result: HypercallResult, startedAt: number): number {
    // One clock reading for the latency, the event's time and the next step's start.
    const now = performance.now();
    this.metrics?.hypercall(call.op, result, (now - startedAt) / 1000);
    const history = this.#live();
    if (history === undefined) return now;
    this.#record(history, caller, call, result, now);
    return now;
  }

  /** The hypercall's history event, at `now`. */
  #record(
    history: History,
    caller: Domain,
    call: Hypercall,
    result: HypercallResult,
    now: number,
  ): void {
    // Sendvs (successes and errnos alike) and the successful memory ops are binary records,
    // rendered when read (sendv-record.ts, memory-record.ts); the rest are built as text.
    if (result.op !== "status") {
      const { ret } = result;
      if (call.op === "sendv") {
        recordSendv(history, caller, call.args, ret, now);
        return;
      }
      if (ret >= 0 && call.op === "readMemory") {
        history.appendMemoryOp(caller.domid, ret, call.gpa, call.length, undefined, now);
        return;
      }
      if (ret >= 0 && call.op === "writeMemory") {
        const digest = dataDigest(call.data);
        history.appendMemoryOp(caller.domid, ret, call.gpa, call.data.length, digest, now);
        return;
      }
    }
    this.#textEvent(history, caller, call, result);
  }

  /** A hypercall event built as text (the infrequent ops and results). */
  #textEvent(history: History, caller: Domain, call: Hypercall, result: HypercallResult): void {
    const ok = result.op !== "status" && result.ret >= 0;
    const sendv = call.op === "sendv";
    const value = sendv
      ? sendvValueJson(caller, call.args, ok)
      : JSON.stringify(hypercallValue(caller, call, ok));
    let fields =
      `"type":"${ok ? "ok" : "fail"}","f":"${call.op}","process":${caller.domid},` +
      `"ret":${result.op === "status" ? "null" : result.ret},"value":${value}`;
    if (!ok) fields += `,"error":"${resultLabel(result)}"`;
    if (result.op === "status") fields += `,"message":${JSON.stringify(result.message)}`;
    const dst = sendv ? call.args.dst.domainId : NO_DOMID;
    history.appendFields("hypercall", caller.domid, dst, fields);
  }

  virq(domid: number, virq: number): void {
    this.metrics?.virq();
    this.#live()?.append("virq", domid, NO_DOMID, { domid, virq });
  }

  stream(domid: number, kind: StreamKind, open: boolean, remaining: number): void {
    const history = this.#live();
    if (history === undefined) return;
    history.append("session", domid, NO_DOMID, {
      domid,
      stream: kind,
      state: open ? "open" : "close",
    });
    // The link is up while the guest holds any stream: the first opens it, the last closes it.
    if (open ? remaining === 1 : remaining === 0)
      history.append("link", domid, NO_DOMID, { domid, state: open ? "up" : "down" });
  }

  macDenial(r: AuditRecord): void {
    this.metrics?.macDenial(r.module, r.permission);
    this.#live()?.append("mac", r.sourceDomid, r.targetDomid, {
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
    this.#live()?.append("domain", d.domid, NO_DOMID, {
      domid: d.domid,
      event,
      name: d.name,
      label: d.label,
      memoryBytes: d.memory.sizeBytes,
    });
  }

  /**
   * A fault started or stopped (Jepsen's nemesis ops sit in the same history); the link-fault
   * engine reports every toxic and link-down here (hypervisor.ts wires it).
   */
  fault(action: "start" | "stop", name: string, detail: object): void {
    this.#live()?.append("fault", NO_DOMID, NO_DOMID, { ...detail, type: action, name });
  }
}
