// SPDX-License-Identifier: Apache-2.0
/**
 * Structured JSON logs (pino) on stdout. Credentials and tokens are redacted wherever they
 * might appear, so a careless `log.info({ request })` still cannot leak one.
 */
import { pino, type Logger } from "pino";

export function createLogger(level: string, name = "hmx-hypervisor"): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        "credential",
        "adminToken",
        "token",
        "*.credential",
        "*.adminToken",
        "*.token",
        "authorization",
      ],
      censor: "[redacted]",
    },
  });
}
