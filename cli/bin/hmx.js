#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The `hmx` command. The TypeScript is compiled by `npm ci` (the root `prepare` script runs
// `tsc -b`); if that has not happened, say so instead of printing a module-resolution trace.
import { existsSync } from "node:fs";

// `--verbose` (any command, cli/src/verbose.ts) must take effect before @grpc/grpc-js loads: it
// reads GRPC_VERBOSITY once. Without it, grpc-js's own stderr lines (such as "E No address
// added out of total 1 resolved" next to hmx's clear "address in use" error) stay quiet.
const dashDash = process.argv.indexOf("--");
const flags = dashDash === -1 ? process.argv : process.argv.slice(0, dashDash);
if (flags.includes("--verbose")) process.env.HMX_VERBOSE = "1";
if (process.env.HMX_VERBOSE !== "1" && !process.env.GRPC_VERBOSITY)
  process.env.GRPC_VERBOSITY = "NONE";

const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("hmx is not built yet: run `npm ci` (or `npm run build`) in the repository first");
  process.exit(1);
}
await import(main.href);
