// SPDX-License-Identifier: Apache-2.0
/**
 * `ConsoleLog`: what the back end does with virtio-console output and where input comes from
 * (issue #5: "console output collected per guest by the back end ... input delivered back").
 * Output of each front end is kept as a bounded tail in memory (1 MiB by default, so a chatty
 * or hostile guest cannot exhaust the back end) and, when a directory is configured, appended
 * to `<dir>/<domid>-<name>.log`; `hmx console` reads that file. Input for a guest is whatever
 * is appended to `<dir>/<domid>-<name>.in` (the command appends to it), polled every
 * `pollMs` and delivered to the guest's console device. Why files: the back end is a guest
 * whose only network is Argo, and the hypervisor never interprets bytes (DESIGN.md §2); a
 * directory (a volume in a container fleet) is the one channel that needs neither a new
 * service nor a helper guest. docs/virtio-argo.md "Console" says more.
 */
import {
  appendFileSync,
  mkdirSync,
  openSync,
  closeSync,
  readSync,
  fstatSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

interface GuestConsole {
  readonly key: string;
  chunks: Uint8Array[];
  size: number;
  inputOffset: number;
  readonly deliver: (bytes: Uint8Array) => void;
}

export interface ConsoleLogOptions {
  /** Where `<domid>-<name>.log` / `.in` live; none = memory only. */
  readonly dir?: string;
  readonly maxBytesPerGuest?: number;
  readonly pollMs?: number;
}

/** Per-guest console output and input (see the module comment). */
export class ConsoleLog {
  readonly #dir: string | undefined;
  readonly #max: number;
  readonly #guests = new Map<string, GuestConsole>();
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(o: ConsoleLogOptions = {}) {
    this.#dir = o.dir;
    this.#max = o.maxBytesPerGuest ?? 1024 * 1024;
    if (this.#dir !== undefined) {
      mkdirSync(this.#dir, { recursive: true });
      this.#timer = setInterval(() => {
        this.#pollInput();
      }, o.pollMs ?? 250);
      this.#timer.unref();
    }
  }

  /** The file stem of a guest's console: `<domid>-<name>`. */
  static key(domid: number, name: string): string {
    return `${domid}-${name.replace(/[^A-Za-z0-9._-]/g, "_")}`;
  }

  /** Registers a guest's console; `deliver` sends input bytes to its device. */
  attach(key: string, deliver: (bytes: Uint8Array) => void): void {
    const existing = this.#guests.get(key);
    let inputOffset = 0;
    if (this.#dir !== undefined) {
      const inPath = join(this.#dir, `${key}.in`);
      // Input written before this attach is not replayed: start at the file's current end.
      try {
        const fd = openSync(inPath, "a+");
        inputOffset = fstatSync(fd).size;
        closeSync(fd);
      } catch {
        inputOffset = 0;
      }
      if (existing === undefined) writeFileSync(join(this.#dir, `${key}.log`), "", { flag: "a" });
    }
    this.#guests.set(key, {
      key,
      chunks: existing?.chunks ?? [],
      size: existing?.size ?? 0,
      inputOffset,
      deliver,
    });
  }

  detach(key: string): void {
    this.#guests.delete(key);
  }

  /** Output from a guest. */
  output(key: string, bytes: Uint8Array): void {
    const g = this.#guests.get(key);
    if (g === undefined) return;
    g.chunks.push(bytes.slice());
    g.size += bytes.length;
    while (g.size > this.#max && g.chunks.length > 0) {
      const first = g.chunks[0];
      if (first === undefined) break;
      const excess = g.size - this.#max;
      if (first.length <= excess) {
        g.chunks.shift();
        g.size -= first.length;
      } else {
        g.chunks[0] = first.slice(excess);
        g.size -= excess;
      }
    }
    if (this.#dir !== undefined) {
      try {
        appendFileSync(join(this.#dir, `${key}.log`), bytes);
      } catch {
        // A full disk costs the file copy only; the in-memory tail is kept.
      }
    }
  }

  /** Everything kept of a guest's output, as text. */
  text(key: string): string {
    const g = this.#guests.get(key);
    return g === undefined ? "" : Buffer.concat(g.chunks).toString("utf8");
  }

  /** Input to a guest's console, now. */
  input(key: string, data: string | Uint8Array): boolean {
    const g = this.#guests.get(key);
    if (g === undefined) return false;
    g.deliver(typeof data === "string" ? new TextEncoder().encode(data) : data);
    return true;
  }

  keys(): string[] {
    return [...this.#guests.keys()];
  }

  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
  }

  #pollInput(): void {
    if (this.#dir === undefined) return;
    for (const g of this.#guests.values()) {
      const path = join(this.#dir, `${g.key}.in`);
      let fd: number;
      try {
        fd = openSync(path, "r");
      } catch {
        continue;
      }
      try {
        const size = fstatSync(fd).size;
        if (size < g.inputOffset) g.inputOffset = 0; // truncated: start over
        // At most 64 KiB per poll, so one guest's input cannot stall the others.
        const n = Math.min(size - g.inputOffset, 64 * 1024);
        if (n > 0) {
          const buf = Buffer.alloc(n);
          const got = readSync(fd, buf, 0, n, g.inputOffset);
          g.inputOffset += got;
          if (got > 0) g.deliver(buf.subarray(0, got));
        }
      } finally {
        closeSync(fd);
      }
    }
  }
}
