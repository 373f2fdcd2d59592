// SPDX-License-Identifier: Apache-2.0
/**
 * What a guest asks of the platform besides hypercalls (DESIGN.md §3.2): enrolment — trading a
 * template's enrolment token for a domain and its credential — and the list of peers it may
 * see. Both are plain unary calls on the guest-facing service; this is the only guest file
 * besides the hypercall codec that touches generated proto types.
 */
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
}

/** How long one enrolment attempt waits for the hypervisor's socket before retrying. */
const ENROL_WAIT_MS = 10_000;

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
    try {
      return await enrolOnce(address, token, instance, options.instanceSecret ?? "", deadline);
    } catch (err) {
      const delayMs = backoff.next();
      const code = (err as { code?: number }).code;
      const retry =
        (code === grpc.status.UNAVAILABLE || code === grpc.status.DEADLINE_EXCEEDED) &&
        delayMs !== undefined &&
        Date.now() + delayMs < deadline;
      if (!retry) throw err;
      options.log?.warn({ err, attempt: backoff.attempt, delayMs }, "enrolment retrying");
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}

function enrolOnce(
  address: string,
  token: string,
  instance: string,
  instanceSecret: string,
  deadline: number,
): Promise<Enrolment> {
  const c = client(address);
  // Each wait is bounded and enrol() retries until the overall deadline: an endless wait
  // (deadline Infinity, the guest's default) arms no timer, and grpc-js's reconnect timers do
  // not hold the event loop, so the process used to exit 13 at once, silently, with the wait
  // still pending.
  const waitDeadline = Math.min(deadline, Date.now() + ENROL_WAIT_MS);
  return new Promise<Enrolment>((resolve, reject) => {
    c.waitForReady(waitDeadline, (readyErr) => {
      if (readyErr !== undefined) {
        c.close();
        const err = new Error(
          `cannot reach the hypervisor at ${address} to enrol: ${readyErr.message}`,
          { cause: readyErr },
        );
        // Retryable, like a call that found the hypervisor unavailable.
        reject(Object.assign(err, { code: grpc.status.UNAVAILABLE }));
        return;
      }
      // The call itself is bounded even when the wait is not: a hung reply is retried.
      const callDeadline = Math.min(deadline, Date.now() + 30_000);
      const metadata = bearerMetadata(token);
      c.enrol({ instance, instanceSecret }, metadata, { deadline: callDeadline }, (err, res) => {
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
      });
    });
  });
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
