// SPDX-License-Identifier: Apache-2.0
/**
 * The compiled Flask policy: checkpolicy plus the security server's `security_compute_av`,
 * for class `argo`. `compilePolicy` resolves names (types, attributes, `self`), checks
 * `neverallow` assertions and returns either every error with its `file:line:col` or an
 * immutable `CompiledPolicy`. The compiled form indexes allow rules by source type, so
 * `computeAv(ssid, tsid)` touches only rules that can apply, and remembers for each granted
 * permission the first rule (in source order) that granted it: the "which rule decided" of
 * audit records and what-if answers. The AVC (`avc.ts`) caches its answers.
 */
import { createHash } from "node:crypto";

import {
  ALL_ARGO_PERMS,
  ARGO_CLASS,
  PERM_BY_NAME,
  PERM_NAMES,
  UNLABELED_TYPE,
  XEN_TYPE,
  typeOfLabel,
  type ArgoPerm,
} from "./permissions.js";
import {
  MAX_REPORTED_ERRORS,
  parsePolicy,
  type Name,
  type PermSetNode,
  type PolicyDiagnostic,
  type RuleNode,
  type TypeSetNode,
} from "./policy-parser.js";

/** Largest policy source accepted. */
export const MAX_POLICY_BYTES = 4 * 1024 * 1024;

/** One compiled allow rule. */
export interface AllowRule {
  /** 0-based, in source order. */
  readonly index: number;
  /** The rule as written, whitespace collapsed. */
  readonly text: string;
  /** `file:line:col` of the `allow` keyword. */
  readonly location: string;
  /** Permission bits granted. */
  readonly perms: number;
}

/**
 * Flask's `av_decision` for one (source type, target type) pair: the allowed permission bits
 * and, per permission bit, the first rule that grants it.
 */
export interface AvDecision {
  readonly allowed: number;
  /** Indexed by bit position (0 enable … 3 send). */
  readonly rules: readonly (AllowRule | undefined)[];
}

/** Names and keywords a type or attribute may not take. */
const RESERVED = new Set([
  "self",
  "allow",
  "neverallow",
  "type",
  "attribute",
  "typeattribute",
  ARGO_CLASS,
]);

const BIT_POSITIONS = [0, 1, 2, 3] as const;

interface CompiledRule extends AllowRule {
  readonly sources: ReadonlySet<number>;
  readonly targets: ReadonlySet<number>;
  /** The target set names `self`: the source type itself is a target. */
  readonly self: boolean;
}

/** An immutable compiled policy. */
export class CompiledPolicy {
  readonly fileName: string;
  readonly source: string;
  /** Hex SHA-256 of the source. */
  readonly sha256: string;
  /** Type names by sid (index); `xen_t` and `unlabeled_t` included. */
  readonly typeNames: readonly string[];
  readonly attributeCount: number;
  readonly rules: readonly AllowRule[];
  readonly xenSid: number;
  readonly unlabeledSid: number;
  readonly #typeIds: ReadonlyMap<string, number>;
  readonly #bySource: readonly (readonly CompiledRule[])[];
  /** label → sid, filled lazily (a label's type never changes within one policy). */
  readonly #labelSids = new Map<string, number>();

  /** @internal built by `compilePolicy` only. */
  constructor(init: {
    fileName: string;
    source: string;
    typeNames: string[];
    attributeCount: number;
    rules: CompiledRule[];
  }) {
    this.fileName = init.fileName;
    this.source = init.source;
    this.sha256 = createHash("sha256").update(init.source).digest("hex");
    this.typeNames = Object.freeze(init.typeNames);
    this.attributeCount = init.attributeCount;
    this.rules = Object.freeze(
      init.rules.map((r) =>
        Object.freeze({ index: r.index, text: r.text, location: r.location, perms: r.perms }),
      ),
    );
    this.#typeIds = new Map(init.typeNames.map((n, i) => [n, i]));
    this.xenSid = this.#typeIds.get(XEN_TYPE) ?? 0;
    this.unlabeledSid = this.#typeIds.get(UNLABELED_TYPE) ?? 0;
    const bySource: CompiledRule[][] = init.typeNames.map(() => []);
    for (const rule of init.rules) for (const sid of rule.sources) bySource[sid]?.push(rule);
    this.#bySource = bySource;
  }

  /** Number of types (sids run 0..typeCount-1). */
  get typeCount(): number {
    return this.typeNames.length;
  }

  /** The sid of a type name, or undefined. */
  sidOfType(name: string): number | undefined {
    return this.#typeIds.get(name);
  }

  /** The sid a domain with this label runs as: its type's, or `unlabeled_t`'s. */
  sidOfLabel(label: string): number {
    let sid = this.#labelSids.get(label);
    if (sid === undefined) {
      sid = this.#typeIds.get(typeOfLabel(label)) ?? this.unlabeledSid;
      // Bounded: what-if queries may bring arbitrary labels.
      if (this.#labelSids.size < 65536) this.#labelSids.set(label, sid);
    }
    return sid;
  }

  /** `security_compute_av` for class argo: what `ssid` may do to `tsid`, and which rules say so. */
  computeAv(ssid: number, tsid: number): AvDecision {
    let allowed = 0;
    const rules: (AllowRule | undefined)[] = [undefined, undefined, undefined, undefined];
    for (const rule of this.#bySource[ssid] ?? []) {
      if (!(rule.targets.has(tsid) || (rule.self && ssid === tsid))) continue;
      const fresh = rule.perms & ~allowed;
      if (fresh === 0) continue;
      allowed |= fresh;
      for (const bit of BIT_POSITIONS)
        if ((fresh & (1 << bit)) !== 0) rules[bit] = this.rules[rule.index];
      if (allowed === ALL_ARGO_PERMS) break;
    }
    return { allowed, rules };
  }
}

/** The outcome of `compilePolicy`. */
export type CompileResult =
  | { readonly ok: true; readonly policy: CompiledPolicy }
  | { readonly ok: false; readonly errors: readonly PolicyDiagnostic[] };

/** The bit position of a permission bit. */
export function permBitIndex(perm: ArgoPerm): number {
  return 31 - Math.clz32(perm);
}

/**
 * Compiles a policy. Every error (syntax, unknown or duplicate names, unknown class or
 * permission, a violated neverallow) is reported with its position; the policy is usable only
 * if there are none.
 */
export function compilePolicy(source: string, fileName = "policy.te"): CompileResult {
  if (Buffer.byteLength(source, "utf8") > MAX_POLICY_BYTES) {
    return {
      ok: false,
      errors: [
        {
          file: fileName,
          line: 1,
          column: 1,
          message: `policy is larger than ${MAX_POLICY_BYTES} bytes`,
        },
      ],
    };
  }
  const parsed = parsePolicy(source, fileName);
  const errors: PolicyDiagnostic[] = [...parsed.errors];
  const error = (at: Name, message: string): void => {
    errors.push({ file: fileName, line: at.line, column: at.column, message });
  };

  // Pass 1: declarations, in any order relative to their use (as checkpolicy allows).
  const typeNames: string[] = [XEN_TYPE, UNLABELED_TYPE];
  const typeIds = new Map<string, number>([
    [XEN_TYPE, 0],
    [UNLABELED_TYPE, 1],
  ]);
  const declared = new Set<string>();
  const attributes = new Map<string, Set<number>>();
  for (const st of parsed.statements) {
    if (st.kind !== "type" && st.kind !== "attribute") continue;
    const { text } = st.name;
    if (RESERVED.has(text)) {
      error(st.name, `'${text}' is a reserved word and cannot name a ${st.kind}`);
    } else if (st.kind === "type") {
      if (attributes.has(text)) error(st.name, `'${text}' is already declared as an attribute`);
      else if (declared.has(text)) error(st.name, `type '${text}' is declared twice`);
      else {
        declared.add(text);
        // Built-in types may be declared again (Xen's policies declare xen_t themselves).
        if (!typeIds.has(text)) {
          typeIds.set(text, typeNames.length);
          typeNames.push(text);
        }
      }
    } else if (typeIds.has(text)) {
      error(st.name, `'${text}' is already declared as a type`);
    } else if (attributes.has(text)) {
      error(st.name, `attribute '${text}' is declared twice`);
    } else {
      attributes.set(text, new Set());
    }
  }

  // Pass 2: attribute membership.
  const addToAttributes = (type: Name, attrs: readonly Name[]): void => {
    const sid = typeIds.get(type.text);
    if (sid === undefined) {
      error(type, `unknown type '${type.text}'`);
      return;
    }
    for (const a of attrs) {
      const members = attributes.get(a.text);
      if (members === undefined)
        error(
          a,
          typeIds.has(a.text)
            ? `'${a.text}' is a type, not an attribute`
            : `unknown attribute '${a.text}'`,
        );
      else members.add(sid);
    }
  };
  for (const st of parsed.statements) {
    if (st.kind === "type") {
      if (typeIds.has(st.name.text)) addToAttributes(st.name, st.attributes);
    } else if (st.kind === "typeattribute") {
      addToAttributes(st.type, st.attributes);
    }
  }

  // Pass 3: rules.
  const resolveSet = (
    node: TypeSetNode,
    allowSelf: boolean,
  ): { types: Set<number>; self: boolean } | undefined => {
    const all = new Set<number>(typeNames.map((_, i) => i));
    if (node.kind === "all") return { types: all, self: false };
    const plus = new Set<number>();
    const minus = new Set<number>();
    let self = false;
    let ok = true;
    for (const item of node.items) {
      const { text } = item.name;
      if (text === "self") {
        if (!allowSelf || item.negated || node.complement) {
          error(
            item.name,
            allowSelf
              ? "'self' cannot be negated or complemented"
              : "'self' is allowed only in the target type set",
          );
          ok = false;
        } else self = true;
        continue;
      }
      const sid = typeIds.get(text);
      const members = sid === undefined ? attributes.get(text) : new Set([sid]);
      if (members === undefined) {
        error(item.name, `unknown type or attribute '${text}'`);
        ok = false;
        continue;
      }
      for (const m of members) (item.negated ? minus : plus).add(m);
    }
    if (!ok) return undefined;
    for (const m of minus) plus.delete(m);
    if (!node.complement) return { types: plus, self };
    for (const m of plus) all.delete(m);
    return { types: all, self };
  };
  const resolvePerms = (node: PermSetNode): number | undefined => {
    let bits = 0;
    let ok = true;
    if (node.all) return ALL_ARGO_PERMS;
    for (const n of node.names) {
      const bit = PERM_BY_NAME.get(n.text);
      if (bit === undefined) {
        error(
          n,
          `unknown permission '${n.text}' of class argo (expected one of ${Object.values(PERM_NAMES).join(", ")})`,
        );
        ok = false;
      } else bits |= bit;
    }
    if (!ok) return undefined;
    return node.complement ? ALL_ARGO_PERMS & ~bits : bits;
  };

  const rules: CompiledRule[] = [];
  const neverallows: {
    node: RuleNode;
    sources: Set<number>;
    targets: Set<number>;
    self: boolean;
    perms: number;
  }[] = [];
  for (const st of parsed.statements) {
    if (st.kind !== "allow" && st.kind !== "neverallow") continue;
    let classOk = true;
    for (const c of st.classes) {
      if (c.text !== ARGO_CLASS) {
        error(c, `unknown class '${c.text}' (hmx policies have the single class '${ARGO_CLASS}')`);
        classOk = false;
      }
    }
    const src = resolveSet(st.source, false);
    const tgt = resolveSet(st.target, true);
    const perms = resolvePerms(st.perms);
    if (!classOk || src === undefined || tgt === undefined || perms === undefined) continue;
    if (st.kind === "neverallow") {
      neverallows.push({ node: st, sources: src.types, targets: tgt.types, self: tgt.self, perms });
      continue;
    }
    rules.push({
      index: rules.length,
      text: st.text,
      location: `${fileName}:${st.at.line}:${st.at.column}`,
      perms,
      sources: src.types,
      targets: tgt.types,
      self: tgt.self,
    });
  }

  // neverallow: no allow rule may grant a forbidden (source, target, permission).
  for (const never of neverallows) {
    for (const rule of rules) {
      if ((rule.perms & never.perms) === 0) continue;
      if (violates(rule, never)) {
        error(
          never.node.at,
          `neverallow violated by the allow rule at ${rule.location} ("${rule.text}")`,
        );
      }
    }
  }

  if (errors.length > 0) {
    const sorted = sortDiagnostics(errors);
    if (sorted.length > MAX_REPORTED_ERRORS + 1) {
      const last = sorted[sorted.length - 1] ?? { line: 1, column: 1 };
      const shown = sorted.slice(0, MAX_REPORTED_ERRORS);
      shown.push({
        file: fileName,
        line: last.line,
        column: last.column,
        message: `${sorted.length - MAX_REPORTED_ERRORS} more error(s) not shown`,
      });
      return { ok: false, errors: shown };
    }
    return { ok: false, errors: sorted };
  }
  return {
    ok: true,
    policy: new CompiledPolicy({
      fileName,
      source,
      typeNames,
      attributeCount: attributes.size,
      rules,
    }),
  };
}

/** Whether some source type of `rule` reaches a target that `never` forbids. */
function violates(
  rule: CompiledRule,
  never: { sources: Set<number>; targets: Set<number>; self: boolean },
): boolean {
  // The explicit targets do not depend on the source type: intersect them once.
  const [small, large] =
    rule.targets.size <= never.targets.size
      ? [rule.targets, never.targets]
      : [never.targets, rule.targets];
  let targetsMeet = false;
  for (const t of small) {
    if (large.has(t)) {
      targetsMeet = true;
      break;
    }
  }
  for (const s of rule.sources) {
    if (!never.sources.has(s)) continue;
    if (targetsMeet) return true;
    // The pairs (s, s): granted by `self` or by s among the targets; forbidden likewise.
    const grantsSelf = rule.self || rule.targets.has(s);
    const forbidsSelf = never.self || never.targets.has(s);
    if (grantsSelf && forbidsSelf) return true;
  }
  return false;
}

function sortDiagnostics(errors: PolicyDiagnostic[]): PolicyDiagnostic[] {
  return errors.sort((a, b) => a.line - b.line || a.column - b.column);
}
