// SPDX-License-Identifier: Apache-2.0
/**
 * The guest agent's own state, kept in the guest's memory at gfns 1..15 — the platform-reserved
 * pages DESIGN.md §3.2 sets aside "so that a restarted agent can recover from its memory". A
 * guest's memory outlives its agent process (the domain lives on in the hypervisor), so an agent
 * that restarts reads back which rings it had registered where, and what its workload wants to
 * remember, and carries on: the rings' contents and rx_ptr are still in those pages.
 *
 * Layout at gpa 0x1000: magic "HMXA" (u32 LE 0x41584d48), version u32 (1), byte length u32,
 * a 32-bit FNV-1a checksum of the body, then the body as UTF-8 JSON. A missing, foreign or
 * damaged record reads as "no state": the agent then starts afresh.
 *
 * When it is written (crash consistency, docs/state-guests.md): the ring list rides in the
 * same multicall as the registerRing or unregisterRing that changes it (`agentStateOp`), never
 * only at shutdown, so an agent SIGKILLed at any instant finds every ring it had registered.
 * A WriteMemory is applied whole, so the record is never torn.
 *
 * The reserved pages are shared out: gfns 1..7 this record, gfns 8..15 the workloads' own
 * binary progress records (workloads/checker-state.ts), written with the calls they describe.
 */
import { PAGE_SIZE } from "@hmx/proto/abi";
import type { HypercallClient, HypercallOp } from "../hypercall/hypercall-client.js";
import { SEALED_HEADER_BYTES, sealRecord, unsealRecord } from "./sealed-record.js";

/** Where the record starts: gfn 1 (gfn 0 is the platform's device table). */
export const AGENT_STATE_GPA = PAGE_SIZE;
/** Bytes available: gfns 1..7 (128 ring records take about 8 KiB of JSON). */
export const AGENT_STATE_MAX_BYTES = 7 * PAGE_SIZE;
/** Where the workloads' progress records start: gfn 8 (checker-state.ts). */
export const WORKLOAD_STATE_GPA = 8 * PAGE_SIZE;
/** Bytes available to them: gfns 8..15. */
export const WORKLOAD_STATE_MAX_BYTES = 8 * PAGE_SIZE;
const MAGIC = 0x41584d48;
const VERSION = 1;

/** A ring this agent registered: enough to re-register it on the same pages. */
export interface RingRecord {
  readonly aport: number;
  readonly partnerId: number;
  readonly len: number;
  /** First gfn of the ring's contiguous pages. */
  readonly gfn: number;
}

export interface AgentState {
  readonly rings: readonly RingRecord[];
  /** Whatever the workload wants back after a restart (JSON). */
  readonly app?: unknown;
}

function isRingRecord(v: unknown): v is RingRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  return ["aport", "partnerId", "len", "gfn"].every((k) => Number.isSafeInteger(r[k]));
}

/** Encodes a state record; throws RangeError if it does not fit in gfns 1..7. */
export function encodeAgentState(state: AgentState): Buffer {
  const body = Buffer.from(JSON.stringify(state), "utf8");
  if (SEALED_HEADER_BYTES + body.length > AGENT_STATE_MAX_BYTES) {
    throw new RangeError(
      `agent state of ${body.length} bytes does not fit in ${AGENT_STATE_MAX_BYTES - SEALED_HEADER_BYTES}`,
    );
  }
  return sealRecord(MAGIC, VERSION, body);
}

/** Decodes a state record, or undefined when there is none or it is damaged. */
export function decodeAgentState(bytes: Buffer): AgentState | undefined {
  const body = unsealRecord(MAGIC, VERSION, bytes);
  if (body === undefined) return undefined;
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { rings?: unknown; app?: unknown };
    if (!Array.isArray(parsed.rings) || !parsed.rings.every(isRingRecord)) return undefined;
    return { rings: parsed.rings, app: parsed.app };
  } catch {
    return undefined;
  }
}

/** Reads the agent state from this guest's memory (undefined: none, or unreadable). */
export async function readAgentState(client: HypercallClient): Promise<AgentState | undefined> {
  const { ret, data } = await client.readMemory(AGENT_STATE_GPA, AGENT_STATE_MAX_BYTES);
  return ret === 0 ? decodeAgentState(data) : undefined;
}

/** The call that stores `state`, for the multicall of the hypercall that changed it. */
export function agentStateOp(state: AgentState): HypercallOp {
  return { op: "writeMemory", gpa: AGENT_STATE_GPA, data: encodeAgentState(state) };
}

/** Writes the agent state into this guest's memory; resolves with WriteMemory's ret. */
export function writeAgentState(client: HypercallClient, state: AgentState): Promise<number> {
  return client.writeMemory(AGENT_STATE_GPA, encodeAgentState(state));
}
