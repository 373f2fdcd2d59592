// SPDX-License-Identifier: Apache-2.0
/**
 * A domain (a guest VM) as the hypervisor sees it: its identity, XSM-style label, guest memory,
 * Argo state and counters. The counterpart of Xen's `struct domain`, reduced to what hmx needs;
 * `argo` is `d->argo` (null when `argo_init` did not enable Argo for it, which makes every op
 * `-ENODEV` for the domain itself and `-ECONNREFUSED` for its peers).
 */
import type { DomainArgoState } from "../argo/domain-argo-state.js";
import type { DomainSecurity } from "../mac/domain-security.js";
import type { GuestMemory } from "../memory/guest-memory.js";

/** Per-domain counters, plain numbers (exported as metrics and shown by the toolstack). */
export interface DomainCounters {
  /** Hypercalls issued by the domain (counted by the dispatcher). */
  hypercalls: number;
  /** Hypercalls that returned a negative errno (counted by the dispatcher). */
  errors: number;
  /** Successful sendv calls made by the domain. */
  messagesSent: number;
  /** Payload bytes of those sendv calls (headers excluded). */
  bytesSent: number;
  /** Messages delivered into the domain's rings. */
  messagesReceived: number;
  /** Payload bytes of those messages. */
  bytesReceived: number;
  /** VIRQ_ARGO raises aimed at the domain (before event-channel coalescing). */
  virqs: number;
}

/** Everything needed to construct a `Domain`; the registry validates it first. */
export interface DomainInit {
  readonly domid: number;
  readonly name: string;
  readonly label: string;
  readonly memory: GuestMemory;
  /** The control domain (Xen `is_control_domain`); default false. */
  readonly privileged?: boolean;
}

/** One domain. Created and destroyed only through `DomainRegistry`. */
export class Domain {
  /** 1..DOMID_MAX, never reused within a run. */
  readonly domid: number;
  /** Unique among live domains; `[A-Za-z0-9._-]{1,64}`. */
  readonly name: string;
  /** The security label the MAC policy decides on; `[A-Za-z0-9_.:-]{1,64}`. */
  readonly label: string;
  /**
   * The control domain (Xen `is_control_domain`): SILO lets it talk to every domain. Flask
   * ignores it; the policy decides by label.
   */
  readonly privileged: boolean;
  /** The domain's guest-physical memory. */
  readonly memory: GuestMemory;
  /** `d->argo`: Argo state, or null if Argo is not enabled for the domain (or it is torn down). */
  argo: DomainArgoState | null = null;
  /** Xen's `d->ssid`: the MAC controller's per-domain memo (null until it first looks). */
  ssid: DomainSecurity | null = null;
  /** False once destruction has started; never true again. */
  alive = true;
  readonly counters: DomainCounters = {
    hypercalls: 0,
    errors: 0,
    messagesSent: 0,
    bytesSent: 0,
    messagesReceived: 0,
    bytesReceived: 0,
    virqs: 0,
  };

  constructor(init: DomainInit) {
    this.domid = init.domid;
    this.name = init.name;
    this.label = init.label;
    this.privileged = init.privileged ?? false;
    this.memory = init.memory;
  }
}
