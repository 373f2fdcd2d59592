// SPDX-License-Identifier: Apache-2.0
/**
 * The mandatory-access-control RPCs of `hmx.toolstack.v1.Toolstack`: policy load / fetch /
 * validate, the Flask mode, the what-if query, viptables-style firewall administration, audit
 * counters and the WatchAudit stream. Thin adapters over `MacController`: each call checks the
 * admin token, decodes and validates everything (INVALID_ARGUMENT naming the field and value)
 * before the controller changes anything.
 */
import * as grpc from "@grpc/grpc-js";
import type { AccessStep as AccessStepMsg } from "@hmx/proto/gen/hmx/toolstack/v1/AccessStep.js";
import type { ArgoPermission__Output } from "@hmx/proto/gen/hmx/toolstack/v1/ArgoPermission.js";
import type { AuditRecord as AuditRecordMsg } from "@hmx/proto/gen/hmx/toolstack/v1/AuditRecord.js";
import type {
  FirewallMatch,
  FirewallMatch__Output,
} from "@hmx/proto/gen/hmx/toolstack/v1/FirewallMatch.js";
import type { FirewallRule as FirewallRuleMsg } from "@hmx/proto/gen/hmx/toolstack/v1/FirewallRule.js";
import type { FirewallVerdict__Output } from "@hmx/proto/gen/hmx/toolstack/v1/FirewallVerdict.js";
import type { MacSubject__Output } from "@hmx/proto/gen/hmx/toolstack/v1/MacSubject.js";
import type { PolicyInfo } from "@hmx/proto/gen/hmx/toolstack/v1/PolicyInfo.js";
import type { ToolstackHandlers } from "@hmx/proto/gen/hmx/toolstack/v1/Toolstack.js";
import type { WatchAuditRequest__Output } from "@hmx/proto/gen/hmx/toolstack/v1/WatchAuditRequest.js";
import type { Logger } from "pino";

import type { DomainRegistry } from "../domain/domain-registry.js";
import type { AuditRecord } from "../mac/audit.js";
import {
  FirewallError,
  type EndpointMatch,
  type FirewallRule,
  type FirewallVerdict,
} from "../mac/firewall.js";
import { MacError, type MacController } from "../mac/mac-controller.js";
import { ArgoPerm, type MacSubject } from "../mac/permissions.js";
import { formatDiagnostic } from "../mac/policy-parser.js";
import { compilePolicy } from "../mac/policy.js";
import { GrpcError, type AdminAuth } from "./auth.js";

export interface MacServiceContext {
  readonly mac: MacController;
  readonly registry: DomainRegistry;
  readonly auth: AdminAuth;
  readonly log: Logger;
}

/** The MAC handlers, and a way to end every WatchAudit stream at shutdown. */
export interface MacService {
  readonly handlers: Pick<
    ToolstackHandlers,
    | "LoadPolicy"
    | "GetPolicy"
    | "ValidatePolicy"
    | "SetFlaskMode"
    | "CheckAccess"
    | "AddFirewallRule"
    | "DeleteFirewallRule"
    | "FlushFirewall"
    | "ListFirewallRules"
    | "SetFirewallDefault"
    | "GetAuditCounters"
    | "WatchAudit"
  >;
  endWatchers(code: grpc.status, details: string): void;
}

/** Diagnostics shown in a LoadPolicy status message (gRPC status details travel in a header). */
const MAX_DIAGNOSTICS_IN_STATUS = 20;
const LABEL_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
const FILE_NAME_PATTERN = /^[^\r\n\0]{1,255}$/;

function invalid(message: string): GrpcError {
  return new GrpcError(grpc.status.INVALID_ARGUMENT, message);
}

function toStatus(err: unknown, log: Logger): Partial<grpc.StatusObject> {
  if (err instanceof GrpcError) return { code: err.code, details: err.details };
  if (err instanceof MacError) {
    return {
      code:
        err.kind === "precondition"
          ? grpc.status.FAILED_PRECONDITION
          : grpc.status.INVALID_ARGUMENT,
      details: err.message,
    };
  }
  if (err instanceof FirewallError) {
    const code = {
      invalid: grpc.status.INVALID_ARGUMENT,
      "not-found": grpc.status.NOT_FOUND,
      full: grpc.status.RESOURCE_EXHAUSTED,
      "out-of-range": grpc.status.OUT_OF_RANGE,
    }[err.kind];
    return { code, details: err.message };
  }
  log.error({ err }, "internal error in toolstack call");
  return { code: grpc.status.INTERNAL, details: "internal error" };
}

function handler<Req, Res>(
  ctx: MacServiceContext,
  body: (request: Req) => Res,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    try {
      ctx.auth.check(call.metadata);
      callback(null, body(call.request));
    } catch (err) {
      callback(toStatus(err, ctx.log));
    }
  };
}

function decodeVerdict(v: FirewallVerdict__Output, field: string): FirewallVerdict {
  if (v === "FIREWALL_VERDICT_ACCEPT") return "accept";
  if (v === "FIREWALL_VERDICT_REJECT") return "reject";
  throw invalid(
    `${field} ${JSON.stringify(v)}: expected FIREWALL_VERDICT_ACCEPT or FIREWALL_VERDICT_REJECT`,
  );
}

function encodeVerdict(v: FirewallVerdict): "FIREWALL_VERDICT_ACCEPT" | "FIREWALL_VERDICT_REJECT" {
  return v === "accept" ? "FIREWALL_VERDICT_ACCEPT" : "FIREWALL_VERDICT_REJECT";
}

function decodeMatch(m: FirewallMatch__Output | null): EndpointMatch {
  if (m === null) return { domain: { kind: "any" }, port: null };
  const port = m.portMatch === "port" ? (m.port ?? 0) : null;
  if (m.domain === "domid") return { domain: { kind: "domid", domid: m.domid ?? 0 }, port };
  if (m.domain === "label") return { domain: { kind: "label", label: m.label ?? "" }, port };
  return { domain: { kind: "any" }, port };
}

function encodeMatch(e: EndpointMatch): FirewallMatch {
  const port = e.port === null ? {} : { port: e.port };
  switch (e.domain.kind) {
    case "any":
      return port;
    case "domid":
      return { domid: e.domain.domid, ...port };
    case "label":
      return { label: e.domain.label, ...port };
  }
}

function encodeRule(rule: FirewallRule, position: number): FirewallRuleMsg {
  return {
    position,
    id: String(rule.id),
    src: encodeMatch(rule.src),
    dst: encodeMatch(rule.dst),
    verdict: encodeVerdict(rule.verdict),
    hits: String(rule.counter.hits),
    text: rule.text,
  };
}

function decodePermission(p: ArgoPermission__Output): ArgoPerm {
  switch (p) {
    case "ARGO_PERMISSION_UNSPECIFIED":
    case "ARGO_PERMISSION_SEND":
      return ArgoPerm.SEND;
    case "ARGO_PERMISSION_ENABLE":
      return ArgoPerm.ENABLE;
    case "ARGO_PERMISSION_REGISTER_SINGLE_SOURCE":
      return ArgoPerm.REGISTER_SINGLE_SOURCE;
    case "ARGO_PERMISSION_REGISTER_ANY_SOURCE":
      return ArgoPerm.REGISTER_ANY_SOURCE;
    default:
      throw invalid(`permission ${JSON.stringify(p)} is not an ArgoPermission`);
  }
}

function encodeAudit(r: AuditRecord, droppedBefore: number): AuditRecordMsg {
  return {
    seq: String(r.seq),
    time: r.time,
    module: r.module,
    permission: r.permission,
    scontext: r.scontext,
    tcontext: r.tcontext,
    tclass: r.tclass,
    sourceDomid: r.sourceDomid,
    targetDomid: r.targetDomid,
    hasPorts: r.ports !== null,
    srcPort: r.ports?.src ?? 0,
    dstPort: r.ports?.dst ?? 0,
    rule: r.rule,
    ret: r.ret,
    permissive: r.permissive,
    text: r.text,
    droppedBefore: String(droppedBefore),
  };
}

export function createMacService(ctx: MacServiceContext): MacService {
  const { mac } = ctx;
  const watchers = new Set<(code: grpc.status, details: string) => void>();

  const subject = (s: MacSubject__Output | null, field: string): MacSubject => {
    if (s?.subject === "domid") {
      const d = ctx.registry.get(s.domid ?? 0);
      if (d === undefined)
        throw new GrpcError(
          grpc.status.NOT_FOUND,
          `${field}.domid ${s.domid ?? 0}: no live domain has this id`,
        );
      return d;
    }
    if (s?.subject === "label") {
      const label = s.label ?? "";
      if (!LABEL_PATTERN.test(label))
        throw invalid(
          `${field}.label ${JSON.stringify(label)}: expected 1..64 characters of [A-Za-z0-9_.:-]`,
        );
      return { domid: 0, label, privileged: s.privileged };
    }
    throw invalid(`${field}: give a domid or a label`);
  };

  const policyInfo = (): PolicyInfo => {
    const loaded = mac.loaded;
    const base = {
      xsmModule: mac.moduleName,
      flaskMode:
        mac.flaskMode === "enforcing"
          ? ("FLASK_MODE_ENFORCING" as const)
          : ("FLASK_MODE_PERMISSIVE" as const),
    };
    if (loaded === null) return { loaded: false, generation: "0", ...base };
    const p = loaded.policy;
    return {
      loaded: true,
      fileName: p.fileName,
      sha256: p.sha256,
      types: p.typeCount,
      attributes: p.attributeCount,
      allowRules: p.rules.length,
      loadedAt: loaded.loadedAt.toISOString(),
      generation: String(loaded.generation),
      ...base,
    };
  };

  const fileName = (name: string): string => {
    if (name === "") return "policy.te";
    if (!FILE_NAME_PATTERN.test(name))
      throw invalid(
        `file_name ${JSON.stringify(name.slice(0, 80))}: expected 1..255 characters without line breaks`,
      );
    return name;
  };

  const handlers: MacService["handlers"] = {
    LoadPolicy: handler(ctx, (r) => {
      if (mac.moduleName !== "flask") {
        throw new GrpcError(
          grpc.status.FAILED_PRECONDITION,
          `the XSM module is ${mac.moduleName}; policies need --xsm flask`,
        );
      }
      const result = compilePolicy(r.source, fileName(r.fileName));
      if (!result.ok) {
        const shown = result.errors.slice(0, MAX_DIAGNOSTICS_IN_STATUS).map(formatDiagnostic);
        const more = result.errors.length - shown.length;
        throw invalid(
          `policy rejected with ${result.errors.length} error(s); the running policy stays in force\n${shown.join("\n")}` +
            (more > 0 ? `\n(${more} more; ValidatePolicy lists them all)` : ""),
        );
      }
      mac.loadPolicy(result.policy);
      return { info: policyInfo() };
    }),
    GetPolicy: handler(ctx, () => ({
      info: policyInfo(),
      source: mac.loaded?.policy.source ?? "",
    })),
    ValidatePolicy: handler(ctx, (r) => {
      const result = compilePolicy(r.source, fileName(r.fileName));
      if (!result.ok) return { ok: false, errors: [...result.errors] };
      const p = result.policy;
      return {
        ok: true,
        errors: [],
        types: p.typeCount,
        attributes: p.attributeCount,
        allowRules: p.rules.length,
      };
    }),
    SetFlaskMode: handler(ctx, (r) => {
      if (r.mode === "FLASK_MODE_ENFORCING") mac.setFlaskMode("enforcing");
      else if (r.mode === "FLASK_MODE_PERMISSIVE") mac.setFlaskMode("permissive");
      else
        throw invalid(
          `mode ${JSON.stringify(r.mode)}: expected FLASK_MODE_ENFORCING or FLASK_MODE_PERMISSIVE`,
        );
      return {};
    }),
    CheckAccess: handler(ctx, (r) => {
      const permission = decodePermission(r.permission);
      const source = subject(r.source, "source");
      const needsTarget =
        permission === ArgoPerm.SEND || permission === ArgoPerm.REGISTER_SINGLE_SOURCE;
      if (!needsTarget && r.target?.subject !== undefined) {
        throw invalid(`target: ${r.permission} is checked against Xen itself; leave target unset`);
      }
      const target = needsTarget ? subject(r.target, "target") : null;
      const check = mac.checkAccess({
        source,
        target,
        permission,
        srcPort: r.srcPort,
        dstPort: r.dstPort,
      });
      const steps: AccessStepMsg[] = check.steps.map((s) => ({
        hook: s.hook,
        module: s.module,
        ret: s.ret,
        permissiveOverride: s.permissiveOverride,
        rule: s.rule,
        reason: s.permissiveOverride ? "flask permissive: denial logged, call allowed" : "",
      }));
      return { allowed: check.allowed, ret: check.ret, steps, decidedBy: check.decidedBy };
    }),
    AddFirewallRule: handler(ctx, (r) => {
      const verdict = decodeVerdict(r.verdict, "verdict");
      const { rule, position } = mac.addFirewallRule(
        { src: decodeMatch(r.src), dst: decodeMatch(r.dst), verdict },
        r.position,
      );
      return { position, id: String(rule.id) };
    }),
    DeleteFirewallRule: handler(ctx, (r) => {
      if (r.target === "position") {
        const position = r.position ?? 0;
        return { removed: encodeRule(mac.deleteFirewallRuleAt(position), position) };
      }
      if (r.target === "rule") {
        const removed = mac.deleteFirewallRuleMatching({
          src: decodeMatch(r.rule?.src ?? null),
          dst: decodeMatch(r.rule?.dst ?? null),
        });
        return { removed: encodeRule(removed, 0) };
      }
      throw invalid("give a position or a rule to delete (FlushFirewall removes them all)");
    }),
    FlushFirewall: handler(ctx, () => ({ removed: mac.flushFirewall() })),
    ListFirewallRules: handler(ctx, (r) => {
      const fw = mac.firewallTable;
      const page = fw.list(r.skip, r.pageSize);
      return {
        rules: page.rules.map(({ rule, position }) => encodeRule(rule, position)),
        total: page.total,
        defaultVerdict: encodeVerdict(fw.defaultVerdict),
        defaultHits: String(fw.defaultCounter.hits),
      };
    }),
    SetFirewallDefault: handler(ctx, (r) => {
      mac.setFirewallDefault(decodeVerdict(r.verdict, "verdict"));
      return {};
    }),
    GetAuditCounters: handler(ctx, () => {
      const c = mac.audit.counters();
      return {
        denials: String(c.denials),
        byPermission: c.byPermission.map(([key, count]) => ({ key, count: String(count) })),
        byRule: c.byRule.map(([key, count]) => ({ key, count: String(count) })),
        logSuppressed: String(c.logSuppressed),
      };
    }),
    WatchAudit: (call: grpc.ServerWritableStream<WatchAuditRequest__Output, AuditRecordMsg>) => {
      try {
        ctx.auth.check(call.metadata);
      } catch (err) {
        call.emit("error", toStatus(err, ctx.log));
        return;
      }
      let ended = false;
      let blocked = false;
      let dropped = 0;
      const unsubscribe = mac.audit.subscribe((record) => {
        if (ended) return;
        // A watcher that cannot keep up loses records rather than growing our memory.
        if (blocked) {
          dropped++;
          return;
        }
        blocked = !call.write(encodeAudit(record, dropped));
        dropped = 0;
      });
      const end = (code: grpc.status, details: string): void => {
        if (ended) return;
        cleanup();
        call.emit("error", { code, details });
      };
      const cleanup = (): void => {
        if (ended) return;
        ended = true;
        unsubscribe();
        watchers.delete(end);
      };
      watchers.add(end);
      call.on("drain", () => {
        blocked = false;
      });
      call.on("cancelled", cleanup);
      call.on("close", cleanup);
      call.on("error", cleanup);
    },
  };

  return {
    handlers,
    endWatchers(code, details) {
      for (const end of [...watchers]) end(code, details);
    },
  };
}
