// SPDX-License-Identifier: Apache-2.0
/**
 * What a hostile-peer attack is, for the hostile tests and the bench alike: something launched
 * against a running hypervisor that reports when the work it asked for is over, and can be
 * stopped (its connections closed). `kind` says which memory target applies: an attack by an
 * authenticated guest ("guest", ≤ 256 MiB of peak growth) or by a peer with no credential
 * ("pre-auth", ≤ 64 MiB).
 */
import type { ToolstackClient } from "@hmx/client";

export interface AttackTarget {
  /** The hypervisor's guest-facing address, host:port. */
  readonly listen: string;
  readonly toolstack: ToolstackClient;
}

export interface AttackRun {
  /**
   * Settles when the attacker's own work is over: its batch fully answered, or everything it
   * meant to send sent (an attacker that never reads has nothing more to wait for).
   */
  readonly finished: Promise<void>;
  /** Counters for assertions and the bench's rows (e.g. calls refused). */
  readonly facts: () => Readonly<Record<string, number>>;
  /** Closes the attacker's connections; what it pinned must then be freed. */
  stop(): Promise<void>;
}

export interface HostileAttack {
  /** File-style name, e.g. "unread-replies". */
  readonly name: string;
  readonly kind: "guest" | "pre-auth";
  launch(target: AttackTarget, seed: number): Promise<AttackRun>;
}

/** The fault engine's seeded generator (mulberry32): an attack's choices replay from its seed. */
export { seededRandom } from "@hmx/hypervisor";

/** A fresh domain for the attacker, named after the attack and the seed. */
export function attackerDomain(
  target: AttackTarget,
  name: string,
  memoryBytes = 32 * 1024 * 1024,
): Promise<{ domid: number; credential: string }> {
  return target.toolstack.createDomain({
    name,
    label: `${name.replace(/-/g, "_")}_t`,
    memoryBytes,
  });
}
