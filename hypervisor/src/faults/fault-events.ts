// SPDX-License-Identifier: Apache-2.0
/**
 * What the fault engine tells the rest of hmx: every fault's start, change and end, as one
 * structured event. Link faults and Argo-level faults share the shape (process faults will add
 * their own `kind`), so a history stream records them all alike.
 */
import type { Logger } from "pino";

export type FaultKind = "link" | "argo";

export interface FaultEvent {
  readonly kind: FaultKind;
  readonly action: "start" | "update" | "end";
  /** What the fault acts on: for a link fault, the domain whose link it is; for an Argo fault, its domains. */
  readonly target: string;
  /** The fault's name: a toxic's name or "down" for a link; an Argo fault's id. */
  readonly fault: string;
  /** The fault as configured (a toxic's type, stream, toxicity and attributes; an Argo fault's spec). */
  readonly detail: Readonly<Record<string, unknown>>;
  /** Milliseconds since the epoch. */
  readonly time: number;
}

export type FaultEventListener = (event: FaultEvent) => void;

/** One engine's event fan-out: each event is logged, then handed to every listener. */
export class FaultEvents {
  private readonly listeners: FaultEventListener[] = [];

  constructor(
    private readonly kind: FaultKind,
    private readonly log: Logger,
  ) {}

  /** Subscribes; returns the unsubscribe function. */
  on(listener: FaultEventListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  emit(
    action: FaultEvent["action"],
    target: string,
    fault: string,
    detail: Record<string, unknown>,
  ): void {
    const event: FaultEvent = { kind: this.kind, action, target, fault, detail, time: Date.now() };
    this.log.info({ fault: event }, `fault ${action}`);
    for (const listener of [...this.listeners]) listener(event);
  }
}
