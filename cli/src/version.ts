// SPDX-License-Identifier: Apache-2.0
/** `hmx --version`: the version of this checkout, from the root package.json (one source). */
import { readFileSync } from "node:fs";

export function hmxVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version?: unknown;
  };
  return String(pkg.version);
}
