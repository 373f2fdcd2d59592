// SPDX-License-Identifier: Apache-2.0
/**
 * What a guest asks of the platform besides hypercalls (DESIGN.md §3.2): enrolment — trading a
 * template's enrolment token for a domain and its credential — and the list of peers it may
 * see. Both are plain unary calls on the guest-facing service; this is the only guest file
 * besides the hypercall codec that touches generated proto types.
 */
import { setTimeout as sleep } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import { GRPC_MESSAGE_LIMITS, bearerMetadata, loadHypervisorProto } from "@hmx/proto";
import type { HypervisorClient } from "@hmx/proto/gen/hmx/argo/v1/Hypervisor.js";
import { Backoff, type BackoffOptions } from "./hypercall/backoff.js";
import type { FleetPeer } from "./workloads/fleet.js";

export interface Enrolment {
  readonly domid: number;
  readonly credential: string;
  readonly resumed: boolean;
  readonly template: string;
  /** A first enrolment's instance secret, needed to resume the instance later; "" on resume. */
  readonly instanceSecret: string;
}

function client(address: string): HypervisorClient {
  const Hypervisor = loadHypervisorProto().hmx.argo.v1.Hypervisor;
  return new Hypervisor(address, grpc.credentials.createInsecure(), GRPC_MESSAGE_LIMITS);
}

/** Options of `enrol`. */
export interface EnrolOptions {
  /** From the first enrolment: resumes the instance if its domain is live ("" or absent: none). */
  readonly instanceSecret?: string | undefined;
  /** How long the hypervisor may stay unreachable (default 30 000 ms; `Infinity`: forever). */
  readonly timeoutMs?: number;
  /** Where a retry is reported. */
  readonly log?: { warn(obj: object, msg: string): void };
  /** The retry delays (default: the Session's, 50 ms doubling to 2 s). */
  readonly backoff?: BackoffOptions;
  /** Gives up waiting (SIGTERM while the hypervisor is still down): rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

/**
 * Enrols as `instance` with an enrolment token. The hypervisor may be starting, or restarting
 * (containers come up together, restart policies bring it back): an unreachable hypervisor, or
 * one that goes away or hangs mid-call (UNAVAILABLE, DEADLINE_EXCEEDED), is retried with the
 * backoff until `timeoutMs`; any other refusal (a wrong token, a full template) rejects at once.
 */
export async function enrol(
  address: string,
  token: string,
  instance: string,
  options: EnrolOptions = {},
): Promise<Enrolment> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  const backoff = new Backoff(options.backoff);
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      return await enrolOnce(
        address,
        token,
        instance,
        options.instanceSecret ?? "",
        deadline,
        options.signal,
      );
    } catch (err) {
      options.signal?.throwIfAborted();
      const delayMs = backoff.next();
      const code = (err as { code?: number }).code;
      const retry =
        (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED) &&
        delayMs !== undefined &&
        Date.now() + delayMs < deadline;
      if (!retry) throw err;
      options.log?.warn({ err, attempt: backoff.attempt, delayMs }, "enrolment retrying");
      await sleep(delayMs, undefined, { signal: options.signal });
    }
  }
}

/**
 * How long one attempt waits for the hypervisor to accept the connection before the backoff
 * retries it, and how long the Enrol call may then take. Short waits, because grpc-js keeps a
 * wait's deadline timer armed even after the channel is closed: a guest stopped (SIGTERM) while
 * its hypervisor is down would otherwise linger until the timer fires.
 */
const ENROL_CONNECT_WAIT_MS = 2_000;
const ENROL_CALL_MS = 30_000;

function enrolOnce(
  address: string,
  token: string,
  instance: string,
  instanceSecret: string,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<Enrolment> {
  const c = client(address);
  // Each attempt is bounded even when the whole wait is not (`deadline` may be Infinity): grpc-js
  // arms no timer for an infinite deadline, and with none armed a guest whose hypervisor was not
  // up yet had nothing keeping its event loop alive and exited 13 without a word.
  const waitDeadline = Math.min(deadline, Date.now() + ENROL_CONNECT_WAIT_MS);
  let call: grpc.ClientUnaryCall | undefined;
  let onAbort: (() => void) | undefined;
  return new Promise<Enrolment>((resolve, reject) => {
    onAbort = (): void => {
      call?.cancel();
      c.close();
      reject(abortReason(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    c.waitForReady(waitDeadline, (readyErr) => {
      if (readyErr !== undefined) {
        c.close();
        reject(
          Object.assign(
            new Error(`cannot reach the hypervisor at ${address} to enrol: ${readyErr.message}`, {
              cause: readyErr,
            }),
            { code: grpc.status.UNAVAILABLE },
          ),
        );
        return;
      }
      // The call itself is bounded too: a hung reply is retried.
      const callDeadline = Math.min(deadline, Date.now() + ENROL_CALL_MS);
      const metadata = bearerMetadata(token);
      call = c.enrol(
        { instance, instanceSecret },
        metadata,
        { deadline: callDeadline },
        (err, res) => {
          c.close();
          if (err !== null || res === undefined) reject(err ?? new Error("empty Enrol reply"));
          else
            resolve({
              domid: res.domid,
              credential: res.credential,
              resumed: res.resumed,
              template: res.template,
              instanceSecret: res.instanceSecret,
            });
        },
      );
    });
  }).finally(() => {
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason : new Error("enrolment aborted", { cause: reason });
}

/** A ListPeers caller for one domain, reusing one channel. */
export class PeerDirectory {
  readonly #client: HypervisorClient;
  readonly #metadata: grpc.Metadata;

  constructor(address: string, credential: string) {
    this.#client = client(address);
    this.#metadata = bearerMetadata(credential);
  }

  list(): Promise<FleetPeer[]> {
    return new Promise((resolve, reject) => {
      this.#client.listPeers({}, this.#metadata, { deadline: Date.now() + 10_000 }, (err, res) => {
        if (err !== null || res === undefined) reject(err ?? new Error("empty ListPeers reply"));
        else resolve(res.peers.map((p) => ({ domid: p.domid, name: p.name, label: p.label })));
      });
    });
  }

  close(): void {
    this.#client.close();
  }
}

/** Whether a gRPC error means the credential is no longer valid (e.g. domain destroyed). */
export function isUnauthenticated(err: unknown): boolean {
  return (err as { code?: number } | null)?.code === grpc.status.UNAUTHENTICATED;
}
