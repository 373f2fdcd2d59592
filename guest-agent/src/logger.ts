// SPDX-License-Identifier: Apache-2.0
/**
 * The guest agent's structured logs: pino JSON lines on stdout (the `hmx up` dashboard parses
 * the "guest ready" and "guest stats" records from them). Credentials and tokens are redacted
 * wherever they might appear, so a careless `log.info({ config })` cannot leak one; payload
 * bytes are never logged at all.
 */
import { pino, type DestinationStream, type Logger } from "pino";

/** Paths pino censors; covers the config object and gRPC metadata too. */
export const REDACT_PATHS = [
  "credential",
  "token",
  "authorization",
  "*.credential",
  "*.token",
  "*.authorization",
  "config.credential",
];

/** A logger writing JSON lines to `destination` (default stdout). */
export function createGuestLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    name: "hmx-guest",
    level,
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}
