// SPDX-License-Identifier: Apache-2.0
/**
 * The shape of `GET /v1/state`: what the dashboard needs that the history does not carry (ring
 * fill levels, link states, faults in force, totals since boot). Shared by the server, which
 * builds it, and the page, which draws it; types only, so both sides compile it.
 */

export interface RingState {
  readonly aport: number;
  /** The partner domid, or 0x7ff4 (DOMID_ANY) for a wildcard ring. */
  readonly partner: number;
  /** Ring bytes (Xen's `len`). */
  readonly len: number;
  /** Bytes holding messages not yet consumed (tx_ptr − rx_ptr, modulo len). */
  readonly used: number;
  /** Senders waiting for space. */
  readonly waiters: number;
}

export interface DomainState {
  readonly domid: number;
  readonly name: string;
  readonly label: string;
  /** "up" while the domain's guest holds a stream open to the hypervisor. */
  readonly link: "up" | "down";
  readonly streams: { readonly session: number; readonly watch: number };
  readonly rings: readonly RingState[];
}

/** A guest link with a fault in force (taken down, or carrying toxics). */
export interface LinkFaultState {
  readonly domain: string;
  readonly enabled: boolean;
  readonly toxics: readonly {
    readonly name: string;
    readonly type: string;
    readonly stream: string;
  }[];
}

export interface DashboardState {
  /** RFC 3339, when the state was read. */
  readonly time: string;
  /** The history's retained seqs: the page resumes its tail from inside this range. */
  readonly history: { readonly oldestSeq: number; readonly nextSeq: number };
  readonly domains: readonly DomainState[];
  /** Null when the hypervisor runs without the link-fault layer. */
  readonly faults: readonly LinkFaultState[] | null;
  /** Counts since boot (from the metrics). */
  readonly totals: {
    readonly messages: number;
    readonly bytes: number;
    readonly macDenials: number;
    readonly virqs: number;
  };
}
