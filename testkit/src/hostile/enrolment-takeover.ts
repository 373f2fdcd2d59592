// SPDX-License-Identifier: Apache-2.0
/**
 * The enrolment takeover (issue 9, finding 4): every guest of a template holds the same
 * enrolment token, so a hostile fleet guest re-enrols under a live peer's instance name to get a
 * credential for the peer's domain. It tries with no instance secret and with a guessed one; a
 * sound service refuses both and leaves the peer's credential working.
 */
import * as grpc from "@grpc/grpc-js";
import { GRPC_MESSAGE_LIMITS, bearerMetadata, loadHypervisorProto } from "@hmx/proto";
import type { EnrolResponse__Output } from "@hmx/proto/gen/hmx/argo/v1/EnrolResponse.js";

export interface EnrolmentTakeoverOptions {
  /** Guest listener, "host:port". */
  readonly address: string;
  /** The template's enrolment token, which the attacker holds like every guest of it. */
  readonly token: string;
  /** The live peer's instance name. */
  readonly victimInstance: string;
  /** Picks the guessed instance secret. */
  readonly seed: number;
}

/** One takeover attempt: refused with a status, or the credential it obtained. */
export type TakeoverOutcome =
  | { readonly refused: grpc.status; readonly details: string }
  | { readonly stolen: EnrolResponse__Output };

/** Enrols as the victim's instance, first with no secret, then with a guessed one. */
export async function attemptEnrolmentTakeover(
  options: EnrolmentTakeoverOptions,
): Promise<TakeoverOutcome[]> {
  const Hypervisor = loadHypervisorProto().hmx.argo.v1.Hypervisor;
  const client = new Hypervisor(
    options.address,
    grpc.credentials.createInsecure(),
    GRPC_MESSAGE_LIMITS,
  );
  const guess = Buffer.alloc(32, options.seed & 0xff).toString("base64url");
  try {
    const outcomes: TakeoverOutcome[] = [];
    for (const instanceSecret of ["", guess]) {
      outcomes.push(
        await new Promise<TakeoverOutcome>((resolve) => {
          client.enrol(
            { instance: options.victimInstance, instanceSecret },
            bearerMetadata(options.token),
            { deadline: Date.now() + 10_000 },
            (err, res) => {
              if (err !== null || res === undefined)
                resolve({ refused: err?.code ?? grpc.status.UNKNOWN, details: err?.details ?? "" });
              else resolve({ stolen: res });
            },
          );
        }),
      );
    }
    return outcomes;
  } finally {
    client.close();
  }
}
