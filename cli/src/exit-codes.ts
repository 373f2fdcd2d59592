// SPDX-License-Identifier: Apache-2.0
/** Exit codes of every hmx command (DESIGN.md §3.1). */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
} as const;
