#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The `hmx` command. The TypeScript is compiled by `npm ci` (the root `prepare` script runs
// `tsc -b`); if that has not happened, say so instead of printing a module-resolution trace.
import { existsSync } from "node:fs";

const main = new URL("../dist/main.js", import.meta.url);
if (!existsSync(main)) {
  console.error("hmx is not built yet: run `npm ci` (or `npm run build`) in the repository first");
  process.exit(1);
}
await import(main.href);
