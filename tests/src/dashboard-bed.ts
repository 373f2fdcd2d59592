// SPDX-License-Identifier: Apache-2.0
/**
 * What the dashboard tests share: a real `hmx hypervisor` with the HTTP listener and the
 * link-fault layer, guests on Session clients that make traffic (a sender filling a receiver's
 * ring) and a MAC denial (a firewall rule rejecting a third domain's sends), and a login.
 */
import { SessionClient, type HypercallOp } from "@hmx/guest-agent";
import {
  ARGO_DOMID_ANY,
  ARGO_RING_HEADER_SIZE,
  FIRST_GUEST_GFN,
  PAGE_SIZE,
  npagesRing,
  ringLenForPages,
} from "@hmx/proto/abi";
import { Testbed } from "@hmx/testkit";
import assert from "node:assert/strict";

export const RING_APORT = 7;
export const RING_LEN = ringLenForPages(4);
const RING_GPA = FIRST_GUEST_GFN * PAGE_SIZE;
const STAGING_GPA = (FIRST_GUEST_GFN + 16) * PAGE_SIZE;
export const MESSAGE_BYTES = 64;
/** Xen's -EPERM: what a firewall rejection returns to the sender (docs/mac.md). */
const EPERM = -1;

export interface Guest {
  readonly name: string;
  readonly domid: number;
  readonly client: SessionClient;
}

export class DashboardBed {
  private constructor(
    readonly bed: Testbed,
    /** "host:port" of the HTTP listener. */
    readonly http: string,
    /** "host:port" of the Toxiproxy-compatible API. */
    readonly toxiproxy: string,
    /** Sends to `receiver`'s ring. */
    readonly sender: Guest,
    /** Owns a ring nobody reads, so it fills. */
    readonly receiver: Guest,
    /** Its sends to `receiver` are rejected by the firewall. */
    readonly intruder: Guest,
  ) {}

  static async start(): Promise<DashboardBed> {
    const bed = await Testbed.start([
      "--argo-mac-permissive",
      "--http-listen",
      "127.0.0.1:0",
      "--toxiproxy-listen",
      "127.0.0.1:0",
    ]);
    try {
      return await DashboardBed.#populate(bed);
    } catch (err) {
      await bed.stopAll();
      throw err;
    }
  }

  static async #populate(bed: Testbed): Promise<DashboardBed> {
    const ready = bed.hypervisor.last("hypervisor ready");
    const http = String(ready?.["httpListen"]);
    const toxiproxy = String(ready?.["toxiproxyListen"]);
    const guest = async (name: string): Promise<Guest> => {
      const { domid, credential } = await bed.domain(name);
      return {
        name,
        domid,
        client: await SessionClient.connect({ address: bed.listen, credential }),
      };
    };
    const sender = await guest("alice");
    const receiver = await guest("bob");
    const intruder = await guest("mallory");
    const rx = receiver.client;
    assert.equal(await rx.writeMemory(RING_GPA, Buffer.alloc(ARGO_RING_HEADER_SIZE)), 0);
    const gfns = Array.from({ length: npagesRing(RING_LEN) }, (_, i) => FIRST_GUEST_GFN + i);
    assert.equal(
      await rx.registerRing({
        aport: RING_APORT,
        partnerId: ARGO_DOMID_ANY,
        len: RING_LEN,
        gfns,
        flags: 0,
      }),
      0,
    );
    await bed.toolstack.addFirewallRule({
      src: { domid: intruder.domid },
      dst: { domid: receiver.domid },
      verdict: "reject",
    });
    return new DashboardBed(bed, http, toxiproxy, sender, receiver, intruder);
  }

  #sendv(): HypercallOp {
    return {
      op: "sendv",
      src: { aport: 1, domainId: ARGO_DOMID_ANY },
      dst: { aport: RING_APORT, domainId: this.receiver.domid },
      iovs: [{ gpa: STAGING_GPA, len: MESSAGE_BYTES }],
      messageType: 0,
    };
  }

  /** `n` messages from the sender into the receiver's ring; each one must be delivered. */
  async send(n: number): Promise<void> {
    const outcomes = await this.sender.client.batch(Array.from({ length: n }, () => this.#sendv()));
    for (const outcome of outcomes)
      assert.deepEqual(outcome, { op: "sendv", ret: MESSAGE_BYTES }, "the ring had room");
  }

  /** One send from the intruder, which the firewall must refuse. */
  async denied(): Promise<void> {
    const [outcome] = await this.intruder.client.batch([this.#sendv()]);
    assert.deepEqual(
      outcome,
      { op: "sendv", ret: EPERM },
      "the firewall rejects the intruder's send",
    );
  }

  /** A latency toxic on a domain's link, through the Toxiproxy-compatible API. */
  async addLatency(domain: string, name: string): Promise<void> {
    const res = await fetch(`http://${this.toxiproxy}/proxies/${domain}/toxics`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        name,
        type: "latency",
        stream: "downstream",
        toxicity: 1,
        attributes: { latency: 1 },
      }),
    });
    assert.equal(res.status, 200, await res.text());
  }

  /** Logs in with `token`; returns the response (a 303 with a cookie when it was right). */
  login(token: string, origin?: string): Promise<Response> {
    return fetch(`http://${this.http}/dashboard/login`, {
      method: "POST",
      redirect: "manual",
      headers: {
        "content-type": "application/x-www-form-urlencoded",
        ...(origin === undefined ? {} : { origin }),
      },
      body: new URLSearchParams({ token }).toString(),
    });
  }

  readonly #disconnected = new Set<Guest>();

  /** Closes a guest's Session: its link goes down (the domain lives on). */
  async disconnect(guest: Guest): Promise<void> {
    this.#disconnected.add(guest);
    await guest.client.close();
  }

  async stop(): Promise<void> {
    const connected = [this.sender, this.receiver, this.intruder].filter(
      (g) => !this.#disconnected.has(g),
    );
    await Promise.all(connected.map((g) => g.client.close()));
    await this.bed.stopAll();
  }
}
