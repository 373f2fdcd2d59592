// SPDX-License-Identifier: Apache-2.0
/**
 * The per-run directory of `hmx up`: one private directory (mode 0700, from mkdtemp under
 * `$XDG_RUNTIME_DIR`, else the OS temporary directory) that holds everything the run writes —
 * the secrets its children read (0600 files: an environment variable is readable from
 * `/proc/<pid>/environ`, which outlives nothing but is easy to leak), the combined policy, disk
 * images and virtio consoles. It is removed when the run stops, on Ctrl-C and on any exit.
 *
 * Other commands find a running `hmx up` through a pointer file in the checkout
 * (`.hmx/up.json`, or the file env HMX_UP_POINTER names; see UpPointer): `hmx console` its
 * consoles, `hmx policy` / `hmx viptables` / `hmx domain` / `hmx status` its toolstack and
 * admin-token file, `hmx history` its HTTP listener. The pointer holds
 * paths and addresses, never a secret.
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the pointer to this checkout's running `hmx up` lives (.hmx/ is git-ignored). */
export function upPointerFile(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const override = env["HMX_UP_POINTER"];
  return override !== undefined && override !== ""
    ? override
    : fileURLToPath(new URL("../../../.hmx/up.json", import.meta.url));
}

/** What a running `hmx up` tells other commands of the same checkout. */
export interface UpPointer {
  readonly pid: number;
  readonly runDir: string;
  readonly consoleDir: string;
  /** The toolstack address. */
  readonly control: string;
  /** The 0600 file holding the admin token, inside runDir. */
  readonly adminTokenFile: string;
  /** The harness HTTP listener (/metrics, /v1/history); absent in pointers of older runs. */
  readonly httpListen?: string;
}

/** The parent of per-run directories: `$XDG_RUNTIME_DIR` (per user, tmpfs) or the OS temp dir. */
export function runtimeRoot(
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const xdg = env["XDG_RUNTIME_DIR"];
  return xdg?.startsWith("/") === true ? xdg : tmpdir();
}

export class RunDir {
  readonly path: string;
  private removed = false;
  private readonly onExit = () => {
    this.remove();
  };

  constructor(root = runtimeRoot()) {
    this.path = mkdtempSync(join(root, "hmx-up-"));
    // Also on exit paths that skip `remove()` (a second Ctrl-C exits at once, an uncaught error).
    process.on("exit", this.onExit);
  }

  /** A subdirectory of the run, created if needed. */
  dir(name: string): string {
    const path = join(this.path, name);
    mkdirSync(path, { recursive: true, mode: 0o700 });
    return path;
  }

  /** Writes a secret its owner alone can read; returns the path to hand a child. */
  writeSecret(name: string, value: string): string {
    const path = this.secretPath(name);
    writeFileSync(path, `${value}\n`, { mode: 0o600 });
    return path;
  }

  /** Where `writeSecret(name, …)` puts a secret. */
  secretPath(name: string): string {
    return join(this.dir("secrets"), name);
  }

  /** Publishes the pointer other commands of this checkout read. */
  publish(pointer: Omit<UpPointer, "pid" | "runDir">, file = upPointerFile()): void {
    const full: UpPointer = { pid: process.pid, runDir: this.path, ...pointer };
    mkdirSync(join(file, ".."), { recursive: true });
    writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
    this.pointerFile = file;
  }

  private pointerFile: string | undefined;

  /** Removes the directory and (if it still names this run) the pointer; idempotent. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    process.off("exit", this.onExit);
    rmSync(this.path, { recursive: true, force: true });
    if (this.pointerFile !== undefined && readUpPointer(this.pointerFile)?.runDir === this.path)
      rmSync(this.pointerFile, { force: true });
  }
}

/** The running `hmx up` of this checkout, or undefined (none, or its process is gone). */
export function readUpPointer(file = upPointerFile()): UpPointer | undefined {
  let pointer: UpPointer;
  try {
    pointer = JSON.parse(readFileSync(file, "utf8")) as UpPointer;
  } catch {
    return undefined;
  }
  try {
    process.kill(pointer.pid, 0);
  } catch (err) {
    // EPERM: alive but someone else's; anything else: a stale pointer left by a killed run.
    if ((err as { code?: unknown }).code !== "EPERM") return undefined;
  }
  return pointer;
}
