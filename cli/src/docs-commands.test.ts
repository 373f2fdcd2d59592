// SPDX-License-Identifier: Apache-2.0
/**
 * The commands in README.md and docs/*.md work as written, so the docs cannot drift from the CLI:
 * every fenced `sh` block marked `<!-- doc-test: run -->` runs offline from the checkout and
 * must exit 0; every other `hmx` command line in a `sh` block names a real command, and each
 * of its `--long-flags` appears in that command's `--help`.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { HMX_BIN } from "./up/child-process.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const DOCS = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];
const RUN_MARK = "<!-- doc-test: run -->";

interface Block {
  readonly file: string;
  readonly line: number;
  readonly run: boolean;
  readonly lines: readonly string[];
}

/** The fenced `sh` blocks of a Markdown file, with whether the line before marks them runnable. */
export function shBlocks(file: string, text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== "```sh") continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i]?.trim() !== "```"; i++) body.push(lines[i] ?? "");
    // The marker is the nearest non-blank line above the fence (a formatter may add a blank).
    let above = start - 1;
    while (above > 0 && lines[above]?.trim() === "") above--;
    blocks.push({ file, line: start + 1, run: lines[above]?.trim() === RUN_MARK, lines: body });
  }
  return blocks;
}

/** `npx hmx …` / `hmx …` / `node …/hmx.js …` as a command for this checkout's hmx. */
function hmxCommand(line: string): { command: string; args: string[] } | undefined {
  // Bare `hmx` only where a command starts (`kubectl -n hmx scale …` is not one).
  const m = /(?:(?:^|&&|;)\s*hmx|npx hmx|node \S*\/hmx\.js)\s+(\S.*)$/.exec(
    line.replace(/\s+#.*$/, ""),
  );
  if (m?.[1] === undefined) return undefined;
  const [command = "", ...args] = m[1].trim().split(/\s+/);
  return { command, args };
}

const helpCache = new Map<string, string>();
function help(command: string): string {
  let text = helpCache.get(command);
  if (text === undefined) {
    const r = spawnSync(
      process.execPath,
      [HMX_BIN, ...(command.startsWith("-") ? [] : [command]), "--help"],
      { encoding: "utf8" },
    );
    text = r.status === 0 ? r.stdout : "";
    helpCache.set(command, text);
  }
  return text;
}

const blocks = DOCS.flatMap((f) => shBlocks(f, readFileSync(join(ROOT, f), "utf8")));

describe("the commands the docs show", () => {
  it("the docs have runnable blocks at all (the marker is not lost)", () => {
    assert.ok(blocks.filter((b) => b.run).length >= 2, "README.md marks its offline blocks");
  });

  for (const block of blocks.filter((b) => b.run)) {
    for (const line of block.lines.filter((l) => l.trim() !== "" && !l.trim().startsWith("#"))) {
      it(`${block.file}:${block.line}: ${line.replace(/\s+#.*$/, "")} exits 0`, () => {
        const cmd = hmxCommand(line);
        assert.ok(cmd !== undefined, "a runnable doc line is an hmx command");
        const r = spawnSync(process.execPath, [HMX_BIN, cmd.command, ...cmd.args], {
          cwd: ROOT,
          encoding: "utf8",
          timeout: 30_000,
        });
        assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      });
    }
  }

  it("every hmx command line of every sh block names a real command and only flags its --help lists", () => {
    const problems: string[] = [];
    let checked = 0;
    for (const block of blocks) {
      block.lines.forEach((line, i) => {
        const cmd = hmxCommand(line);
        if (cmd === undefined) return;
        checked++;
        const where = `${block.file}:${block.line + 1 + i}`;
        const text = help(cmd.command);
        if (text === "") {
          problems.push(`${where}: 'hmx ${cmd.command}' is not a command`);
          return;
        }
        for (const arg of cmd.args) {
          const flag = /^(--[a-z][a-z0-9-]*)/.exec(arg)?.[1];
          if (flag !== undefined && !new RegExp(`${flag}(?![a-z0-9-])`).test(text))
            problems.push(`${where}: 'hmx ${cmd.command}' has no ${flag}`);
        }
      });
    }
    assert.ok(checked >= 20, `found ${checked} hmx command lines`);
    assert.deepEqual(problems, []);
  });

  it("the example policies mention only flags hmx has", () => {
    const all = ["guest", "hypervisor", "up", "policy", "viptables"].map(help).join("\n");
    const dir = join(ROOT, "deploy", "policy");
    const problems = readdirSync(dir)
      .filter((f) => f.endsWith(".te"))
      .flatMap((f) =>
        [...readFileSync(join(dir, f), "utf8").matchAll(/--[a-z][a-z0-9-]+/g)].map((m) => ({
          f,
          flag: m[0],
        })),
      )
      .filter(({ flag }) => !all.includes(flag))
      .map(({ f, flag }) => `deploy/policy/${f}: ${flag}`);
    assert.deepEqual(problems, []);
  });
});
