// SPDX-License-Identifier: Apache-2.0
/**
 * A small promise-based client of `hmx.toolstack.v1.Toolstack` for the CLI, the benchmark,
 * tests and TypeScript harnesses: domains, and the MAC administration (policy, Flask mode,
 * what-if, firewall, audit). 64-bit counters come back as numbers (they are counts far below
 * 2^53 in any run); enums come back as short lowercase words.
 */
import * as grpc from "@grpc/grpc-js";
import { GRPC_MESSAGE_LIMITS, bearerMetadata, loadToolstackProto } from "@hmx/proto";
import type { AuditRecord__Output } from "@hmx/proto/gen/hmx/toolstack/v1/AuditRecord.js";
import type { DeviceInfo__Output } from "@hmx/proto/gen/hmx/toolstack/v1/DeviceInfo.js";
import type { DeviceSpec } from "@hmx/proto/gen/hmx/toolstack/v1/DeviceSpec.js";
import type { DomainSummary__Output } from "@hmx/proto/gen/hmx/toolstack/v1/DomainSummary.js";
import type {
  FirewallMatch,
  FirewallMatch__Output,
} from "@hmx/proto/gen/hmx/toolstack/v1/FirewallMatch.js";
import type { FirewallRule__Output } from "@hmx/proto/gen/hmx/toolstack/v1/FirewallRule.js";
import type { MacSubject } from "@hmx/proto/gen/hmx/toolstack/v1/MacSubject.js";
import type { PolicyInfo__Output } from "@hmx/proto/gen/hmx/toolstack/v1/PolicyInfo.js";
import type { ToolstackClient as GeneratedClient } from "@hmx/proto/gen/hmx/toolstack/v1/Toolstack.js";
import type { FaultEvent__Output } from "@hmx/proto/gen/hmx/toolstack/v1/FaultEvent.js";
import type { FaultInfo__Output } from "@hmx/proto/gen/hmx/toolstack/v1/FaultInfo.js";
import {
  encodeFaultSpec,
  faultEventView,
  faultView,
  type FaultEventView,
  type FaultSpecView,
  type FaultView,
} from "./fault-views.js";

/** A virtio device type by name; the VirtIO device IDs are net 1, blk 2, console 3. */
export type DeviceTypeName = "net" | "blk" | "console";

/** A virtio device to create (fields left out take the toolstack's defaults). */
export interface DeviceSpecView {
  readonly type: DeviceTypeName;
  readonly backendDomid: number;
  readonly name?: string;
  readonly capacityBytes?: number;
  readonly readOnly?: boolean;
  readonly imagePath?: string;
  readonly mac?: string;
  readonly queueSize?: number;
  readonly ringLen?: number;
}

/** A device as the toolstack placed it. */
export interface DeviceInfoView {
  readonly frontendDomid: number;
  readonly devIndex: number;
  readonly spec: Required<DeviceSpecView>;
  readonly backendPort: number;
  readonly frontendPort: number;
}

const DEVICE_TYPE_WIRE = {
  net: "DEVICE_TYPE_NET",
  blk: "DEVICE_TYPE_BLK",
  console: "DEVICE_TYPE_CONSOLE",
} as const;

function toDeviceSpecMessage(d: DeviceSpecView): DeviceSpec {
  return {
    type: DEVICE_TYPE_WIRE[d.type],
    backendDomid: d.backendDomid,
    name: d.name ?? "",
    capacityBytes: String(d.capacityBytes ?? 0),
    readOnly: d.readOnly ?? false,
    imagePath: d.imagePath ?? "",
    mac: d.mac ?? "",
    queueSize: d.queueSize ?? 0,
    ringLen: d.ringLen ?? 0,
  };
}

function toDeviceInfoView(d: DeviceInfo__Output): DeviceInfoView {
  const s = d.spec;
  const type: DeviceTypeName =
    s?.type === "DEVICE_TYPE_NET" ? "net" : s?.type === "DEVICE_TYPE_CONSOLE" ? "console" : "blk";
  return {
    frontendDomid: d.frontendDomid,
    devIndex: d.devIndex,
    backendPort: d.backendPort,
    frontendPort: d.frontendPort,
    spec: {
      type,
      backendDomid: s?.backendDomid ?? 0,
      name: s?.name ?? "",
      capacityBytes: Number(s?.capacityBytes ?? 0),
      readOnly: s?.readOnly ?? false,
      imagePath: s?.imagePath ?? "",
      mac: s?.mac ?? "",
      queueSize: s?.queueSize ?? 0,
      ringLen: s?.ringLen ?? 0,
    },
  };
}

export interface DomainCountersView {
  readonly hypercalls: number;
  readonly errors: number;
  readonly messagesSent: number;
  readonly bytesSent: number;
  readonly messagesReceived: number;
  readonly bytesReceived: number;
  readonly virqs: number;
}

export interface DomainView {
  readonly domid: number;
  readonly name: string;
  readonly label: string;
  readonly memoryBytes: number;
  readonly memoryResidentBytes: number;
  readonly rings: number;
  readonly connected: boolean;
  readonly privileged: boolean;
  readonly counters: DomainCountersView;
}

/** The policy in force (`GetPolicy`, `LoadPolicy`). */
export interface PolicyInfoView {
  readonly loaded: boolean;
  readonly fileName: string;
  readonly sha256: string;
  readonly types: number;
  readonly attributes: number;
  readonly allowRules: number;
  readonly loadedAt: string;
  readonly generation: number;
  readonly xsmModule: string;
  readonly flaskMode: "enforcing" | "permissive";
}

export interface PolicyDiagnosticView {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export interface ValidatePolicyView {
  readonly ok: boolean;
  readonly errors: readonly PolicyDiagnosticView[];
  readonly types: number;
  readonly attributes: number;
  readonly allowRules: number;
}

/** One endpoint of a firewall rule; an absent field matches anything. */
export interface FirewallEndpoint {
  readonly domid?: number;
  readonly label?: string;
  readonly port?: number;
}

export type Verdict = "accept" | "reject";

export interface FirewallRuleView {
  readonly position: number;
  readonly id: number;
  readonly src: FirewallEndpoint;
  readonly dst: FirewallEndpoint;
  readonly verdict: Verdict;
  readonly hits: number;
  readonly text: string;
}

export interface FirewallPageView {
  readonly rules: readonly FirewallRuleView[];
  readonly total: number;
  readonly defaultVerdict: Verdict;
  readonly defaultHits: number;
}

/** A subject of a what-if query: a live domain, or a hypothetical one by label. */
export type SubjectRef =
  { readonly domid: number } | { readonly label: string; readonly privileged?: boolean };

export type PermissionName = "enable" | "register_single_source" | "register_any_source" | "send";

export interface CheckAccessQuery {
  readonly source: SubjectRef;
  readonly target?: SubjectRef;
  /** Default send. */
  readonly permission?: PermissionName;
  readonly dstPort?: number;
  readonly srcPort?: number;
}

export interface AccessStepView {
  readonly hook: string;
  readonly module: string;
  readonly ret: number;
  readonly permissiveOverride: boolean;
  readonly rule: string;
}

export interface CheckAccessView {
  readonly allowed: boolean;
  readonly ret: number;
  readonly steps: readonly AccessStepView[];
  readonly decidedBy: string;
}

export interface AuditCountersView {
  readonly denials: number;
  readonly byPermission: readonly (readonly [string, number])[];
  readonly byRule: readonly (readonly [string, number])[];
  readonly logSuppressed: number;
}

export interface AuditRecordView {
  readonly seq: number;
  readonly time: string;
  readonly module: string;
  readonly permission: string;
  readonly scontext: string;
  readonly tcontext: string;
  readonly sourceDomid: number;
  readonly targetDomid: number;
  readonly ports: { readonly src: number; readonly dst: number } | null;
  readonly rule: string;
  readonly ret: number;
  readonly permissive: boolean;
  readonly text: string;
  readonly droppedBefore: number;
}

/** A running watch stream (WatchAudit, WatchFaults). */
export interface AuditWatch {
  /** Ends the stream (resolves `done`). */
  cancel(): void;
  /** Settles when the stream ends: resolves on cancel, rejects on any other error. */
  readonly done: Promise<void>;
}

function policyInfoView(i: PolicyInfo__Output | null): PolicyInfoView {
  return {
    loaded: i?.loaded ?? false,
    fileName: i?.fileName ?? "",
    sha256: i?.sha256 ?? "",
    types: i?.types ?? 0,
    attributes: i?.attributes ?? 0,
    allowRules: i?.allowRules ?? 0,
    loadedAt: i?.loadedAt ?? "",
    generation: Number(i?.generation ?? 0),
    xsmModule: i?.xsmModule ?? "",
    flaskMode: i?.flaskMode === "FLASK_MODE_PERMISSIVE" ? "permissive" : "enforcing",
  };
}

function endpointMsg(e: FirewallEndpoint | undefined): FirewallMatch {
  const m: FirewallMatch = {};
  if (e?.domid !== undefined) m.domid = e.domid;
  else if (e?.label !== undefined) m.label = e.label;
  if (e?.port !== undefined) m.port = e.port;
  return m;
}

function endpointView(m: FirewallMatch__Output | null): FirewallEndpoint {
  const domain =
    m?.domain === "domid"
      ? { domid: m.domid ?? 0 }
      : m?.domain === "label"
        ? { label: m.label ?? "" }
        : {};
  return m?.portMatch === "port" ? { ...domain, port: m.port ?? 0 } : domain;
}

function ruleView(r: FirewallRule__Output): FirewallRuleView {
  return {
    position: r.position,
    id: Number(r.id),
    src: endpointView(r.src),
    dst: endpointView(r.dst),
    verdict: r.verdict === "FIREWALL_VERDICT_REJECT" ? "reject" : "accept",
    hits: Number(r.hits),
    text: r.text,
  };
}

function verdictMsg(v: Verdict): "FIREWALL_VERDICT_ACCEPT" | "FIREWALL_VERDICT_REJECT" {
  return v === "accept" ? "FIREWALL_VERDICT_ACCEPT" : "FIREWALL_VERDICT_REJECT";
}

function subjectMsg(s: SubjectRef): MacSubject {
  return "domid" in s ? { domid: s.domid } : { label: s.label, privileged: s.privileged ?? false };
}

const PERMISSION_MSG = {
  enable: "ARGO_PERMISSION_ENABLE",
  register_single_source: "ARGO_PERMISSION_REGISTER_SINGLE_SOURCE",
  register_any_source: "ARGO_PERMISSION_REGISTER_ANY_SOURCE",
  send: "ARGO_PERMISSION_SEND",
} as const;

function auditView(r: AuditRecord__Output): AuditRecordView {
  return {
    seq: Number(r.seq),
    time: r.time,
    module: r.module,
    permission: r.permission,
    scontext: r.scontext,
    tcontext: r.tcontext,
    sourceDomid: r.sourceDomid,
    targetDomid: r.targetDomid,
    ports: r.hasPorts ? { src: r.srcPort, dst: r.dstPort } : null,
    rule: r.rule,
    ret: r.ret,
    permissive: r.permissive,
    text: r.text,
    droppedBefore: Number(r.droppedBefore),
  };
}

function toView(d: DomainSummary__Output): DomainView {
  const c = d.counters;
  return {
    domid: d.domid,
    name: d.name,
    label: d.label,
    memoryBytes: Number(d.memoryBytes),
    memoryResidentBytes: Number(d.memoryResidentBytes),
    rings: d.rings,
    connected: d.connected,
    privileged: d.privileged,
    counters: {
      hypercalls: Number(c?.hypercalls ?? 0),
      errors: Number(c?.errors ?? 0),
      messagesSent: Number(c?.messagesSent ?? 0),
      bytesSent: Number(c?.bytesSent ?? 0),
      messagesReceived: Number(c?.messagesReceived ?? 0),
      bytesReceived: Number(c?.bytesReceived ?? 0),
      virqs: Number(c?.virqs ?? 0),
    },
  };
}

export class ToolstackClient {
  private readonly client: GeneratedClient;
  private readonly metadata: grpc.Metadata;

  constructor(address: string, adminToken: string) {
    const Ctor = loadToolstackProto().hmx.toolstack.v1.Toolstack;
    this.client = new Ctor(address, grpc.credentials.createInsecure(), GRPC_MESSAGE_LIMITS);
    this.metadata = bearerMetadata(adminToken);
  }

  createDomain(request: {
    name: string;
    label: string;
    memoryBytes: number;
    privileged?: boolean;
    /** VirtIO devices of the new domain (docs/virtio-argo.md "Discovery"). */
    devices?: readonly DeviceSpecView[];
  }): Promise<{ domid: number; credential: string; devices: DeviceInfoView[] }> {
    return new Promise((resolve, reject) => {
      this.client.createDomain(
        {
          name: request.name,
          label: request.label,
          memoryBytes: String(request.memoryBytes),
          privileged: request.privileged ?? false,
          devices: (request.devices ?? []).map(toDeviceSpecMessage),
        },
        this.metadata,
        (err, res) => {
          if (err !== null || res === undefined)
            reject(err ?? new Error("empty CreateDomain reply"));
          else
            resolve({
              domid: res.domid,
              credential: res.credential,
              devices: res.devices.map(toDeviceInfoView),
            });
        },
      );
    });
  }

  /** Hot-adds a virtio device to a live domain. */
  async attachDevice(domid: number, device: DeviceSpecView): Promise<DeviceInfoView> {
    const res = await this.#unary<{ device: DeviceInfo__Output | null }>((cb) =>
      this.client.attachDevice({ domid, device: toDeviceSpecMessage(device) }, this.metadata, cb),
    );
    if (res.device === null) throw new Error("empty AttachDevice reply");
    return toDeviceInfoView(res.device);
  }

  /** Removes device `devIndex` of `domid`. */
  async detachDevice(domid: number, devIndex: number): Promise<void> {
    await this.#unary((cb) => this.client.detachDevice({ domid, devIndex }, this.metadata, cb));
  }

  /** The devices of one front-end domain, or of all (no domid). */
  async listDevices(domid?: number): Promise<DeviceInfoView[]> {
    const res = await this.#unary<{ devices: DeviceInfo__Output[] }>((cb) =>
      this.client.listDevices({ domid: domid ?? 0 }, this.metadata, cb),
    );
    return res.devices.map(toDeviceInfoView);
  }

  destroyDomain(domid: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.destroyDomain({ domid }, this.metadata, (err) => {
        if (err !== null) reject(err);
        else resolve();
      });
    });
  }

  listDomains(): Promise<DomainView[]> {
    return new Promise((resolve, reject) => {
      this.client.listDomains({}, this.metadata, (err, res) => {
        if (err !== null || res === undefined) reject(err ?? new Error("empty ListDomains reply"));
        else resolve(res.domains.map(toView));
      });
    });
  }

  /** Compiles and loads a policy; a bad one rejects with INVALID_ARGUMENT listing `file:line:col` errors. */
  async loadPolicy(source: string, fileName = ""): Promise<PolicyInfoView> {
    const res = await this.#unary<{ info: PolicyInfo__Output | null }>((cb) =>
      this.client.loadPolicy({ source, fileName }, this.metadata, cb),
    );
    return policyInfoView(res.info);
  }

  async getPolicy(): Promise<{ info: PolicyInfoView; source: string }> {
    const res = await this.#unary<{ info: PolicyInfo__Output | null; source: string }>((cb) =>
      this.client.getPolicy({}, this.metadata, cb),
    );
    return { info: policyInfoView(res.info), source: res.source };
  }

  async validatePolicy(source: string, fileName = ""): Promise<ValidatePolicyView> {
    const res = await this.#unary<ValidatePolicyView>((cb) =>
      this.client.validatePolicy({ source, fileName }, this.metadata, cb),
    );
    return {
      ok: res.ok,
      errors: res.errors.map((e) => ({ ...e })),
      types: res.types,
      attributes: res.attributes,
      allowRules: res.allowRules,
    };
  }

  async setFlaskMode(mode: "enforcing" | "permissive"): Promise<void> {
    const msg = mode === "enforcing" ? "FLASK_MODE_ENFORCING" : "FLASK_MODE_PERMISSIVE";
    await this.#unary((cb) => this.client.setFlaskMode({ mode: msg }, this.metadata, cb));
  }

  /** The what-if query: would `source` be allowed, and which hook and rule decided. */
  async checkAccess(q: CheckAccessQuery): Promise<CheckAccessView> {
    const res = await this.#unary<CheckAccessView>((cb) =>
      this.client.checkAccess(
        {
          source: subjectMsg(q.source),
          ...(q.target === undefined ? {} : { target: subjectMsg(q.target) }),
          permission: PERMISSION_MSG[q.permission ?? "send"],
          dstPort: q.dstPort ?? 0,
          srcPort: q.srcPort ?? 0,
        },
        this.metadata,
        cb,
      ),
    );
    return {
      allowed: res.allowed,
      ret: res.ret,
      steps: res.steps.map((s) => ({ ...s })),
      decidedBy: res.decidedBy,
    };
  }

  /** viptables -A (position 0) or -I n. */
  async addFirewallRule(
    rule: { src?: FirewallEndpoint; dst?: FirewallEndpoint; verdict: Verdict },
    position = 0,
  ): Promise<{ position: number; id: number }> {
    const res = await this.#unary<{ position: number; id: string }>((cb) =>
      this.client.addFirewallRule(
        {
          src: endpointMsg(rule.src),
          dst: endpointMsg(rule.dst),
          verdict: verdictMsg(rule.verdict),
          position,
        },
        this.metadata,
        cb,
      ),
    );
    return { position: res.position, id: Number(res.id) };
  }

  /** viptables -D n (a position) or -D with a rule (the first with that source and destination). */
  async deleteFirewallRule(
    target: number | { src?: FirewallEndpoint; dst?: FirewallEndpoint },
  ): Promise<FirewallRuleView | undefined> {
    const req =
      typeof target === "number"
        ? { position: target }
        : { rule: { src: endpointMsg(target.src), dst: endpointMsg(target.dst) } };
    const res = await this.#unary<{ removed: FirewallRule__Output | null }>((cb) =>
      this.client.deleteFirewallRule(req, this.metadata, cb),
    );
    return res.removed === null ? undefined : ruleView(res.removed);
  }

  async flushFirewall(): Promise<number> {
    const res = await this.#unary<{ removed: number }>((cb) =>
      this.client.flushFirewall({}, this.metadata, cb),
    );
    return res.removed;
  }

  /** One page (viptables_list). */
  async listFirewallRules(skip = 0, pageSize = 0): Promise<FirewallPageView> {
    const res = await this.#unary<{
      rules: FirewallRule__Output[];
      total: number;
      defaultVerdict: string;
      defaultHits: string;
    }>((cb) => this.client.listFirewallRules({ skip, pageSize }, this.metadata, cb));
    return {
      rules: res.rules.map(ruleView),
      total: res.total,
      defaultVerdict: res.defaultVerdict === "FIREWALL_VERDICT_REJECT" ? "reject" : "accept",
      defaultHits: Number(res.defaultHits),
    };
  }

  /** Every rule, paging until a short page as viptables does. */
  async listAllFirewallRules(pageSize = 100): Promise<FirewallPageView> {
    const rules: FirewallRuleView[] = [];
    for (;;) {
      const page = await this.listFirewallRules(rules.length, pageSize);
      rules.push(...page.rules);
      if (page.rules.length < pageSize) return { ...page, rules };
    }
  }

  async setFirewallDefault(verdict: Verdict): Promise<void> {
    await this.#unary((cb) =>
      this.client.setFirewallDefault({ verdict: verdictMsg(verdict) }, this.metadata, cb),
    );
  }

  async getAuditCounters(): Promise<AuditCountersView> {
    const res = await this.#unary<{
      denials: string;
      byPermission: { key: string; count: string }[];
      byRule: { key: string; count: string }[];
      logSuppressed: string;
    }>((cb) => this.client.getAuditCounters({}, this.metadata, cb));
    return {
      denials: Number(res.denials),
      byPermission: res.byPermission.map((c) => [c.key, Number(c.count)] as const),
      byRule: res.byRule.map((c) => [c.key, Number(c.count)] as const),
      logSuppressed: Number(res.logSuppressed),
    };
  }

  /** Streams audit records (one per denial from now on) to `onRecord` until cancelled. */
  watchAudit(onRecord: (record: AuditRecordView) => void): AuditWatch {
    return this.#watch(this.client.watchAudit({}, this.metadata), (r: AuditRecord__Output) => {
      onRecord(auditView(r));
    });
  }

  // ---- Faults (docs/chaos.md) -----------------------------------------------------------------

  /** Starts a fault; resolves with it and its id (INVALID_ARGUMENT / NOT_FOUND name the bad value). */
  async applyFault(spec: FaultSpecView): Promise<FaultView> {
    const res = await this.#unary<{ fault: FaultInfo__Output | null }>((cb) =>
      this.client.applyFault({ fault: encodeFaultSpec(spec) }, this.metadata, cb),
    );
    return faultView(res.fault);
  }

  /** Ends the faults with these ids, or every fault when none is given; resolves with the ids ended. */
  async clearFaults(ids: readonly string[] = []): Promise<string[]> {
    const res = await this.#unary<{ cleared: string[] }>((cb) =>
      this.client.clearFaults({ ids: [...ids] }, this.metadata, cb),
    );
    return res.cleared;
  }

  /** The faults in force. */
  async listFaults(): Promise<FaultView[]> {
    const res = await this.#unary<{ faults: FaultInfo__Output[] }>((cb) =>
      this.client.listFaults({}, this.metadata, cb),
    );
    return res.faults.map(faultView);
  }

  /** Streams every fault's start, change and end from now on to `onEvent` until cancelled. */
  watchFaults(onEvent: (event: FaultEventView) => void): AuditWatch {
    return this.#watch(this.client.watchFaults({}, this.metadata), (e: FaultEvent__Output) => {
      onEvent(faultEventView(e));
    });
  }

  #watch<T>(call: grpc.ClientReadableStream<T>, onData: (item: T) => void): AuditWatch {
    let cancelled = false;
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", onData);
      call.on("error", (err: grpc.ServiceError) => {
        if (cancelled && err.code === grpc.status.CANCELLED) resolve();
        else reject(err);
      });
      call.on("end", () => {
        resolve();
      });
    });
    return {
      cancel: () => {
        cancelled = true;
        call.cancel();
      },
      done,
    };
  }

  close(): void {
    this.client.close();
  }

  #unary<Res>(
    start: (cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      start((err, res) => {
        if (err !== null || res === undefined) reject(err ?? new Error("empty toolstack reply"));
        else resolve(res);
      });
    });
  }
}
