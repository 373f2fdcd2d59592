// SPDX-License-Identifier: Apache-2.0
/**
 * An event watcher that respects its stream's backpressure. While the guest is not reading
 * (the stream wants a drain), events are not written: a VIRQ becomes a pending bit, exactly what
 * Xen's event channel is (a thousand raises while the guest sleeps are one event on wake-up), and
 * device events wait in a queue bounded like the channel's own (the oldest are dropped: the guest
 * re-reads its device table on any of them). Without it, every raise against a guest that never
 * read its WatchEvents stream was another buffered message.
 */
import type { DeviceEvent, EventWatcher } from "./event-channel.js";

/** Device events held per stream while its guest does not read (the oldest are dropped). */
export const MAX_HELD_DEVICE_EVENTS = 64;

/** The part of a Node writable stream this needs. */
export interface DrainableStream {
  readonly writableNeedDrain: boolean;
  once(event: "drain", listener: () => void): unknown;
}

/** How one event is written to the stream (each framing wraps it differently). */
export interface EventSender {
  virq(virq: number): void;
  device(event: DeviceEvent): void;
}

export class BackpressuredWatcher implements EventWatcher {
  private pendingVirq: number | undefined;
  private readonly heldDevices: DeviceEvent[] = [];
  private waiting = false;
  private closed = false;

  constructor(
    private readonly stream: DrainableStream,
    private readonly send: EventSender,
  ) {}

  /** Stops writing (the stream ended); held events are dropped. */
  close(): void {
    this.closed = true;
    this.pendingVirq = undefined;
    this.heldDevices.length = 0;
  }

  /** Events held back now (a pending VIRQ counts as one). */
  get held(): number {
    return this.heldDevices.length + (this.pendingVirq === undefined ? 0 : 1);
  }

  deliverVirq(virq: number): void {
    this.pendingVirq = virq;
    this.flush();
  }

  deliverDevice(event: DeviceEvent): void {
    this.heldDevices.push(event);
    if (this.heldDevices.length > MAX_HELD_DEVICE_EVENTS) this.heldDevices.shift();
    this.flush();
  }

  private flush(): void {
    if (this.closed) return;
    // The order between the two kinds carries nothing: each only tells the guest where to look.
    while (!this.stream.writableNeedDrain) {
      const event = this.heldDevices.shift();
      if (event !== undefined) {
        this.send.device(event);
        continue;
      }
      if (this.pendingVirq !== undefined) {
        const virq = this.pendingVirq;
        this.pendingVirq = undefined;
        this.send.virq(virq);
      }
      return;
    }
    if (this.waiting) return;
    this.waiting = true;
    this.stream.once("drain", () => {
      this.waiting = false;
      this.flush();
    });
  }
}
