// SPDX-License-Identifier: Apache-2.0
/**
 * One front for every fault engine, as the toolstack API and `hmx chaos` use it: apply a fault
 * (Argo-level, or on one domain's link), list them, clear some or all, watch their events. Each
 * fault has an id that `clear` takes: "argo-N", "link:DOMAIN/down", "link:DOMAIN/TOXIC". A link
 * fault may also end by itself after a duration, as an Argo fault can. A refused request throws
 * FaultRequestError (with Toxiproxy's HTTP status: 400, 404, 409) and changes nothing.
 */
import type { ArgoFaultSpec } from "./argo-fault-spec.js";
import type { ArgoFaults } from "./argo-faults.js";
import type { FaultEvent, FaultEventListener } from "./fault-events.js";
import type { LinkFaults } from "./link-faults.js";
import { FaultRequestError, MAX_ATTRIBUTE, type ToxicSpec } from "./toxic-spec.js";

/** A link fault: the link down, or one toxic on it. */
export interface LinkFaultSpec {
  readonly domain: string;
  readonly down: boolean;
  /** The toxic in Toxiproxy's JSON form (unchecked here; LinkFaults checks it). */
  readonly toxic?: unknown;
}

export type FaultRequest =
  | { readonly argo: Readonly<Record<string, unknown>>; readonly durationMs?: number }
  | { readonly link: LinkFaultSpec; readonly durationMs?: number };

/** A fault in force. */
export type FaultRecord =
  | { readonly id: string; readonly argo: ArgoFaultSpec; readonly durationMs: number }
  | {
      readonly id: string;
      readonly link: {
        readonly domain: string;
        readonly down: boolean;
        readonly toxic?: ToxicSpec;
      };
      readonly durationMs: number;
    };

/** A fault event with the id `clear` takes. */
export interface FaultControlEvent extends FaultEvent {
  readonly id: string;
}

function linkId(domain: string, fault: string): string {
  return `link:${domain}/${fault}`;
}

export class FaultControl {
  /** Timers of link faults given a duration, by id (an Argo fault times itself). */
  private readonly linkTimers = new Map<string, { timer: NodeJS.Timeout; durationMs: number }>();

  constructor(
    private readonly argo: ArgoFaults,
    private readonly link: LinkFaults | undefined,
  ) {
    // A link fault that ended some other way (the Toxiproxy API, its domain destroyed) keeps no timer.
    link?.onFaultEvent((e) => {
      if (e.action !== "end") return;
      const id = linkId(e.target, e.fault);
      clearTimeout(this.linkTimers.get(id)?.timer);
      this.linkTimers.delete(id);
    });
  }

  apply(request: FaultRequest): FaultRecord {
    const durationMs = request.durationMs ?? 0;
    if (!Number.isInteger(durationMs) || durationMs < 0 || durationMs > MAX_ATTRIBUTE) {
      throw new FaultRequestError(
        `bad fault: durationMs ${JSON.stringify(durationMs)}: expected an integer in 0..${MAX_ATTRIBUTE} ms`,
        400,
      );
    }
    if ("argo" in request) {
      const view = this.argo.apply({ ...request.argo, durationMs });
      return { id: view.id, argo: view.spec, durationMs };
    }
    const links = this.links();
    const { domain, down, toxic } = request.link;
    if (down === (toxic !== undefined)) {
      throw new FaultRequestError(
        `bad fault: a link fault on ${JSON.stringify(domain)} is either down or a toxic, not ${down ? "both" : "neither"}`,
        400,
      );
    }
    let id: string;
    let record: FaultRecord;
    if (down) {
      if (!links.view(domain).enabled) {
        throw new FaultRequestError(`the link of ${JSON.stringify(domain)} is already down`, 409);
      }
      links.setEnabled(domain, false);
      id = linkId(domain, "down");
      record = { id, link: { domain, down: true }, durationMs };
    } else {
      const spec = links.addToxic(domain, toxic);
      id = linkId(domain, spec.name);
      record = { id, link: { domain, down: false, toxic: spec }, durationMs };
    }
    if (durationMs > 0) {
      const timer = setTimeout(() => {
        this.clear([id]);
      }, durationMs);
      timer.unref();
      this.linkTimers.set(id, { timer, durationMs });
    }
    return record;
  }

  /** Every fault in force: Argo-level first, then each link's (down first, then its toxics). */
  list(): FaultRecord[] {
    const records: FaultRecord[] = this.argo
      .list()
      .map((f) => ({ id: f.id, argo: f.spec, durationMs: f.spec.durationMs }));
    for (const view of this.link?.list() ?? []) {
      const domain = view.name;
      if (!view.enabled)
        records.push(this.linkRecord(linkId(domain, "down"), { domain, down: true }));
      for (const toxic of view.toxics)
        records.push(this.linkRecord(linkId(domain, toxic.name), { domain, down: false, toxic }));
    }
    return records;
  }

  /** Ends the faults named (every fault if none is); an unknown id clears nothing. */
  clear(ids: readonly string[]): string[] {
    const all = this.list().map((r) => r.id);
    const chosen = ids.length === 0 ? all : [...new Set(ids)];
    const unknown = chosen.find((id) => !all.includes(id));
    if (unknown !== undefined) {
      throw new FaultRequestError(
        `no fault with id ${JSON.stringify(unknown)} (in force: ${all.join(", ") || "none"})`,
        404,
      );
    }
    for (const id of chosen) {
      const link = /^link:([^/]*)\/(.*)$/.exec(id);
      if (link === null) this.argo.clear(id);
      else if (link[2] === "down") this.links().setEnabled(link[1] ?? "", true);
      else this.links().removeToxic(link[1] ?? "", link[2] ?? "");
    }
    return chosen;
  }

  /** Subscribes to every engine's events; returns the unsubscribe function. */
  onFaultEvent(listener: (event: FaultControlEvent) => void): () => void {
    const forArgo: FaultEventListener = (e) => {
      listener({ ...e, id: e.fault });
    };
    const forLink: FaultEventListener = (e) => {
      listener({ ...e, id: linkId(e.target, e.fault) });
    };
    const offs = [this.argo.onFaultEvent(forArgo), this.link?.onFaultEvent(forLink)];
    return () => {
      for (const off of offs) off?.();
    };
  }

  private linkRecord(
    id: string,
    link: { domain: string; down: boolean; toxic?: ToxicSpec },
  ): FaultRecord {
    return { id, link, durationMs: this.linkTimers.get(id)?.durationMs ?? 0 };
  }

  private links(): LinkFaults {
    if (this.link === undefined) {
      throw new FaultRequestError(
        "link faults are off: start the hypervisor with --link-faults or --toxiproxy-listen",
        412,
      );
    }
    return this.link;
  }
}
