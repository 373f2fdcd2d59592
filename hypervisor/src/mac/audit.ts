// SPDX-License-Identifier: Apache-2.0
/**
 * MAC audit: one AVC-style record per denial (Flask's `avc_audit`, Linux's `avc: denied`
 * line, OpenXT viptables' reject log), counted per permission and per deciding rule, pushed to
 * subscribers (the toolstack's WatchAudit) and logged through pino at `warn` behind a token
 * bucket, so a guest hammering a forbidden ring cannot flood the log (Xen rate-limits its
 * printk the same way). Counters and subscribers see every record; only log lines are
 * suppressed, and the next line that gets through says how many were.
 */
import type { Logger } from "pino";

/** Which part of the MAC stack denied. */
export type AuditModule = "flask" | "silo" | "firewall";

/** What the caller knows about a denial. */
export interface AuditInput {
  readonly module: AuditModule;
  /** `enable`, `register_single_source`, `register_any_source` or `send`. */
  readonly permission: string;
  /** The subject's label and the target's (or `xen_t`). */
  readonly scontext: string;
  readonly tcontext: string;
  readonly sourceDomid: number;
  /** 0 when the target is Xen itself. */
  readonly targetDomid: number;
  /** Firewall denials only: the sendv's source port (as written) and destination port. */
  readonly ports: { readonly src: number; readonly dst: number } | null;
  /** The deciding rule with its location, or the reason. */
  readonly rule: string;
  /** Counter key of the deciding rule, e.g. `firewall#3`. */
  readonly ruleKey: string;
  /** The errno the hook returned: negative, or 0 when Flask is permissive. */
  readonly ret: number;
  readonly permissive: boolean;
}

/** One audit record. */
export interface AuditRecord extends AuditInput {
  readonly seq: number;
  /** ISO 8601. */
  readonly time: string;
  readonly tclass: "argo";
  /** The whole record as one `avc: denied { … } for …` line. */
  readonly text: string;
}

export interface AuditCounters {
  readonly denials: number;
  readonly byPermission: readonly (readonly [string, number])[];
  readonly byRule: readonly (readonly [string, number])[];
  readonly logSuppressed: number;
}

export interface AuditOptions {
  /** Log lines allowed in a burst. Default 20. */
  readonly burst?: number;
  /** Log lines per second once the burst is spent. Default 10. */
  readonly perSecond?: number;
  /** Clock in ms (tests). */
  readonly now?: () => number;
}

/** Distinct counter keys kept; beyond it new keys are folded into "other". */
const MAX_COUNTER_KEYS = 10000;

/** `avc: denied { send } for sdomid=3 tdomid=4 … tclass=argo permissive=0 …`. */
export function formatAuditText(r: AuditInput): string {
  const ports = r.ports === null ? "" : ` sport=${r.ports.src} dport=${r.ports.dst}`;
  return (
    `avc: denied { ${r.permission} } for sdomid=${r.sourceDomid} tdomid=${r.targetDomid}${ports} ` +
    `scontext=${r.scontext} tcontext=${r.tcontext} tclass=argo permissive=${r.permissive ? 1 : 0} ` +
    `module=${r.module} ret=${r.ret} rule=${JSON.stringify(r.rule)}`
  );
}

export class Audit {
  readonly #log: Logger;
  readonly #burst: number;
  readonly #perMs: number;
  readonly #now: () => number;
  readonly #subscribers = new Set<(record: AuditRecord) => void>();
  readonly #byPermission = new Map<string, number>();
  readonly #byRule = new Map<string, number>();
  #seq = 0;
  #tokens: number;
  #refilledAt: number;
  #suppressed = 0;
  #suppressedTotal = 0;

  constructor(log: Logger, options: AuditOptions = {}) {
    this.#log = log;
    this.#burst = options.burst ?? 20;
    this.#perMs = (options.perSecond ?? 10) / 1000;
    this.#now = options.now ?? Date.now;
    this.#tokens = this.#burst;
    this.#refilledAt = this.#now();
  }

  /** Records one denial: counters, subscribers, and a log line unless rate-limited. */
  record(input: AuditInput): AuditRecord {
    const now = this.#now();
    const record: AuditRecord = {
      ...input,
      seq: ++this.#seq,
      time: new Date(now).toISOString(),
      tclass: "argo",
      text: formatAuditText(input),
    };
    bump(this.#byPermission, `${input.module}:${input.permission}`);
    bump(this.#byRule, input.ruleKey);
    for (const fn of this.#subscribers) {
      try {
        fn(record);
      } catch (err) {
        this.#log.error({ err }, "audit subscriber failed");
      }
    }
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens--;
      const suppressed = this.#suppressed;
      this.#suppressed = 0;
      this.#log.warn(
        {
          audit: {
            seq: record.seq,
            module: record.module,
            permission: record.permission,
            scontext: record.scontext,
            tcontext: record.tcontext,
            sdomid: record.sourceDomid,
            tdomid: record.targetDomid,
            ...(record.ports === null ? {} : { sport: record.ports.src, dport: record.ports.dst }),
            rule: record.rule,
            ret: record.ret,
            permissive: record.permissive,
          },
          ...(suppressed > 0 ? { suppressed } : {}),
        },
        record.text,
      );
    } else {
      this.#suppressed++;
      this.#suppressedTotal++;
    }
    return record;
  }

  /** Calls `fn` with every record from now on; returns the unsubscribe function. */
  subscribe(fn: (record: AuditRecord) => void): () => void {
    this.#subscribers.add(fn);
    return () => {
      this.#subscribers.delete(fn);
    };
  }

  /** Subscribers currently attached. */
  get subscriberCount(): number {
    return this.#subscribers.size;
  }

  counters(): AuditCounters {
    return {
      denials: this.#seq,
      byPermission: [...this.#byPermission].sort((a, b) => a[0].localeCompare(b[0])),
      byRule: [...this.#byRule].sort((a, b) => a[0].localeCompare(b[0])),
      logSuppressed: this.#suppressedTotal,
    };
  }

  #refill(now: number): void {
    const elapsed = Math.max(0, now - this.#refilledAt);
    this.#refilledAt = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#perMs);
  }
}

function bump(map: Map<string, number>, key: string): void {
  const k = map.has(key) || map.size < MAX_COUNTER_KEYS ? key : "other";
  map.set(k, (map.get(k) ?? 0) + 1);
}
