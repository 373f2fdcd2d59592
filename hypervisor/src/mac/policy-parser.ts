// SPDX-License-Identifier: Apache-2.0
/**
 * A hand-written recursive-descent parser for hmx's policy language, the Flask `.te` subset
 * documented in docs/mac.md (checkpolicy's grammar for `attribute`, `type`, `typeattribute`,
 * `allow` and `neverallow`, over the single class `argo`). It builds a syntax tree and collects
 * every error with its `file:line:col`; after an error it skips to the next `;` and carries on,
 * so one run reports all the mistakes in a file. Names are resolved later, in `policy.ts`.
 */
import { tokenize, MAX_IDENT_LENGTH, type Token, type TokenKind } from "./policy-lexer.js";

/** One problem in a policy file. */
export interface PolicyDiagnostic {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** `file:line:col: message`, the form compilers and editors understand. */
export function formatDiagnostic(d: PolicyDiagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.message}`;
}

/** An identifier where it was written. */
export interface Name {
  readonly text: string;
  readonly line: number;
  readonly column: number;
}

/** A member of a `{ ... }` type set; `-name` removes the name's types. */
export interface TypeSetItem {
  readonly name: Name;
  readonly negated: boolean;
}

/** A type set: `*`, a name, `{ a b -c }`, or `~` of a name or braced set. */
export type TypeSetNode =
  | { readonly kind: "all"; readonly at: Name }
  | {
      readonly kind: "set";
      readonly complement: boolean;
      readonly items: readonly TypeSetItem[];
      readonly at: Name;
    };

/** A permission set: `*`, a permission, `{ p q }`, or `~` of one of those. */
export interface PermSetNode {
  readonly all: boolean;
  readonly complement: boolean;
  readonly names: readonly Name[];
}

/** An `allow` or `neverallow` rule. */
export interface RuleNode {
  readonly kind: "allow" | "neverallow";
  readonly source: TypeSetNode;
  readonly target: TypeSetNode;
  readonly classes: readonly Name[];
  readonly perms: PermSetNode;
  /** Where the keyword is. */
  readonly at: Name;
  /** The rule's source text, whitespace collapsed (for "which rule decided"). */
  readonly text: string;
}

/** A statement of the policy. */
export type StatementNode =
  | { readonly kind: "attribute"; readonly name: Name; readonly at: Name }
  | {
      readonly kind: "type";
      readonly name: Name;
      readonly attributes: readonly Name[];
      readonly at: Name;
    }
  | {
      readonly kind: "typeattribute";
      readonly type: Name;
      readonly attributes: readonly Name[];
      readonly at: Name;
    }
  | RuleNode;

export interface ParseResult {
  readonly statements: readonly StatementNode[];
  readonly errors: readonly PolicyDiagnostic[];
}

/** Most errors reported for one file; the rest are summarised in one line. */
export const MAX_REPORTED_ERRORS = 100;

const STATEMENT_KEYWORDS = ["allow", "neverallow", "type", "attribute", "typeattribute"];

/** Thrown inside the parser to abandon a statement; never escapes `parsePolicy`. */
class StatementError extends Error {}

function describe(t: Token): string {
  if (t.kind === "eof") return "end of file";
  if (t.kind === "ident") return `'${t.text}'`;
  if (t.kind === "error") return `unexpected character ${JSON.stringify(t.text)}`;
  return `'${t.text}'`;
}

class Parser {
  readonly #tokens: Token[];
  readonly #eof: Token;
  readonly #source: string;
  readonly #file: string;
  readonly errors: PolicyDiagnostic[] = [];
  #pos = 0;
  #dropped = 0;

  constructor(source: string, file: string) {
    this.#source = source;
    this.#file = file;
    this.#tokens = tokenize(source);
    this.#eof = this.#tokens[this.#tokens.length - 1] ?? {
      kind: "eof",
      text: "",
      line: 1,
      column: 1,
      offset: 0,
    };
  }

  parse(): StatementNode[] {
    const statements: StatementNode[] = [];
    while (this.#peek().kind !== "eof") {
      const start = this.#pos;
      try {
        statements.push(this.#statement());
      } catch (err) {
        if (!(err instanceof StatementError)) throw err;
        this.#recover(start);
      }
    }
    if (this.#dropped > 0) {
      const last = this.#peek();
      this.errors.push({
        file: this.#file,
        line: last.line,
        column: last.column,
        message: `${this.#dropped} more error(s) not shown`,
      });
    }
    return statements;
  }

  error(at: { line: number; column: number }, message: string): void {
    if (this.errors.length >= MAX_REPORTED_ERRORS) {
      this.#dropped++;
      return;
    }
    this.errors.push({ file: this.#file, line: at.line, column: at.column, message });
  }

  #peek(): Token {
    // The token list always ends with eof and #pos never passes it.
    return this.#tokens[this.#pos] ?? this.#eof;
  }

  #next(): Token {
    const t = this.#peek();
    if (t.kind !== "eof") this.#pos++;
    return t;
  }

  #fail(t: Token, message: string): never {
    this.error(t, message);
    throw new StatementError(message);
  }

  #expect(kind: TokenKind, what: string): Token {
    const t = this.#peek();
    if (t.kind !== kind) this.#fail(t, `expected ${what}, found ${describe(t)}`);
    return this.#next();
  }

  #name(what: string): Name {
    const t = this.#peek();
    if (t.kind !== "ident") this.#fail(t, `expected ${what}, found ${describe(t)}`);
    this.#next();
    if (t.text.length > MAX_IDENT_LENGTH) {
      this.error(t, `name '${t.text.slice(0, 16)}…' is longer than ${MAX_IDENT_LENGTH} characters`);
    }
    return { text: t.text, line: t.line, column: t.column };
  }

  /** Skips past the next ';' (always consuming at least one token). */
  #recover(start: number): void {
    if (this.#pos === start) this.#next();
    const prev = this.#tokens[this.#pos - 1];
    if (prev?.kind === ";") return;
    while (this.#peek().kind !== "eof") {
      if (this.#next().kind === ";") return;
    }
  }

  #statement(): StatementNode {
    const t = this.#peek();
    if (t.kind !== "ident" || !STATEMENT_KEYWORDS.includes(t.text)) {
      this.#fail(
        t,
        `expected a statement (${STATEMENT_KEYWORDS.join(", ")}), found ${describe(t)}`,
      );
    }
    this.#next();
    const at: Name = { text: t.text, line: t.line, column: t.column };
    switch (t.text) {
      case "attribute": {
        const name = this.#name("an attribute name");
        this.#expect(";", "';'");
        return { kind: "attribute", name, at };
      }
      case "type": {
        const name = this.#name("a type name");
        const attributes = this.#tailList();
        this.#expect(";", "',' or ';'");
        return { kind: "type", name, attributes, at };
      }
      case "typeattribute": {
        const type = this.#name("a type name");
        const attributes = [this.#name("an attribute name")];
        attributes.push(...this.#tailList());
        this.#expect(";", "',' or ';'");
        return { kind: "typeattribute", type, attributes, at };
      }
      default:
        return this.#rule(t, at);
    }
  }

  /** `{ "," ident }`. */
  #tailList(): Name[] {
    const names: Name[] = [];
    while (this.#peek().kind === ",") {
      this.#next();
      names.push(this.#name("an attribute name"));
    }
    return names;
  }

  #rule(keyword: Token, at: Name): RuleNode {
    const source = this.#typeSet("a source type set");
    const target = this.#typeSet("a target type set");
    this.#expect(":", "':' before the class");
    const classes = this.#classSet();
    const perms = this.#permSet();
    const end = this.#expect(";", "';'");
    const text = this.#source.slice(keyword.offset, end.offset + 1).replace(/\s+/g, " ");
    return {
      kind: keyword.text === "neverallow" ? "neverallow" : "allow",
      source,
      target,
      classes,
      perms,
      at,
      text,
    };
  }

  #typeSet(what: string): TypeSetNode {
    const t = this.#peek();
    const at: Name = { text: t.text, line: t.line, column: t.column };
    if (t.kind === "*") {
      this.#next();
      return { kind: "all", at };
    }
    let complement = false;
    if (t.kind === "~") {
      this.#next();
      complement = true;
    }
    const u = this.#peek();
    if (u.kind === "ident")
      return { kind: "set", complement, items: [{ name: this.#name(what), negated: false }], at };
    if (u.kind !== "{") this.#fail(u, `expected ${what}, found ${describe(u)}`);
    this.#next();
    const items: TypeSetItem[] = [];
    for (;;) {
      const v = this.#peek();
      if (v.kind === "}") break;
      let negated = false;
      if (v.kind === "-") {
        this.#next();
        negated = true;
      }
      items.push({ name: this.#name("a type or attribute name (or '}')"), negated });
    }
    const close = this.#next();
    if (items.length === 0) this.#fail(close, "empty type set '{ }'");
    if (items.every((i) => i.negated))
      this.error(at, "a type set needs at least one name that is not negated");
    return { kind: "set", complement, items, at };
  }

  #classSet(): Name[] {
    if (this.#peek().kind !== "{") return [this.#name("a class name")];
    this.#next();
    const names: Name[] = [];
    while (this.#peek().kind !== "}") names.push(this.#name("a class name (or '}')"));
    const close = this.#next();
    if (names.length === 0) this.#fail(close, "empty class set '{ }'");
    return names;
  }

  #permSet(): PermSetNode {
    const t = this.#peek();
    if (t.kind === "*") {
      this.#next();
      return { all: true, complement: false, names: [] };
    }
    let complement = false;
    if (t.kind === "~") {
      this.#next();
      complement = true;
    }
    if (this.#peek().kind !== "{")
      return { all: false, complement, names: [this.#name("a permission")] };
    this.#next();
    const names: Name[] = [];
    while (this.#peek().kind !== "}") names.push(this.#name("a permission (or '}')"));
    const close = this.#next();
    if (names.length === 0) this.#fail(close, "empty permission set '{ }'");
    return { all: false, complement, names };
  }
}

/** Parses a policy into statements plus every syntax error. Never throws for bad input. */
export function parsePolicy(source: string, file: string): ParseResult {
  const parser = new Parser(source, file);
  const statements = parser.parse();
  return { statements, errors: parser.errors };
}
