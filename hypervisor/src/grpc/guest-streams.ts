// SPDX-License-Identifier: Apache-2.0
/**
 * Book-keeping of the live guest streams (Session and WatchEvents) per domain: the newest
 * Session of a domain takes over from an older one, a destroyed domain's streams are ended,
 * and shutdown ends them all. A stream registers an `end(code, details)` callback.
 */
import type * as grpc from "@grpc/grpc-js";
import { NOOP_OBSERVER, type Observer } from "../observability/observer.js";

export interface GuestStream {
  readonly kind: "session" | "watch";
  end(code: grpc.status, details: string): void;
}

export class GuestStreams {
  private readonly byDomain = new Map<number, Set<GuestStream>>();

  /** `observer` sees every stream open and close (sessions and the link state in the history). */
  constructor(private readonly observer: Observer = NOOP_OBSERVER) {}

  add(domid: number, stream: GuestStream): void {
    let set = this.byDomain.get(domid);
    if (set === undefined) {
      set = new Set();
      this.byDomain.set(domid, set);
    }
    if (set.has(stream)) return;
    set.add(stream);
    this.observer.stream(domid, stream.kind, true, set.size);
  }

  remove(domid: number, stream: GuestStream): void {
    const set = this.byDomain.get(domid);
    if (!set?.delete(stream)) return;
    if (set.size === 0) this.byDomain.delete(domid);
    this.observer.stream(domid, stream.kind, false, set.size);
  }

  /** The domain's Session streams other than `keep`. */
  otherSessions(domid: number, keep: GuestStream): GuestStream[] {
    return [...(this.byDomain.get(domid) ?? [])].filter((s) => s.kind === "session" && s !== keep);
  }

  /** How many streams of this kind the domain holds open. */
  count(domid: number, kind: GuestStream["kind"]): number {
    let n = 0;
    for (const s of this.byDomain.get(domid) ?? []) if (s.kind === kind) n++;
    return n;
  }

  isConnected(domid: number): boolean {
    return this.byDomain.has(domid);
  }

  /** Ends every stream of one domain (destroyed) or of all domains (shutdown). */
  endAll(code: grpc.status, details: string, domid?: number): void {
    const sets =
      domid === undefined ? [...this.byDomain.values()] : [this.byDomain.get(domid) ?? new Set()];
    for (const set of sets) for (const stream of [...set]) stream.end(code, details);
  }
}
