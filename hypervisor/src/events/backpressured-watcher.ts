// SPDX-License-Identifier: Apache-2.0
/**
 * An event watcher that respects its stream's backpressure: at most one VIRQ and one device
 * event of a stream are in the transport at a time. While a VIRQ is in flight (written, not yet
 * taken by HTTP/2), further raises become a pending bit — exactly what Xen's event channel is: a
 * thousand raises while the guest does not read are one event once it does. Device events wait
 * their turn in a queue bounded like the channel's own (the oldest are dropped: the guest re-reads
 * its device table on any of them). Without it, every raise against a guest that never read its
 * WatchEvents stream was another buffered message. An event is never held back behind a stream
 * that is merely busy: it is written at once whenever none of its kind is in flight.
 */
import type { DeviceEvent, EventWatcher } from "./event-channel.js";

/** Device events held per stream while its guest does not read (the oldest are dropped). */
export const MAX_HELD_DEVICE_EVENTS = 64;

/** How one event is written to the stream; `written` runs once the transport took it. */
export interface EventSender {
  virq(virq: number, written: () => void): void;
  device(event: DeviceEvent, written: () => void): void;
}

export class BackpressuredWatcher implements EventWatcher {
  private pendingVirq: number | undefined;
  private virqInFlight = false;
  private readonly heldDevices: DeviceEvent[] = [];
  private deviceInFlight = false;
  private closed = false;

  constructor(private readonly send: EventSender) {}

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
    this.flushVirq();
  }

  deliverDevice(event: DeviceEvent): void {
    this.heldDevices.push(event);
    if (this.heldDevices.length > MAX_HELD_DEVICE_EVENTS) this.heldDevices.shift();
    this.flushDevice();
  }

  private flushVirq(): void {
    if (this.closed || this.virqInFlight || this.pendingVirq === undefined) return;
    const virq = this.pendingVirq;
    this.pendingVirq = undefined;
    this.virqInFlight = true;
    this.send.virq(virq, () => {
      this.virqInFlight = false;
      this.flushVirq();
    });
  }

  private flushDevice(): void {
    if (this.closed || this.deviceInFlight) return;
    const event = this.heldDevices.shift();
    if (event === undefined) return;
    this.deviceInFlight = true;
    this.send.device(event, () => {
      this.deviceInFlight = false;
      this.flushDevice();
    });
  }
}
