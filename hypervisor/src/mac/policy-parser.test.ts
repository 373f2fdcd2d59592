// SPDX-License-Identifier: Apache-2.0
/**
 * The policy language's syntax: the lexer and the recursive-descent parser, errors reported
 * with file, line and column (all of them, thanks to recovery), and a fuzzed parser test
 * (bounded, seeded from HMX_TEST_SEED) showing that no input makes the parser or compiler
 * throw and that every error points inside the file.
 */
import fc from "fast-check";
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { tokenize } from "./policy-lexer.js";
import { formatDiagnostic, parsePolicy, MAX_REPORTED_ERRORS } from "./policy-parser.js";
import { compilePolicy } from "./policy.js";

const seed = Number(process.env["HMX_TEST_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
console.log(`policy parser fuzz: fast-check seed ${seed} (replay with HMX_TEST_SEED=${seed})`);

function errorsOf(source: string): string[] {
  const r = compilePolicy(source, "p.te");
  return r.ok ? [] : r.errors.map(formatDiagnostic);
}

describe("policy lexer", () => {
  test("the lexer gives 1-based lines and columns and skips # comments", () => {
    const tokens = tokenize("# c\n  allow a_t{ };\n");
    assert.deepEqual(
      tokens.map((t) => [t.kind, t.text, t.line, t.column]),
      [
        ["ident", "allow", 2, 3],
        ["ident", "a_t", 2, 9],
        ["{", "{", 2, 12],
        ["}", "}", 2, 14],
        [";", ";", 2, 15],
        ["eof", "", 3, 1],
      ],
    );
  });

  test("the lexer turns a stray character into an error token in place", () => {
    const tokens = tokenize("type a$b;");
    assert.deepEqual(
      tokens.map((t) => t.kind),
      ["ident", "ident", "error", "ident", ";", "eof"],
    );
    assert.equal(tokens[2]?.column, 7);
  });
});

describe("policy parser", () => {
  test("the parser accepts every statement form of the grammar", () => {
    const r = parsePolicy(
      `attribute domain_type;
       type a_t;
       type b_t, domain_type;
       typeattribute a_t domain_type;
       allow a_t b_t:argo send;
       allow { a_t b_t } { domain_type -b_t self }:{ argo } { send register_single_source };
       allow * ~a_t:argo *;
       allow ~{ a_t } xen_t:argo ~{ send };
       neverallow b_t a_t:argo send;`,
      "p.te",
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.statements.map((s) => s.kind),
      [
        "attribute",
        "type",
        "type",
        "typeattribute",
        "allow",
        "allow",
        "allow",
        "allow",
        "neverallow",
      ],
    );
  });

  test("a rule remembers its text with whitespace collapsed", () => {
    const r = parsePolicy("allow  a_t\n  b_t : argo   send ;", "p.te");
    const rule = r.statements[0];
    assert.ok(rule?.kind === "allow");
    assert.equal(rule.text, "allow a_t b_t : argo send ;");
  });

  test("a syntax error is reported with file, line and column", () => {
    assert.deepEqual(errorsOf("type a_t;\nallow a_t a_t argo send;\n"), [
      "p.te:2:15: expected ':' before the class, found 'argo'",
    ]);
  });

  test("the parser recovers after each error and reports them all", () => {
    const errs = errorsOf("type a_t;\nallow a_t;\nfoo bar;\ntype ;\nallow a_t a_t:argo send\n");
    assert.deepEqual(errs, [
      "p.te:2:10: expected a target type set, found ';'",
      "p.te:3:1: expected a statement (allow, neverallow, type, attribute, typeattribute), found 'foo'",
      "p.te:4:6: expected a type name, found ';'",
      "p.te:6:1: expected ';', found end of file",
    ]);
  });

  test("empty sets, an all-negated set and an unexpected character are errors", () => {
    const errs = errorsOf(
      "type a_t;\nallow {} a_t:argo send;\nallow { -a_t } a_t:argo send;\nallow a_t a_t:argo { };\ntype b@t;\n",
    );
    assert.deepEqual(errs, [
      "p.te:2:8: empty type set '{ }'",
      "p.te:3:7: a type set needs at least one name that is not negated",
      "p.te:4:22: empty permission set '{ }'",
      "p.te:5:7: expected ',' or ';', found unexpected character \"@\"",
    ]);
  });

  test("a name longer than 64 characters is an error", () => {
    const long = "t".repeat(65);
    assert.match(
      errorsOf(`type ${long};`)[0] ?? "",
      /^p\.te:1:6: name 'tttttttttttttttt…' is longer than 64 characters$/,
    );
  });

  test("at most 100 errors are listed, then a count of the rest", () => {
    const errs = errorsOf("x;\n".repeat(150));
    assert.equal(errs.length, MAX_REPORTED_ERRORS + 1);
    assert.match(errs.at(-1) ?? "", /50 more error\(s\) not shown/);
  });
});

describe("policy parser fuzz", () => {
  const VALID = `attribute domain_type;
type a_t, domain_type;
type b_t, domain_type;
allow domain_type xen_t:argo { enable register_any_source };
allow a_t b_t:argo { send register_single_source };
allow { a_t -b_t } self:argo *;
neverallow b_t a_t:argo send;
`;
  const lineCount = (s: string): number => s.split("\n").length;

  test("no input makes the parser or compiler throw, and every error points inside the file", () => {
    const pieces = fc.constantFrom(
      "allow",
      "type",
      "attribute",
      "typeattribute",
      "neverallow",
      "argo",
      "send",
      "enable",
      "self",
      "a_t",
      "b_t",
      "xen_t",
      "domain_type",
      "{",
      "}",
      ";",
      ":",
      ",",
      "~",
      "*",
      "-",
      "\n",
      " ",
      "#",
      "$",
      "é",
      "\u{1F600}",
    );
    const mutated = fc
      .tuple(
        fc.integer({ min: 0, max: VALID.length }),
        fc.integer({ min: 0, max: 20 }),
        fc.array(pieces, { maxLength: 8 }),
      )
      .map(([pos, del, ins]) => VALID.slice(0, pos) + ins.join(" ") + VALID.slice(pos + del));
    const random = fc.array(pieces, { maxLength: 60 }).map((p) => p.join(" "));
    fc.assert(
      fc.property(fc.oneof(mutated, random, fc.string({ maxLength: 200 })), (source) => {
        const r = compilePolicy(source, "f.te");
        if (r.ok) return;
        assert.ok(r.errors.length > 0);
        for (const e of r.errors) {
          assert.equal(e.file, "f.te");
          assert.ok(e.line >= 1 && e.line <= lineCount(source), `line ${e.line} outside the file`);
          assert.ok(e.column >= 1, `column ${e.column}`);
          assert.ok(e.message.length > 0);
        }
      }),
      { numRuns: 2000, seed },
    );
  });

  test("the unmutated fuzz base policy compiles", () => {
    assert.deepEqual(errorsOf(VALID), []);
  });
});
