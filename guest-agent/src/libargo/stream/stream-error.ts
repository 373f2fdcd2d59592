// SPDX-License-Identifier: Apache-2.0
/**
 * The error a stream connection fails with. `code` is the POSIX name a Linux stream socket would
 * give (ECONNREFUSED, ECONNRESET, EACCES, ETIMEDOUT, EPIPE, EPROTO, ...); the message names the
 * peer's domain and port, because "connection refused" alone does not say which of a tunnel's
 * peers refused. Hypercall errors from the datagram layer become a cause.
 */
import type { ArgoAddr } from "../../hypercall/hypercall-client.js";
import { addrString, ArgoSocketError } from "../errors.js";

export type StreamErrorCode =
  | "ECONNREFUSED"
  | "ECONNRESET"
  | "EACCES"
  | "ESRCH"
  | "ETIMEDOUT"
  | "EPIPE"
  | "EPROTO"
  | "ESHUTDOWN"
  | "EIO";

export class StreamError extends Error {
  override readonly name = "StreamError";
  constructor(
    readonly code: StreamErrorCode,
    message: string,
    readonly peer: ArgoAddr,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Turns a failed send to `peer` into the connection's error. MAC and the firewall refuse a
 * sendv with -EACCES or -EPERM: that is a policy decision, said as such; no ring at the
 * destination is a refused connection (nothing listens there, or only for another partner).
 */
export function sendFailure(
  err: unknown,
  local: ArgoAddr,
  peer: ArgoAddr,
  during: string,
): StreamError {
  const to = addrString(peer);
  const code = err instanceof ArgoSocketError ? err.code : undefined;
  // Only the codes that change what the connection error says; the rest are EIO.
  // eslint-disable-next-line @typescript-eslint/switch-exhaustiveness-check
  switch (code) {
    case "EACCES":
    case "EPERM":
      return new StreamError(
        "EACCES",
        `${during} to ${to} denied by MAC policy or firewall for vm${local.domainId} (${code})`,
        peer,
        { cause: err },
      );
    case "ECONNREFUSED":
      return new StreamError(
        "ECONNREFUSED",
        `${during} to ${to} refused: no Argo stream listener there for vm${local.domainId}`,
        peer,
        { cause: err },
      );
    case "ESRCH":
      return new StreamError("ESRCH", `${during} to ${to}: no domain ${peer.domainId}`, peer, {
        cause: err,
      });
    case "ESHUTDOWN":
      return new StreamError("ESHUTDOWN", `${during} to ${to}: local socket closed`, peer, {
        cause: err,
      });
    default:
      return new StreamError(
        "EIO",
        `${during} to ${to} failed: ${err instanceof Error ? err.message : String(err)}`,
        peer,
        { cause: err },
      );
  }
}
