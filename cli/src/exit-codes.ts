// SPDX-License-Identifier: Apache-2.0
/** Exit codes of every hmx command (DESIGN.md §3.1), so scripts can branch on them. */
export const ExitCode = {
  /** Done, and (for a question such as `policy check`) the answer is yes. */
  OK: 0,
  /** A runtime failure: unreachable toolstack, a port in use, a bad policy file, a crash. */
  FAILURE: 1,
  /** Bad usage: an unknown flag or subcommand, a malformed value; nothing was done. */
  USAGE: 2,
  /** The command worked and the answer is "denied" (`hmx policy check`). */
  DENIED: 3,
  /**
   * `hmx guest`: the hypervisor no longer knows this guest's domain (it restarted without
   * `--state-dir`, or the domain was destroyed). Restarting the guest with an enrolment token
   * enrols it afresh; with a fixed credential, the toolstack must create the domain again.
   */
  DOMAIN_LOST: 4,
} as const;

/** The table `hmx --help` and docs/cli.md show. */
export const EXIT_CODES_USAGE = `exit codes (every command):
  0  success (for 'policy check': allowed)
  1  runtime failure (unreachable toolstack, port in use, invalid policy file, ...)
  2  bad usage (unknown flag or subcommand, malformed value); nothing was done
  3  'policy check' answered denied
  4  'guest': the hypervisor lost this guest's domain (restarted without --state-dir, or destroyed)`;
