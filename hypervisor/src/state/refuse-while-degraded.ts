// SPDX-License-Identifier: Apache-2.0
/**
 * While the state journal cannot write (a full disk, an I/O error), the RPCs that change state
 * are refused with UNAVAILABLE before they run, as mutating hypercalls are (dispatch/): a change
 * the journal cannot record would be undone by the next restart while its caller believes it
 * was made. UNAVAILABLE is gRPC's "try again later" (`hmx guest`'s enrolment retries it; a
 * toolstack script sees the reason), so the change can be made once the disk has room. A
 * caller that is not authorised goes on to the handler, which refuses it as before: the state
 * of the disk is told only to those allowed to change state.
 */
import * as grpc from "@grpc/grpc-js";

/** The toolstack RPCs that change journaled state (domains, MAC configuration, devices). */
export const STATE_CHANGING_TOOLSTACK_CALLS = [
  "CreateDomain",
  "DestroyDomain",
  "LoadPolicy",
  "SetFlaskMode",
  "AddFirewallRule",
  "DeleteFirewallRule",
  "FlushFirewall",
  "SetFirewallDefault",
  "AttachDevice",
  "DetachDevice",
] as const;

/** The guest RPC that changes journaled state: enrolment creates or resumes a domain. */
export const STATE_CHANGING_GUEST_CALLS = ["Enrol"] as const;

export interface DegradedGuard {
  /** Why the journal cannot write now, or undefined while it can. */
  readonly failure: () => string | undefined;
  /** Whether the call's credentials would let it change state at all. */
  readonly authorised: (metadata: grpc.Metadata) => boolean;
}

/** `handlers` with each unary handler named in `methods` refusing while the journal fails. */
export function refuseWhileDegraded<T extends object>(
  handlers: T,
  methods: readonly string[],
  guard: DegradedGuard,
): T {
  const guarded = { ...handlers } as Record<string, unknown>;
  for (const method of methods) {
    const inner = guarded[method];
    if (typeof inner !== "function") throw new Error(`no handler ${method} to guard`);
    const unary = inner as grpc.handleUnaryCall<unknown, unknown>;
    guarded[method] = ((call, callback) => {
      const failure = guard.failure();
      if (failure !== undefined && guard.authorised(call.metadata)) {
        callback({
          code: grpc.status.UNAVAILABLE,
          details: `${failure}; ${method} changes state and is refused until the journal writes again`,
        });
        return;
      }
      unary(call, callback);
    }) satisfies grpc.handleUnaryCall<unknown, unknown>;
  }
  return guarded as T;
}
