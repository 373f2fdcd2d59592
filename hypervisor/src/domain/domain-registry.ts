// SPDX-License-Identifier: Apache-2.0
/**
 * The table of live domains: creation (with validated configuration, fresh guest memory and a
 * credential), lookup by domid or credential, and destruction. It plays the part of Xen's
 * domain list (`rcu_lock_domain_by_id`) plus the toolstack's `domain_create` / `domain_kill`:
 * lifecycle hooks run `argo_init` after creation and `argo_destroy` during destruction, before
 * the domain's memory goes back to the quota. Each domain's whole `memoryBytes` is reserved
 * from the hypervisor-wide quota at creation (docs/memory-accounting.md), so no domain can take
 * the memory another was promised. Domids run from 1 up to DOMID_MAX and are never reused
 * within a run, so a stale domid can never reach a new domain.
 */
import { DOMID_MAX, PAGE_SIZE } from "@hmx/proto/abi";

import { GuestMemory } from "../memory/guest-memory.js";
import type { MemoryQuota } from "../memory/memory-quota.js";
import {
  credentialDomid,
  issueCredential,
  verifyCredential,
  type IssuedCredential,
} from "./credential.js";
import { Domain } from "./domain.js";

/** Smallest domain the toolstack may create: 16 pages, the size of the platform-reserved gfns 0..15. */
export const MIN_DOMAIN_MEMORY_BYTES = 65536;

const NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
const LABEL_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

/** What the toolstack asks for in CreateDomain. */
export interface DomainConfig {
  readonly name: string;
  readonly label: string;
  readonly memoryBytes: number;
  /** The control domain (Xen `is_control_domain`); default false. */
  readonly privileged?: boolean;
}

/** A bad CreateDomain field; names the field and quotes the offending value. */
export class DomainConfigError extends Error {
  override readonly name = "DomainConfigError";
  constructor(
    /** Which field was wrong: "name", "label" or "memoryBytes". */
    readonly field: keyof DomainConfig,
    /** The rejected value, as given. */
    readonly value: unknown,
    reason: string,
    /** "conflict": valid on its own but clashes with a live domain (a taken name). */
    readonly kind: "invalid" | "conflict" = "invalid",
  ) {
    super(`invalid domain ${field} ${quote(value)}: ${reason}`);
  }
}

/** Every domid 1..DOMID_MAX has been handed out in this run. */
export class DomainIdsExhaustedError extends Error {
  override readonly name = "DomainIdsExhaustedError";
  constructor() {
    super(`all domain ids 1..${DOMID_MAX} have been used in this run; restart the hypervisor`);
  }
}

/** Lifecycle callbacks; Argo uses them for `argo_init` / `argo_destroy`. */
export interface DomainLifecycleHooks {
  /** After the domain is in the table, before `create` returns; `digest` is its credential's. */
  readonly created?: (domain: Domain, digest: Buffer) => void;
  /** After the domain left the table and is marked dead, before its memory is released. */
  readonly destroying?: (domain: Domain) => void;
  /** After the domain's credential was replaced: whatever the old one opened must end now. */
  readonly credentialRevoked?: (domain: Domain, digest: Buffer) => void;
}

/** Construction options of `DomainRegistry`. */
export interface DomainRegistryOptions {
  /** The hypervisor-wide budget every domain's memory is reserved from. */
  readonly quota: MemoryQuota;
  /** Largest `memoryBytes` one domain may ask for. */
  readonly maxDomainMemoryBytes: number;
}

/** Result of `DomainRegistry.create`. */
export interface CreatedDomain {
  readonly domain: Domain;
  /** The domain's bearer credential: returned once, stored only as a digest. */
  readonly credential: string;
}

/** The live domains of one hypervisor. */
export class DomainRegistry {
  readonly #quota: MemoryQuota;
  readonly #maxDomainMemoryBytes: number;
  readonly #domains = new Map<number, Domain>();
  readonly #digests = new Map<number, Buffer>();
  readonly #names = new Set<string>();
  readonly #hooks: DomainLifecycleHooks[] = [];
  #nextDomid = 1;

  constructor(options: DomainRegistryOptions) {
    if (
      !Number.isSafeInteger(options.maxDomainMemoryBytes) ||
      options.maxDomainMemoryBytes < MIN_DOMAIN_MEMORY_BYTES
    ) {
      throw new RangeError(
        `maxDomainMemoryBytes must be an integer >= ${MIN_DOMAIN_MEMORY_BYTES}, got ${String(options.maxDomainMemoryBytes)}`,
      );
    }
    this.#quota = options.quota;
    this.#maxDomainMemoryBytes = options.maxDomainMemoryBytes;
  }

  /** Adds lifecycle hooks; they run in the order added (teardown in the same order). */
  addHooks(hooks: DomainLifecycleHooks): void {
    this.#hooks.push(hooks);
  }

  /**
   * Creates a domain. Every field is validated before any state changes; a bad field throws
   * `DomainConfigError`, running out of domids throws `DomainIdsExhaustedError`, and a
   * `memoryBytes` the quota cannot reserve throws `MemoryQuotaExhaustedError` (no domid used).
   */
  create(config: DomainConfig): CreatedDomain {
    return this.#create(config, issueCredential);
  }

  /**
   * Recreates a domain from the state journal (`--state-dir`): the domid it had and its
   * credential's digest, so the guest's existing credential authenticates again. Domids the
   * journal skipped (refused creations) stay used.
   */
  restore(config: DomainConfig, domid: number, digest: Buffer): Domain {
    if (!Number.isSafeInteger(domid) || domid < this.#nextDomid || domid > DOMID_MAX) {
      throw new RangeError(
        `cannot restore domain ${domid}: the next free domid is ${this.#nextDomid}`,
      );
    }
    this.#nextDomid = domid;
    return this.#create(config, () => ({ credential: "", digest })).domain;
  }

  /** The digest of a live domain's credential (`--state-dir` snapshots keep it). */
  digestOf(domid: number): Buffer | undefined {
    return this.#digests.get(domid);
  }

  /** The domid the next creation takes: ids below it are used up in this run. */
  get nextDomid(): number {
    return this.#nextDomid;
  }

  /** Marks every domid below `next` used (a snapshot's counter, past destroyed domains). */
  restoreNextDomid(next: number): void {
    if (Number.isSafeInteger(next) && next > this.#nextDomid) this.#nextDomid = next;
  }

  /** Restores a replaced credential's digest (the state journal's credential record). */
  restoreCredential(domid: number, digest: Buffer): void {
    if (this.#domains.has(domid)) this.#digests.set(domid, digest);
  }

  #create(config: DomainConfig, issue: (domid: number) => IssuedCredential): CreatedDomain {
    this.#validate(config);
    if (this.#nextDomid > DOMID_MAX) throw new DomainIdsExhaustedError();
    // Reserve before taking a domid, so a refused domain leaves nothing behind.
    const memory = new GuestMemory(config.memoryBytes, this.#quota);
    const domid = this.#nextDomid++;
    const domain = new Domain({
      domid,
      name: config.name,
      label: config.label,
      memory,
      privileged: config.privileged === true,
    });
    const { credential, digest } = issue(domid);
    this.#domains.set(domid, domain);
    this.#digests.set(domid, digest);
    this.#names.add(domain.name);
    try {
      for (const hooks of this.#hooks) hooks.created?.(domain, digest);
    } catch (err) {
      // A failed init leaves nothing behind (the domid stays consumed: ids are never reused).
      this.destroy(domid);
      throw err;
    }
    return { domain, credential };
  }

  /** The live domain with this id (Xen `rcu_lock_domain_by_id`), or undefined. */
  get(domid: number): Domain | undefined {
    return this.#domains.get(domid);
  }

  /**
   * The live domain a credential belongs to, or undefined for a malformed, unknown, revoked or
   * wrong credential. The comparison is constant-time over SHA-256 digests.
   */
  authenticate(credential: string): Domain | undefined {
    const domid = credentialDomid(credential);
    const digest = domid === undefined ? undefined : this.#digests.get(domid);
    if (!verifyCredential(credential, digest) || domid === undefined) return undefined;
    return this.#domains.get(domid);
  }

  /**
   * Issues a new credential for a live domain and revokes the old one (enrolment resume: the
   * holder of the template's enrolment token takes the domain back). Undefined if no such domain.
   */
  rotateCredential(domid: number): string | undefined {
    const domain = this.#domains.get(domid);
    if (domain === undefined) return undefined;
    const { credential, digest } = issueCredential(domid);
    this.#digests.set(domid, digest);
    for (const hooks of this.#hooks) hooks.credentialRevoked?.(domain, digest);
    return credential;
  }

  /** The live domain with this name, or undefined. */
  byName(name: string): Domain | undefined {
    if (!this.#names.has(name)) return undefined;
    for (const d of this.#domains.values()) if (d.name === name) return d;
    return undefined;
  }

  /**
   * Destroys a live domain: marks it dead, removes it from the table (its credential stops
   * working), runs the `destroying` hooks (Argo teardown), then releases its memory and its
   * reservation. Returns false if there was no such live domain.
   */
  destroy(domid: number): boolean {
    const domain = this.#domains.get(domid);
    if (domain === undefined) return false;
    domain.alive = false;
    this.#domains.delete(domid);
    this.#digests.delete(domid);
    this.#names.delete(domain.name);
    try {
      for (const hooks of this.#hooks) hooks.destroying?.(domain);
    } finally {
      domain.memory.release();
    }
    return true;
  }

  /** Live domains in domid order. */
  list(): Domain[] {
    return [...this.#domains.values()];
  }

  /** Number of live domains. */
  get size(): number {
    return this.#domains.size;
  }

  #validate(config: DomainConfig): void {
    const { name, label, memoryBytes, privileged } = config;
    if (privileged !== undefined && typeof privileged !== "boolean") {
      throw new DomainConfigError("privileged", privileged, "must be true or false");
    }
    if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
      throw new DomainConfigError("name", name, "must be 1..64 characters of [A-Za-z0-9._-]");
    }
    if (this.#names.has(name)) {
      throw new DomainConfigError("name", name, "a live domain already has this name", "conflict");
    }
    if (typeof label !== "string" || !LABEL_PATTERN.test(label)) {
      throw new DomainConfigError("label", label, "must be 1..64 characters of [A-Za-z0-9_.:-]");
    }
    if (
      typeof memoryBytes !== "number" ||
      !Number.isSafeInteger(memoryBytes) ||
      memoryBytes % PAGE_SIZE !== 0
    ) {
      throw new DomainConfigError("memoryBytes", memoryBytes, `must be a multiple of ${PAGE_SIZE}`);
    }
    if (memoryBytes < MIN_DOMAIN_MEMORY_BYTES) {
      throw new DomainConfigError(
        "memoryBytes",
        memoryBytes,
        `must be at least ${MIN_DOMAIN_MEMORY_BYTES}`,
      );
    }
    if (memoryBytes > this.#maxDomainMemoryBytes) {
      throw new DomainConfigError(
        "memoryBytes",
        memoryBytes,
        `must be at most ${this.#maxDomainMemoryBytes}`,
      );
    }
  }
}

/** Renders a rejected value for an error message: strings quoted and cut at 80 characters. */
function quote(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  }
  if (typeof value === "bigint") return `${value}n`;
  return String(value);
}
