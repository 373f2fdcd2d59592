// SPDX-License-Identifier: Apache-2.0
/** Every hostile-peer attack, for the hostile tests and `npm run bench -- --only hostile`. */
export * from "./attack.js";
export { RawGrpcConnection, grpcFrame, serializeRequest } from "./raw-grpc.js";
export { VictimPair } from "./victim.js";
export { isolatedAttack, type IsolatableTarget } from "./isolated-attack.js";
export { measureAttack, type AttackMeasurement, type MeasureOptions } from "./measure.js";
export { unreadReplies, UNREAD_REPLY_CALLS } from "./unread-replies.js";
export {
  sessionTakeoverBuffers,
  TAKEOVER_SESSIONS,
  TAKEOVER_READS_PER_SESSION,
} from "./session-takeover-buffers.js";
export { giantBatch, GIANT_BATCH_READS } from "./giant-batch.js";
export { stallVictim, STALL_SENDS } from "./stall-victim.js";
export { notifyFlood, NOTIFY_FLOOD_CALLS, NOTIFY_FLOOD_ENTRIES } from "./notify-flood.js";
import type { HostileAttack } from "./attack.js";
import { giantBatch } from "./giant-batch.js";
import { notifyFlood } from "./notify-flood.js";
import { sessionTakeoverBuffers } from "./session-takeover-buffers.js";
import { stallVictim } from "./stall-victim.js";
import { unreadReplies } from "./unread-replies.js";

/** The attacks an authenticated guest can make (each ≤ 256 MiB of peak growth). */
export const GUEST_ATTACKS: readonly HostileAttack[] = [
  unreadReplies,
  sessionTakeoverBuffers,
  giantBatch,
  stallVictim,
  notifyFlood,
];
