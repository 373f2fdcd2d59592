// SPDX-License-Identifier: Apache-2.0
/**
 * What the fault engine tells the rest of hmx: every fault's start, change and end, as one
 * structured event. Link faults are the first kind; Argo-level and process faults will add
 * their own `kind` with the same shape, so a history stream can record them all alike.
 */

export type FaultKind = "link";

export interface FaultEvent {
  readonly kind: FaultKind;
  readonly action: "start" | "update" | "end";
  /** What the fault acts on: for a link fault, the domain whose link it is. */
  readonly target: string;
  /** The fault's name: a toxic's name, or "down" for a link taken down. */
  readonly fault: string;
  /** The fault as configured (a toxic's type, stream, toxicity and attributes). */
  readonly detail: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch. */
  readonly time: number;
}

export type FaultEventListener = (event: FaultEvent) => void;
