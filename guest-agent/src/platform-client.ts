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

/**
 * Enrols as `instance` with an enrolment token (waits up to `timeoutMs` for the hypervisor);
 * `instanceSecret`, from the first enrolment, resumes the instance if its domain is live.
 */
export function enrol(
  address: string,
  token: string,
  instance: string,
  instanceSecret = "",
  timeoutMs = 30_000,
): Promise<Enrolment> {
  const c = client(address);
  const deadline = Date.now() + timeoutMs;
  return new Promise<Enrolment>((resolve, reject) => {
    // The hypervisor may still be starting (containers come up together): wait for it.
    c.waitForReady(deadline, (readyErr) => {
      if (readyErr !== undefined) {
        c.close();
        reject(
          new Error(`cannot reach the hypervisor at ${address} to enrol: ${readyErr.message}`, {
            cause: readyErr,
          }),
        );
        return;
      }
      c.enrol({ instance, instanceSecret }, bearerMetadata(token), { deadline }, (err, res) => {
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
