// SPDX-License-Identifier: Apache-2.0
/**
 * The link-fault engine: one link per guest domain (named after the domain), each up or down
 * and carrying toxics, applied to every relayed connection that domain's guest holds. A new
 * connection is anonymous until a call on it authenticates; it then joins its domain's link
 * (and is cut at once if that link is down). Toxicity is drawn per connection from the seeded
 * generator, and every fault's start, change and end is a `FaultEvent`.
 */
import type * as grpc from "@grpc/grpc-js";
import type { Logger } from "pino";
import type { DomainRegistry } from "../domain/domain-registry.js";
import { bearerToken } from "../grpc/auth.js";
import { FaultEvents, type FaultEventListener } from "./fault-events.js";
import { LinkRelay, type InjectConnection, type RelayedConnection } from "./link-relay.js";
import { seededRandom } from "./seeded-random.js";
import {
  FaultRequestError,
  parseToxicSpec,
  toxicJson,
  updateToxicSpec,
  type ToxicSpec,
} from "./toxic-spec.js";
import { createStage } from "./toxic-stages.js";

/** What every kind of gRPC server call offers: the peer it came from and its metadata. */
type CallOnLink = Pick<grpc.ServerUnaryCall<unknown, unknown>, "getPeer" | "metadata">;

interface LinkState {
  enabled: boolean;
  readonly toxics: Map<string, ToxicSpec>;
  readonly connections: Set<RelayedConnection>;
}

/** A link as the Toxiproxy API shows it (a proxy). */
export interface LinkView {
  readonly name: string;
  readonly listen: string;
  readonly upstream: string;
  readonly enabled: boolean;
  readonly toxics: readonly ToxicSpec[];
}

export interface LinkFaultsOptions {
  readonly registry: DomainRegistry;
  /** Seed of every chance draw (toxicity, jitter, slice sizes). */
  readonly seed: number;
  readonly log: Logger;
  readonly now?: () => number;
}

export class LinkFaults {
  private readonly links = new Map<string, LinkState>();
  private readonly events: FaultEvents;
  private readonly random: () => number;
  private readonly now: () => number;
  private relay: LinkRelay | undefined;
  /** The guest listener's public address, and the private hop it relays through. */
  listenAddress = "";
  upstreamAddress = "";

  constructor(private readonly options: LinkFaultsOptions) {
    this.random = seededRandom(options.seed);
    this.events = new FaultEvents("link", options.log);
    this.now = options.now ?? Date.now;
    // A destroyed domain's link goes with it; its faults end.
    options.registry.addHooks({
      destroying: (d) => {
        this.clear(d.name, true);
      },
    });
  }

  get seed(): number {
    return this.options.seed;
  }

  /** Subscribes to fault events; returns the unsubscribe function. */
  onFaultEvent(listener: FaultEventListener): () => void {
    return this.events.on(listener);
  }

  /** Starts relaying `publicAddress` to the gRPC guest server that `inject` hands sockets to. */
  async listen(publicAddress: string, inject: InjectConnection): Promise<string> {
    this.relay = new LinkRelay(inject, this.now);
    this.upstreamAddress = this.relay.upstreamAddress;
    this.listenAddress = await this.relay.listen(publicAddress);
    return this.listenAddress;
  }

  async close(): Promise<void> {
    await this.relay?.close();
  }

  /**
   * Wraps the guest service's handlers so that each call first ties its connection to the
   * calling domain's link (the one hook into the guest service). A call on a link that is
   * down is not served: its connection is cut.
   */
  identifyingHandlers<T extends object>(handlers: T): T {
    const wrapped: Record<string, unknown> = {};
    for (const [name, handler] of Object.entries(handlers)) {
      wrapped[name] =
        typeof handler === "function"
          ? (call: CallOnLink, ...rest: unknown[]) => {
              if (this.admit(call)) (handler as (...args: unknown[]) => void)(call, ...rest);
            }
          : handler;
    }
    return wrapped as T;
  }

  private admit(call: CallOnLink): boolean {
    const connection = this.relay?.connectionOf(call.getPeer());
    if (connection === undefined) return true;
    if (connection.link !== undefined) return !connection.closed;
    const token = bearerToken(call.metadata);
    const domain = token === undefined ? undefined : this.options.registry.authenticate(token);
    // Not a domain's credential (an enrolment, a bad token): the handler answers it.
    if (domain === undefined) return true;
    const link = this.state(domain.name);
    if (!link.enabled) {
      connection.drop();
      return false;
    }
    connection.link = domain.name;
    link.connections.add(connection);
    connection.onClose(() => link.connections.delete(connection));
    for (const spec of link.toxics.values()) this.apply(connection, spec);
    return true;
  }

  /** Starts (or, if the toxicity draw says no, withholds) a toxic on one connection. */
  private apply(connection: RelayedConnection, spec: ToxicSpec): void {
    const pipe = connection.pipe(spec.stream);
    if (!(this.random() < spec.toxicity)) {
      pipe.detach(spec.name);
      return;
    }
    pipe.attach(spec.name, (signal) =>
      createStage(spec, {
        signal,
        control: connection.control(spec.stream),
        random: this.random,
        now: this.now,
      }),
    );
  }

  private state(name: string): LinkState {
    let link = this.links.get(name);
    if (link === undefined) {
      link = { enabled: true, toxics: new Map(), connections: new Set() };
      this.links.set(name, link);
    }
    return link;
  }

  /** The link of a live domain, or Toxiproxy's 404. */
  private existing(name: string): LinkState {
    if (this.options.registry.byName(name) === undefined) {
      throw new FaultRequestError(
        `proxy not found: ${JSON.stringify(name)} is not a live guest domain`,
        404,
      );
    }
    return this.state(name);
  }

  /** Every live domain's link, by name. */
  list(): LinkView[] {
    return this.options.registry.list().map((d) => this.view(d.name));
  }

  /** The relayed connections tied to a link now. */
  connections(name: string): RelayedConnection[] {
    return [...this.existing(name).connections];
  }

  view(name: string): LinkView {
    const link = this.existing(name);
    return {
      name,
      listen: this.listenAddress,
      upstream: this.upstreamAddress,
      enabled: link.enabled,
      toxics: [...link.toxics.values()],
    };
  }

  /** Takes a link down (cutting its connections) or brings it back. */
  setEnabled(name: string, enabled: boolean): void {
    this.switchLink(name, this.existing(name), enabled);
  }

  private switchLink(name: string, link: LinkState, enabled: boolean): void {
    if (link.enabled === enabled) return;
    link.enabled = enabled;
    if (!enabled) for (const connection of link.connections) connection.drop();
    this.events.emit(enabled ? "end" : "start", name, "down", {});
  }

  toxic(name: string, toxicName: string): ToxicSpec {
    const spec = this.existing(name).toxics.get(toxicName);
    if (spec === undefined) {
      throw new FaultRequestError(
        `toxic not found: ${JSON.stringify(toxicName)} on proxy ${JSON.stringify(name)}`,
        404,
      );
    }
    return spec;
  }

  addToxic(name: string, body: unknown): ToxicSpec {
    const link = this.existing(name);
    const spec = parseToxicSpec(body);
    if (link.toxics.has(spec.name)) {
      throw new FaultRequestError(
        `toxic already exists: ${JSON.stringify(spec.name)} on proxy ${JSON.stringify(name)}`,
        409,
      );
    }
    link.toxics.set(spec.name, spec);
    for (const connection of link.connections) this.apply(connection, spec);
    this.events.emit("start", name, spec.name, toxicJson(spec));
    return spec;
  }

  updateToxic(name: string, toxicName: string, body: unknown): ToxicSpec {
    const spec = updateToxicSpec(this.toxic(name, toxicName), body);
    const link = this.existing(name);
    link.toxics.set(spec.name, spec);
    for (const connection of link.connections) this.apply(connection, spec);
    this.events.emit("update", name, spec.name, toxicJson(spec));
    return spec;
  }

  removeToxic(name: string, toxicName: string): void {
    this.endToxic(name, this.existing(name), this.toxic(name, toxicName));
  }

  private endToxic(name: string, link: LinkState, spec: ToxicSpec): void {
    link.toxics.delete(spec.name);
    for (const connection of link.connections) connection.pipe(spec.stream).detach(spec.name);
    this.events.emit("end", name, spec.name, toxicJson(spec));
  }

  /** Ends every fault on one link (toxics removed, link up); `gone` when its domain is. */
  clear(name: string, gone = false): void {
    const link = gone ? this.links.get(name) : this.existing(name);
    if (link === undefined) return;
    for (const spec of [...link.toxics.values()]) this.endToxic(name, link, spec);
    this.switchLink(name, link, true);
    if (gone) this.links.delete(name);
  }

  /** Toxiproxy's reset: every link up, every toxic removed. */
  reset(): void {
    for (const d of this.options.registry.list()) this.clear(d.name);
  }
}

/** The guest service's handlers, tied to the link-fault engine when there is one. */
export function identifyLinks<T extends object>(faults: LinkFaults | undefined, handlers: T): T {
  return faults === undefined ? handlers : faults.identifyingHandlers(handlers);
}
