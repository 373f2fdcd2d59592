// SPDX-License-Identifier: Apache-2.0
/** Public surface of the guest agent package: the hypercall client and its interface. */
export * from "./hypercall/hypercall-client.js";
export {
  SessionClient,
  type SessionClientOptions,
  type SessionLogger,
  type SessionState,
} from "./hypercall/session-client.js";
export { DEFAULT_BACKOFF, type BackoffOptions } from "./hypercall/backoff.js";
