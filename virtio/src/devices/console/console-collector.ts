// SPDX-License-Identifier: Apache-2.0
/**
 * `ConsoleCollector`: the virtio-console back end for a fleet — one `ConsoleDevice` per guest,
 * each guest's output collected under its name (a bounded tail, default 1 MiB, so a chatty or
 * hostile guest cannot exhaust the back end), and input delivered back to a named guest.
 */
import { ConsoleDevice, type ConsoleDeviceOptions } from "./console-device.js";

export interface ConsoleCollectorOptions {
  /** Output bytes kept per guest (the most recent ones; default 1 MiB). */
  readonly maxBytesPerGuest?: number;
}

/** Per-guest console output, and input back to a guest. */
export class ConsoleCollector {
  readonly #max: number;
  readonly #devices = new Map<string, ConsoleDevice>();
  readonly #output = new Map<string, Uint8Array[]>();
  readonly #sizes = new Map<string, number>();
  readonly #listeners = new Set<(guest: string, bytes: Uint8Array) => void>();

  constructor(options: ConsoleCollectorOptions = {}) {
    this.#max = options.maxBytesPerGuest ?? 1024 * 1024;
  }

  /** Creates the console device for `guest` (one per guest name). */
  attach(
    guest: string,
    options: Omit<ConsoleDeviceOptions, "onOutput" | "name"> = {},
  ): ConsoleDevice {
    if (this.#devices.has(guest)) throw new Error(`console for ${guest} already attached`);
    const device = new ConsoleDevice({
      ...options,
      name: `console:${guest}`,
      onOutput: (b) => {
        this.#collect(guest, b);
      },
    });
    this.#devices.set(guest, device);
    this.#output.set(guest, []);
    this.#sizes.set(guest, 0);
    return device;
  }

  /** Runs `f` on every chunk of output from any guest. */
  onOutput(f: (guest: string, bytes: Uint8Array) => void): () => void {
    this.#listeners.add(f);
    return () => this.#listeners.delete(f);
  }

  /** Everything kept of `guest`'s output. */
  output(guest: string): Uint8Array {
    const chunks = this.#output.get(guest) ?? [];
    return Buffer.concat(chunks);
  }

  /** `guest`'s output as UTF-8 text. */
  outputText(guest: string): string {
    return new TextDecoder().decode(this.output(guest));
  }

  /** Sends input to `guest`'s console. */
  input(guest: string, data: string | Uint8Array): void {
    const device = this.#devices.get(guest);
    if (device === undefined) throw new Error(`no console for ${guest}`);
    device.sendInput(typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  guests(): string[] {
    return [...this.#devices.keys()];
  }

  #collect(guest: string, bytes: Uint8Array): void {
    const chunks = this.#output.get(guest);
    if (chunks === undefined) return;
    chunks.push(bytes.slice());
    let size = (this.#sizes.get(guest) ?? 0) + bytes.length;
    // Keep the tail: drop whole chunks from the front, then trim the first one.
    while (size > this.#max) {
      const first = chunks[0];
      if (first === undefined) break;
      const excess = size - this.#max;
      if (first.length <= excess) {
        chunks.shift();
        size -= first.length;
      } else {
        chunks[0] = first.slice(excess);
        size -= excess;
      }
    }
    this.#sizes.set(guest, size);
    for (const f of this.#listeners) f(guest, bytes);
  }
}
