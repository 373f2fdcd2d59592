// SPDX-License-Identifier: Apache-2.0
/**
 * `ConfigSpace`: a device's configuration space with its generation counter, VirtIO 1.2 §2.5
 * "Device Configuration Space" (virtio-argo.md §2.4). Little-endian bytes owned by the device
 * model. The device changes them through `update`, which bumps the generation when any byte
 * changes and tells the transport (a configuration change notification, §2.5.1: "The device
 * MUST allow reading of any device-specific configuration field before FEATURES_OK is set").
 * The driver reads any range and writes only the ranges the device declares writable (e.g.
 * virtio-console `emerg_wr`) — "The BE must never trust config writes it did not allow"
 * (virtio-argo.md §4.9). Out-of-range access and denied writes throw `ConfigSpaceError`.
 *
 * Why a generation: reads wider than 32 bits, or of several fields, are not atomic; the driver
 * loops `do { before = gen; read; after = gen; } while (after != before)` (§2.5.1 driver rule),
 * which `readConfigStable` in `drivers/` does. The counter here is a u32 (virtio-mmio's
 * ConfigGeneration width) and wraps.
 */
import { rangeInside } from "./memory/guest-ram.js";

export const ConfigSpaceErrorKind = {
  outOfRange: "outOfRange",
  writeDenied: "writeDenied",
  /** The write named a generation that is no longer current (not a violation: a race). */
  staleGeneration: "staleGeneration",
} as const;
export type ConfigSpaceErrorKind = (typeof ConfigSpaceErrorKind)[keyof typeof ConfigSpaceErrorKind];

export class ConfigSpaceError extends Error {
  override readonly name = "ConfigSpaceError";
  constructor(
    readonly kind: ConfigSpaceErrorKind,
    message: string,
  ) {
    super(message);
  }
}

/** A range of config space the driver may write, and what the device does with the write. */
export interface WritableConfigField {
  readonly offset: number;
  readonly size: number;
  /** Called with the written bytes after they were stored. */
  readonly onWrite?: (offset: number, bytes: Uint8Array) => void;
}

/** A device's configuration space (see the module comment). */
export class ConfigSpace {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #writable: readonly WritableConfigField[];
  #generation = 0;
  #listener: (() => void) | undefined;

  constructor(size: number, writable: readonly WritableConfigField[] = []) {
    this.#bytes = new Uint8Array(size);
    this.#view = new DataView(this.#bytes.buffer);
    this.#writable = writable;
  }

  get size(): number {
    return this.#bytes.length;
  }

  /** ConfigGeneration. */
  get generation(): number {
    return this.#generation;
  }

  /** Sets who hears about device-side changes (the transport / controller). */
  onChange(listener: (() => void) | undefined): void {
    this.#listener = listener;
  }

  /** A driver read of `len` bytes at `offset`. */
  read(offset: number, len: number): Uint8Array {
    if (!rangeInside(offset, len, this.size)) {
      throw new ConfigSpaceError(
        ConfigSpaceErrorKind.outOfRange,
        `config read [${offset}, +${len}) outside ${this.size} bytes`,
      );
    }
    return this.#bytes.slice(offset, offset + len);
  }

  /**
   * A driver write; allowed only inside one declared writable field. With `generation`, the
   * write is conditional: it is refused (kind `staleGeneration`, nothing stored, no `onWrite`)
   * unless the config is still at that generation — the virtio-argo SET_CONFIG rule "the BE
   * rejects a stale generation" (reference §4.5), so a driver whose write depends on what it
   * read cannot overwrite a newer device-side state.
   */
  driverWrite(offset: number, bytes: Uint8Array, generation?: number): void {
    if (!rangeInside(offset, bytes.length, this.size)) {
      throw new ConfigSpaceError(
        ConfigSpaceErrorKind.outOfRange,
        `config write [${offset}, +${bytes.length}) outside ${this.size} bytes`,
      );
    }
    const field = this.#writable.find(
      (f) => offset >= f.offset && offset + bytes.length <= f.offset + f.size,
    );
    if (field === undefined || bytes.length === 0) {
      throw new ConfigSpaceError(
        ConfigSpaceErrorKind.writeDenied,
        `config write at ${offset} (+${bytes.length}) not allowed`,
      );
    }
    if (generation !== undefined && generation !== this.#generation) {
      throw new ConfigSpaceError(
        ConfigSpaceErrorKind.staleGeneration,
        `config write at ${offset} names generation ${generation}, current is ${this.#generation}`,
      );
    }
    this.#bytes.set(bytes, offset);
    field.onWrite?.(offset, bytes);
  }

  /** A device-side change; bumps the generation and notifies if any byte changed. */
  update(offset: number, bytes: Uint8Array): boolean {
    if (!rangeInside(offset, bytes.length, this.size)) {
      throw new RangeError(
        `config update [${offset}, +${bytes.length}) outside ${this.size} bytes`,
      );
    }
    const changed = bytes.some((b, i) => this.#bytes[offset + i] !== b);
    if (!changed) return false;
    this.#bytes.set(bytes, offset);
    this.#generation = (this.#generation + 1) >>> 0;
    this.#listener?.();
    return true;
  }

  /** Initial contents, before any driver sees the device: no generation bump, no notification. */
  initialize(offset: number, bytes: Uint8Array): void {
    if (!rangeInside(offset, bytes.length, this.size))
      throw new RangeError("config initialize out of range");
    this.#bytes.set(bytes, offset);
  }

  /** Little-endian helpers for device models (device-side `update`s). */
  setU8(offset: number, v: number): boolean {
    return this.update(offset, Uint8Array.of(v & 0xff));
  }
  setU16(offset: number, v: number): boolean {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v, true);
    return this.update(offset, b);
  }
  setU32(offset: number, v: number): boolean {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    return this.update(offset, b);
  }
  setU64(offset: number, v: bigint): boolean {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, v, true);
    return this.update(offset, b);
  }
  getU16(offset: number): number {
    return this.#view.getUint16(offset, true);
  }
  getU32(offset: number): number {
    return this.#view.getUint32(offset, true);
  }
  getU64(offset: number): bigint {
    return this.#view.getBigUint64(offset, true);
  }
}
