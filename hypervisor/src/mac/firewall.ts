// SPDX-License-Identifier: Apache-2.0
/**
 * The Argo firewall, after OpenXT's viptables (argo-add-viptables.patch, argo-spec §6.3): one
 * global ordered list of rules `{src, dst, verdict}`, checked on sendv only, after XSM; the
 * first matching rule decides, no match takes the default verdict (ACCEPT, as viptables;
 * configurable), and REJECT is `-EPERM`. hmx widens the match: an endpoint names a domain by
 * domid or by label (or its Flask type), or any domain, and a port or any port.
 *
 * Argo authenticates only the source domid: `src.aport` is copied verbatim from the sender,
 * so rules should key on the source domain or label and the destination port.
 *
 * A `Firewall` is immutable; every change builds a new one that the MAC controller swaps in
 * atomically. Matching goes through per-(sender, destination) caches built lazily from the
 * rules that can match that pair, indexed by destination port, so a 1,000-rule list costs a
 * couple of map lookups per sendv. Rule positions are 1-based, as in viptables.
 */
import { DOMID_MAX } from "@hmx/proto/abi";

import { typeOfLabel, type MacSubject } from "./permissions.js";

export type FirewallVerdict = "accept" | "reject";

/** Which domains an endpoint matches. */
export type DomainMatch =
  | { readonly kind: "any" }
  | { readonly kind: "domid"; readonly domid: number }
  | { readonly kind: "label"; readonly label: string };

/** One side of a rule; `port` null matches any port. */
export interface EndpointMatch {
  readonly domain: DomainMatch;
  readonly port: number | null;
}

/** A rule as the administrator gives it. */
export interface FirewallRuleSpec {
  readonly src: EndpointMatch;
  readonly dst: EndpointMatch;
  readonly verdict: FirewallVerdict;
}

/** Hit counter of a rule (or of the default verdict); survives renumbering. */
export interface HitCounter {
  hits: number;
}

/** A rule in the list. */
export interface FirewallRule extends FirewallRuleSpec {
  /** Stable id, never reused within a run. */
  readonly id: number;
  /** viptables form, e.g. `-d client_t -q 9 -j REJECT`. */
  readonly text: string;
  readonly counter: HitCounter;
}

/** Most rules in the list. */
export const MAX_FIREWALL_RULES = 65536;
/** The largest port a rule may name (OpenXT uses 0xFFFFFFFF as its wildcard). */
export const MAX_FIREWALL_PORT = 0xfffffffe;
/** Default and largest page of `list`. */
export const FIREWALL_PAGE_SIZE = 8;
export const MAX_FIREWALL_PAGE_SIZE = 1000;

const LABEL_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;
/** Verdicts, for checking values that come from outside the type system. */
const VERDICTS: ReadonlySet<string> = new Set(["accept", "reject"]);
/** Bounds of the lazily built match caches. */
const MAX_CACHED_PAIRS = 65536;
const MAX_CACHED_PORTS_PER_PAIR = 1024;

/** A rejected firewall request; `kind` picks the gRPC status. */
export class FirewallError extends Error {
  override readonly name = "FirewallError";
  constructor(
    readonly kind: "invalid" | "not-found" | "full" | "out-of-range",
    message: string,
  ) {
    super(message);
  }
}

function validateEndpoint(side: string, e: EndpointMatch): void {
  const d = e.domain;
  if (d.kind === "domid" && (!Number.isInteger(d.domid) || d.domid < 1 || d.domid > DOMID_MAX)) {
    throw new FirewallError(
      "invalid",
      `${side} domid ${String(d.domid)} is not in 1..${DOMID_MAX}`,
    );
  }
  if (d.kind === "label" && !LABEL_PATTERN.test(d.label)) {
    throw new FirewallError(
      "invalid",
      `${side} label ${JSON.stringify(d.label)} is not 1..64 characters of [A-Za-z0-9_.:-]`,
    );
  }
  if (e.port !== null && (!Number.isInteger(e.port) || e.port < 0 || e.port > MAX_FIREWALL_PORT)) {
    throw new FirewallError(
      "invalid",
      `${side} port ${String(e.port)} is not in 0..${MAX_FIREWALL_PORT}`,
    );
  }
}

/** Checks a rule before anything changes; throws FirewallError("invalid") naming the field. */
export function validateRuleSpec(spec: FirewallRuleSpec): void {
  validateEndpoint("source", spec.src);
  validateEndpoint("destination", spec.dst);
  if (!VERDICTS.has(spec.verdict)) {
    throw new FirewallError(
      "invalid",
      `verdict ${JSON.stringify(spec.verdict)} is not accept or reject`,
    );
  }
}

function domainText(d: DomainMatch): string | undefined {
  if (d.kind === "any") return undefined;
  return d.kind === "domid" ? String(d.domid) : d.label;
}

/** The viptables flags of a rule: `-d`/`-p` client (source), `-e`/`-q` server (destination). */
export function ruleText(spec: FirewallRuleSpec): string {
  const parts: string[] = [];
  const sd = domainText(spec.src.domain);
  if (sd !== undefined) parts.push(`-d ${sd}`);
  if (spec.src.port !== null) parts.push(`-p ${spec.src.port}`);
  const dd = domainText(spec.dst.domain);
  if (dd !== undefined) parts.push(`-e ${dd}`);
  if (spec.dst.port !== null) parts.push(`-q ${spec.dst.port}`);
  parts.push(`-j ${spec.verdict.toUpperCase()}`);
  return parts.join(" ");
}

function domainMatches(m: DomainMatch, s: MacSubject): boolean {
  switch (m.kind) {
    case "any":
      return true;
    case "domid":
      return s.domid === m.domid;
    case "label":
      return s.label === m.label || typeOfLabel(s.label) === m.label;
  }
}

function sameDomainMatch(a: DomainMatch, b: DomainMatch): boolean {
  if (a.kind === "any" || b.kind === "any") return a.kind === b.kind;
  if (a.kind === "domid") return b.kind === "domid" && a.domid === b.domid;
  return b.kind === "label" && a.label === b.label;
}

function sameEndpoint(a: EndpointMatch, b: EndpointMatch): boolean {
  return a.port === b.port && sameDomainMatch(a.domain, b.domain);
}

/** The rules that can match one (sender, destination) pair, by destination port. */
interface PairRules {
  readonly rules: readonly FirewallRule[];
  readonly byPort: Map<number, readonly FirewallRule[]>;
}

/** One immutable firewall: its rules in order and its default verdict. */
export class Firewall {
  readonly rules: readonly FirewallRule[];
  readonly defaultVerdict: FirewallVerdict;
  /** sendv calls decided by the default verdict (shared with successor firewalls). */
  readonly defaultCounter: HitCounter;
  /** Nothing to check: no rules and ACCEPT by default (the common case, no lookups). */
  readonly isOpen: boolean;
  readonly #nextId: number;
  readonly #pairs = new Map<number, PairRules>();

  private constructor(
    rules: readonly FirewallRule[],
    defaultVerdict: FirewallVerdict,
    defaultCounter: HitCounter,
    nextId: number,
  ) {
    this.rules = Object.freeze(rules);
    this.defaultVerdict = defaultVerdict;
    this.defaultCounter = defaultCounter;
    this.isOpen = rules.length === 0 && defaultVerdict === "accept";
    this.#nextId = nextId;
  }

  /** An empty firewall. */
  static create(defaultVerdict: FirewallVerdict = "accept"): Firewall {
    return new Firewall([], defaultVerdict, { hits: 0 }, 1);
  }

  /**
   * `viptables_add`: position n >= 1 makes the rule the n-th; 0 or past the end appends.
   * Returns the new firewall and the rule's actual position.
   */
  insert(
    spec: FirewallRuleSpec,
    position = 0,
  ): { firewall: Firewall; rule: FirewallRule; position: number } {
    validateRuleSpec(spec);
    if (!Number.isInteger(position) || position < 0) {
      throw new FirewallError(
        "invalid",
        `position ${String(position)} is not 0 (append) or a 1-based position`,
      );
    }
    if (this.rules.length >= MAX_FIREWALL_RULES) {
      throw new FirewallError("full", `the firewall already holds ${MAX_FIREWALL_RULES} rules`);
    }
    const rule: FirewallRule = Object.freeze({
      src: freezeEndpoint(spec.src),
      dst: freezeEndpoint(spec.dst),
      verdict: spec.verdict,
      id: this.#nextId,
      text: ruleText(spec),
      counter: { hits: 0 },
    });
    const index = position === 0 || position > this.rules.length ? this.rules.length : position - 1;
    const rules = [...this.rules];
    rules.splice(index, 0, rule);
    return {
      firewall: new Firewall(rules, this.defaultVerdict, this.defaultCounter, this.#nextId + 1),
      rule,
      position: index + 1,
    };
  }

  /** `viptables_del` by 1-based position. */
  deleteAt(position: number): { firewall: Firewall; removed: FirewallRule } {
    const removed =
      Number.isInteger(position) && position >= 1 ? this.rules[position - 1] : undefined;
    if (removed === undefined) {
      throw new FirewallError(
        "not-found",
        `no rule at position ${String(position)} (the firewall has ${this.rules.length})`,
      );
    }
    const rules = this.rules.filter((_, i) => i !== position - 1);
    return {
      firewall: new Firewall(rules, this.defaultVerdict, this.defaultCounter, this.#nextId),
      removed,
    };
  }

  /** `viptables_del` by rule: the first rule with the same source and destination (verdict ignored). */
  deleteMatching(pattern: { readonly src: EndpointMatch; readonly dst: EndpointMatch }): {
    firewall: Firewall;
    removed: FirewallRule;
  } {
    validateEndpoint("source", pattern.src);
    validateEndpoint("destination", pattern.dst);
    const index = this.rules.findIndex(
      (r) => sameEndpoint(r.src, pattern.src) && sameEndpoint(r.dst, pattern.dst),
    );
    if (index < 0) {
      const text = ruleText({ ...pattern, verdict: "accept" }).replace(/ ?-j ACCEPT$/, "");
      throw new FirewallError("not-found", `no rule matches ${text === "" ? "(any)" : text}`);
    }
    return this.deleteAt(index + 1);
  }

  /** Removes every rule; the default verdict stays. */
  flush(): Firewall {
    return new Firewall([], this.defaultVerdict, this.defaultCounter, this.#nextId);
  }

  /** The same rules with another default verdict. */
  withDefault(verdict: FirewallVerdict): Firewall {
    if (!VERDICTS.has(verdict)) {
      throw new FirewallError(
        "invalid",
        `verdict ${JSON.stringify(verdict)} is not accept or reject`,
      );
    }
    return new Firewall(this.rules, verdict, this.defaultCounter, this.#nextId);
  }

  /** `viptables_list`: up to `pageSize` rules after `skip`, with their 1-based positions. */
  list(
    skip = 0,
    pageSize = FIREWALL_PAGE_SIZE,
  ): { rules: { position: number; rule: FirewallRule }[]; total: number } {
    if (!Number.isInteger(skip) || skip < 0 || skip > this.rules.length) {
      throw new FirewallError(
        "out-of-range",
        `skip ${String(skip)} is past the end (the firewall has ${this.rules.length} rules)`,
      );
    }
    const size = pageSize === 0 ? FIREWALL_PAGE_SIZE : pageSize;
    if (!Number.isInteger(size) || size < 1 || size > MAX_FIREWALL_PAGE_SIZE) {
      throw new FirewallError(
        "invalid",
        `page size ${String(pageSize)} is not in 1..${MAX_FIREWALL_PAGE_SIZE}`,
      );
    }
    return {
      rules: this.rules
        .slice(skip, skip + size)
        .map((rule, i) => ({ position: skip + i + 1, rule })),
      total: this.rules.length,
    };
  }

  /**
   * The first rule matching a sendv from `sender` (source port `srcPort` as the sender wrote
   * it) to `dst`'s port `dstPort`, or undefined when the default verdict applies. Allocates
   * only when it fills a cache.
   */
  match(
    sender: MacSubject,
    srcPort: number,
    dst: MacSubject,
    dstPort: number,
  ): FirewallRule | undefined {
    if (this.rules.length === 0) return undefined;
    const pair = this.#pair(sender, dst);
    let candidates = pair.byPort.get(dstPort);
    if (candidates === undefined) {
      candidates = pair.rules.filter((r) => r.dst.port === null || r.dst.port === dstPort);
      if (pair.byPort.size < MAX_CACHED_PORTS_PER_PAIR) pair.byPort.set(dstPort, candidates);
    }
    for (const rule of candidates) {
      if (rule.src.port === null || rule.src.port === srcPort) return rule;
    }
    return undefined;
  }

  /** The rules whose domain parts match the pair; cached for live domains (domids are never reused). */
  #pair(sender: MacSubject, dst: MacSubject): PairRules {
    const cacheable = sender.domid !== 0 && dst.domid !== 0;
    // Domain ids are u16 (at most DOMID_MAX), so the key is unique.
    const key = sender.domid * 0x10000 + dst.domid;
    if (cacheable) {
      const cached = this.#pairs.get(key);
      if (cached !== undefined) return cached;
    }
    const pair: PairRules = {
      rules: this.rules.filter(
        (r) => domainMatches(r.src.domain, sender) && domainMatches(r.dst.domain, dst),
      ),
      byPort: new Map(),
    };
    if (cacheable) {
      if (this.#pairs.size >= MAX_CACHED_PAIRS) this.#pairs.clear();
      this.#pairs.set(key, pair);
    }
    return pair;
  }
}

function freezeEndpoint(e: EndpointMatch): EndpointMatch {
  return Object.freeze({ domain: Object.freeze({ ...e.domain }), port: e.port });
}
