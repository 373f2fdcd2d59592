// SPDX-License-Identifier: Apache-2.0
/**
 * The `history` phase of `npm run bench`: runs history-bench.ts in a process of its own (it
 * starts three hypervisor processes and a subscriber process, and its variants must not share
 * this process's heap or event loop) and keeps its Markdown table for the report.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./history-bench.js", import.meta.url));

/** The history bench's tables and subscriber counts; its progress lines go to `log`. */
export async function runHistoryBench(
  options: {
    readonly rounds: number;
    readonly seconds: number;
    /** Profile each hypervisor into this directory (`--cpu-prof`). */
    readonly cpuProfDir?: string | null;
  },
  log: (line: string) => void,
): Promise<string[]> {
  const child = spawn(
    process.execPath,
    [
      SCRIPT,
      "--rounds",
      String(options.rounds),
      "--seconds",
      String(options.seconds),
      ...(options.cpuProfDir == null ? [] : ["--cpu-prof", options.cpuProfDir]),
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    out += chunk;
  });
  const [code] = (await once(child, "exit")) as [number | null];
  const lines = out.split("\n").filter((l) => l.trim() !== "");
  for (const line of lines.filter((l) => l.startsWith("round "))) log(`history: ${line}`);
  if (code !== 0) throw new Error(`history-bench.js exited ${code}: ${out.slice(-500)}`);
  // The tables and the subscribers' counts, a blank line wherever the output had something
  // else between them (two tables joined would read as one).
  const kept: string[] = [];
  let apart = false;
  for (const line of out.split("\n")) {
    const row = line.startsWith("|");
    if (!row && !line.includes("the subscriber received")) {
      apart = true;
      continue;
    }
    if (apart && kept.length > 0) kept.push("");
    kept.push(line);
    apart = !row;
  }
  return kept;
}
