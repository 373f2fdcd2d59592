// SPDX-License-Identifier: Apache-2.0
/**
 * Typed access to the outcomes of a `HypercallClient.batch`: each helper checks that outcome i is
 * the op that was put at position i and turns a gRPC status outcome (the call was not executed,
 * or failed without a Xen errno) into a `HypercallStatusError`.
 */
import { status } from "@grpc/grpc-js";
import {
  HypercallStatusError,
  type HypercallOutcome,
  type NotifyResultEntry,
} from "../hypercall/hypercall-client.js";

/** gRPC ABORTED, as the plain number an outcome's `code` holds. */
const ABORTED: number = status.ABORTED;

/** True for the status of a call skipped because an earlier one failed under `stopOnError`. */
export function skippedAfterFailure(code: number): boolean {
  return code === ABORTED;
}

type OutcomeOf<K extends HypercallOutcome["op"]> = Extract<HypercallOutcome, { op: K }>;

/** Outcome `i` as op `op`; throws if it is a status or a different op. */
export function outcomeAs<K extends Exclude<HypercallOutcome["op"], "status">>(
  outcomes: readonly HypercallOutcome[],
  i: number,
  op: K,
): OutcomeOf<K> {
  const o = outcomes[i];
  if (o === undefined) throw new Error(`batch returned ${outcomes.length} outcomes, wanted #${i}`);
  if (o.op === "status") throw new HypercallStatusError(o.code, o.message);
  if (o.op !== op) throw new Error(`batch outcome #${i} is ${o.op}, expected ${op}`);
  return o as OutcomeOf<K>;
}

/** The `ret` of outcome `i`, which must be op `op`. */
export function retOf(
  outcomes: readonly HypercallOutcome[],
  i: number,
  op: Exclude<HypercallOutcome["op"], "status" | "getDomainInfo">,
): number {
  return outcomeAs(outcomes, i, op).ret;
}

/** The read data of outcome `i` (a readMemory); throws on a negative ret. */
export function readDataOf(outcomes: readonly HypercallOutcome[], i: number): Buffer {
  const o = outcomeAs(outcomes, i, "readMemory");
  if (o.ret < 0) throw new Error(`readMemory #${i} of own memory failed with ${o.ret}`);
  return o.data;
}

export type { NotifyResultEntry };
