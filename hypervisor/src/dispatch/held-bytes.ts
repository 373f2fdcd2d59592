// SPDX-License-Identifier: Apache-2.0
/**
 * What the service holds on a domain's behalf, charged to that domain: result bytes produced
 * for it and not yet handed to its transport (a Session's unsent results frames, unary replies
 * in flight) plus its resume log. While a domain is over its budget the scheduler runs none of
 * its work and new unary calls are refused, so a guest that stops reading can pin at most its
 * budget (plus the one hypercall that crossed it), never the service's memory.
 */

export class HeldBytesBudgetError extends Error {
  override readonly name = "HeldBytesBudgetError";
}

/** One domain's account. */
export class HeldBytes {
  /** Bytes charged and not yet released (unsent results, replies in flight). */
  private outstanding = 0;

  constructor(
    readonly domid: number,
    /** The budget, in bytes. */
    readonly limit: number,
    /** Bytes the domain's resume log holds now (charged too, but drains only by acknowledgement). */
    private readonly resumeLogBytes: () => number,
    /** Called when a release brings the account back under budget (wakes the scheduler). */
    private readonly drained: () => void = () => undefined,
  ) {}

  get held(): number {
    return this.outstanding + this.resumeLogBytes();
  }

  /** Bytes that drain by themselves once the guest reads (everything but the resume log). */
  get inFlight(): number {
    return this.outstanding;
  }

  /**
   * Over budget: the domain's next hypercall must wait. Only bytes that will drain hold a domain
   * back: a resume log at its own cap (which is below this budget) cannot block a domain forever.
   */
  get over(): boolean {
    return this.isOver();
  }

  private isOver(): boolean {
    return this.outstanding > 0 && this.held > this.limit;
  }

  charge(bytes: number): void {
    this.outstanding += bytes;
  }

  release(bytes: number): void {
    const wasOver = this.isOver();
    this.outstanding = Math.max(0, this.outstanding - bytes);
    if (wasOver && !this.isOver()) this.drained();
  }

  /** The error a refused unary call carries: the limit, its flag and the value held. */
  refusal(): string {
    return `domain ${this.domid} holds ${this.held} bytes of unsent results (${this.outstanding} in flight, ${this.held - this.outstanding} in its resume log), over its --domain-held-bytes budget of ${this.limit}: read the replies already sent first`;
  }
}

/** Every domain's account, keyed by domid (created on first use, dropped with the domain). */
export class HeldBytesLedger {
  private readonly accounts = new Map<number, HeldBytes>();

  constructor(
    readonly limit: number,
    private readonly resumeLogBytes: (domid: number) => number,
    /** Called with a domid whose account dropped back under budget. */
    private readonly drained: (domid: number) => void = () => undefined,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new HeldBytesBudgetError(`held-bytes budget ${limit} is not a positive integer`);
    }
  }

  of(domid: number): HeldBytes {
    let account = this.accounts.get(domid);
    if (account === undefined) {
      account = new HeldBytes(
        domid,
        this.limit,
        () => this.resumeLogBytes(domid),
        () => {
          this.drained(domid);
        },
      );
      this.accounts.set(domid, account);
    }
    return account;
  }

  isOver(domid: number): boolean {
    return this.accounts.get(domid)?.over ?? false;
  }

  forget(domid: number): void {
    this.accounts.delete(domid);
  }
}
