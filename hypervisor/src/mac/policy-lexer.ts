// SPDX-License-Identifier: Apache-2.0
/**
 * The tokenizer of hmx's policy language, a small subset of Flask's `.te` syntax
 * (checkpolicy's lexer, reduced to what class `argo` needs): identifiers, the punctuation
 * `{ } ; : , ~ * -`, and `#` comments to the end of the line. Every token carries its 1-based
 * line and column; a character that starts no token becomes an `error` token so that the
 * parser reports it in place and carries on.
 */

/** A token kind; punctuation tokens are their own text. */
export type TokenKind = "ident" | "{" | "}" | ";" | ":" | "," | "~" | "*" | "-" | "eof" | "error";

export interface Token {
  readonly kind: TokenKind;
  /** The token's text (for `error`: the offending character). */
  readonly text: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column, in UTF-16 code units (what editors show for ASCII policies). */
  readonly column: number;
  /** Offset of the first character in the source. */
  readonly offset: number;
}

/** Longest identifier accepted: a domain label is at most 64 characters. */
export const MAX_IDENT_LENGTH = 64;

const PUNCTUATION = new Set(["{", "}", ";", ":", ",", "~", "*", "-"]);

function isIdentStart(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f; // A-Z a-z _
}

function isIdentPart(c: number): boolean {
  return isIdentStart(c) || (c >= 0x30 && c <= 0x39); // 0-9
}

/** Splits `source` into tokens, ending with one `eof` token. Never throws. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source.charCodeAt(i);
    if (c === 0x0a) {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (c === 0x20 || c === 0x09 || c === 0x0d) {
      i++;
      continue;
    }
    if (c === 0x23) {
      // '#': comment to the end of the line.
      while (i < n && source.charCodeAt(i) !== 0x0a) i++;
      continue;
    }
    const column = i - lineStart + 1;
    if (isIdentStart(c)) {
      const start = i;
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      tokens.push({ kind: "ident", text: source.slice(start, i), line, column, offset: start });
      continue;
    }
    const ch = source[i] ?? "";
    if (PUNCTUATION.has(ch)) {
      tokens.push({ kind: ch as TokenKind, text: ch, line, column, offset: i });
      i++;
      continue;
    }
    // Keep a surrogate pair together so the error shows the whole character.
    const cp = source.codePointAt(i) ?? c;
    const width = cp > 0xffff ? 2 : 1;
    tokens.push({ kind: "error", text: source.slice(i, i + width), line, column, offset: i });
    i += width;
  }
  tokens.push({ kind: "eof", text: "", line, column: n - lineStart + 1, offset: n });
  return tokens;
}
