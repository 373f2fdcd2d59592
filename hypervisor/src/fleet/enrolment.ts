// SPDX-License-Identifier: Apache-2.0
/**
 * Enrolment: how a scaled guest with no pre-issued credential gets a domain. The operator
 * configures domain templates (label, memory, maximum count), each bound to a secret enrolment
 * token; a guest presenting the token and its instance name gets a domain of that template. The
 * same instance enrolling again resumes its live domain (same domid, rings intact) with a fresh
 * credential, which is how a restarted container finds its domain again. Every guest of a
 * template holds the same token, so resuming also needs the instance secret that only the first
 * enrolment received (the guest keeps it with its state): the token alone never hands one guest
 * another's live domain. An enrolled domain
 * whose guest stays away longer than the grace period is destroyed — full Argo teardown — so a
 * fleet that scales down does not leak domains. Tokens are compared in constant time and never
 * logged.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Logger } from "pino";
import type { CreatedDomain, DomainRegistry } from "../domain/domain-registry.js";
import { MemoryQuotaExhaustedError } from "../memory/memory-quota.js";

/** One template, as configured (`--enrolment-template NAME:LABEL:MEMORY:MAX`). */
export interface DomainTemplate {
  readonly name: string;
  readonly label: string;
  readonly memoryBytes: number;
  readonly maxDomains: number;
  /** The enrolment token (from `HMX_ENROLMENT_TOKEN_<NAME>`); kept only as a digest. */
  readonly token: string;
}

/** Why an enrolment was refused; the gRPC adapter maps `kind` to a status. */
export class EnrolmentError extends Error {
  override readonly name = "EnrolmentError";
  constructor(
    readonly kind: "unauthenticated" | "exhausted" | "invalid" | "conflict",
    message: string,
  ) {
    super(message);
  }
}

export interface Enrolled {
  readonly domid: number;
  readonly credential: string;
  readonly resumed: boolean;
  readonly template: string;
  /** A first enrolment's instance secret (returned once, kept as a digest); "" on resume. */
  readonly instanceSecret: string;
}

/**
 * A new enrolled instance, as `--state-dir` records it: its domain (whose creation is journaled
 * by the registry) and the digest of its instance secret, never the secret. Resuming changes
 * only the credential, which the registry journals; a reaped domain's destruction removes it.
 */
export interface EnrolmentRecord {
  readonly domid: number;
  readonly template: string;
  /** SHA-256 of the instance secret, hex. */
  readonly secretDigest: string;
}

const INSTANCE_PATTERN = /^[A-Za-z0-9._-]{1,48}$/;

interface TemplateState {
  readonly template: DomainTemplate;
  readonly digest: Buffer;
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value).digest();
}

export class EnrolmentService {
  readonly #registry: DomainRegistry;
  readonly #templates: TemplateState[];
  readonly #gracePeriodMs: number;
  readonly #log: Logger;
  /** Enrolled domid → its template, its instance secret's digest, when its guest was last seen. */
  readonly #enrolled = new Map<
    number,
    { template: string; secretDigest: Buffer; lastSeen: number }
  >();
  readonly #listeners: ((e: Enrolled) => void)[] = [];
  /** Told of every new enrolled instance before it is announced (the state journal records it). */
  onRecord: ((record: EnrolmentRecord) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    registry: DomainRegistry,
    templates: readonly DomainTemplate[],
    gracePeriodMs: number,
    log: Logger,
  ) {
    this.#registry = registry;
    this.#templates = templates.map((t) => ({ template: t, digest: digest(t.token) }));
    this.#gracePeriodMs = gracePeriodMs;
    this.#log = log;
  }

  /** Whether `token` is an enrolment token at all (a domain credential is the wrong kind). */
  #match(token: string): TemplateState | undefined {
    const presented = digest(token);
    let found: TemplateState | undefined;
    // Compare against every template, no early exit: the time taken says nothing about which.
    for (const t of this.#templates) if (timingSafeEqual(presented, t.digest)) found = t;
    return found;
  }

  /** Whether `token` is some template's enrolment token (checked before an Enrol body is read). */
  isToken(token: string): boolean {
    return this.#match(token) !== undefined;
  }

  enrol(token: string, instance: string, instanceSecret = "", now = Date.now()): Enrolled {
    const state = this.#match(token);
    if (state === undefined) throw new EnrolmentError("unauthenticated", "unknown enrolment token");
    const { template } = state;
    if (!INSTANCE_PATTERN.test(instance)) {
      throw new EnrolmentError(
        "invalid",
        `instance name ${JSON.stringify(instance.slice(0, 80))} must be 1..48 characters of [A-Za-z0-9._-]`,
      );
    }
    const name = `${template.name}-${instance}`;
    const existing = this.#registry.byName(name);
    const entry = existing === undefined ? undefined : this.#enrolled.get(existing.domid);
    if (existing !== undefined && entry?.template === template.name) {
      if (instanceSecret === "") {
        throw new EnrolmentError(
          "conflict",
          `instance ${JSON.stringify(instance)} of template ${JSON.stringify(template.name)} is live; resuming it needs the instance secret its first enrolment returned`,
        );
      }
      if (!timingSafeEqual(digest(instanceSecret), entry.secretDigest)) {
        throw new EnrolmentError(
          "unauthenticated",
          `wrong instance secret for instance ${JSON.stringify(instance)}`,
        );
      }
      // Rotating revokes the old credential; the registry's hook ends the old holder's streams.
      const credential = this.#registry.rotateCredential(existing.domid);
      if (credential !== undefined) {
        entry.lastSeen = now;
        this.#log.info(
          { domid: existing.domid, name, template: template.name },
          "enrolled domain resumed",
        );
        return this.#announce({
          domid: existing.domid,
          credential,
          resumed: true,
          template: template.name,
          instanceSecret: "",
        });
      }
    }
    if (existing !== undefined) {
      // A toolstack-made domain, or another template's, already has the name.
      throw new EnrolmentError(
        "conflict",
        `domain name ${JSON.stringify(name)} is taken by a domain that is not an enrolled instance of template ${JSON.stringify(template.name)}`,
      );
    }
    const count = [...this.#enrolled.values()].filter((e) => e.template === template.name).length;
    if (count >= template.maxDomains) {
      throw new EnrolmentError(
        "exhausted",
        `template ${JSON.stringify(template.name)} allows at most ${template.maxDomains} domains and all are in use`,
      );
    }
    // DomainRegistry validates the name (a taken name, e.g. a toolstack-made domain, is refused).
    const { domain, credential } = this.#createWithinQuota(template, name);
    const secret = randomBytes(32).toString("base64url");
    const secretDigest = digest(secret);
    this.#enrolled.set(domain.domid, { template: template.name, secretDigest, lastSeen: now });
    this.onRecord?.({
      domid: domain.domid,
      template: template.name,
      secretDigest: secretDigest.toString("hex"),
    });
    this.#log.info(
      { domid: domain.domid, name, template: template.name, label: template.label },
      "domain enrolled",
    );
    return this.#announce({
      domid: domain.domid,
      credential,
      resumed: false,
      template: template.name,
      instanceSecret: secret,
    });
  }

  /** Creates the template's domain; a total that cannot reserve its memory is "exhausted". */
  #createWithinQuota(template: DomainTemplate, name: string): CreatedDomain {
    try {
      return this.#registry.create({
        name,
        label: template.label,
        memoryBytes: template.memoryBytes,
      });
    } catch (err) {
      if (err instanceof MemoryQuotaExhaustedError) {
        throw new EnrolmentError(
          "exhausted",
          `template ${JSON.stringify(template.name)}: ${err.message}`,
        );
      }
      throw err;
    }
  }

  /**
   * Puts back an instance a state journal recorded (its domain already restored). Its guest is
   * last seen `now`: after a hypervisor restart every guest gets a whole grace period to return.
   * An instance whose domain is gone is not restored (the sweep would drop it anyway).
   */
  restore(record: EnrolmentRecord, now = Date.now()): void {
    if (this.#registry.get(record.domid) === undefined) return;
    this.#enrolled.set(record.domid, {
      template: record.template,
      secretDigest: Buffer.from(record.secretDigest, "hex"),
      lastSeen: now,
    });
  }

  /** Every enrolled instance whose domain is live, as `restore` takes them (snapshots). */
  records(): EnrolmentRecord[] {
    const out: EnrolmentRecord[] = [];
    for (const [domid, e] of this.#enrolled) {
      if (this.#registry.get(domid) === undefined) continue;
      out.push({ domid, template: e.template, secretDigest: e.secretDigest.toString("hex") });
    }
    return out;
  }

  /** Calls `listener` after every successful enrolment (new or resumed), before it is answered. */
  onEnrolled(listener: (e: Enrolled) => void): void {
    this.#listeners.push(listener);
  }

  /** The live enrolled domains of a template, oldest first. */
  domainsOf(template: string): number[] {
    const domids: number[] = [];
    for (const [domid, e] of this.#enrolled)
      if (e.template === template && this.#registry.get(domid) !== undefined) domids.push(domid);
    return domids;
  }

  #announce(e: Enrolled): Enrolled {
    for (const listener of this.#listeners) listener(e);
    return e;
  }

  /**
   * Destroys every enrolled domain whose guest has been disconnected for longer than the grace
   * period; returns the domids destroyed. `isConnected` says whether a guest stream is open.
   */
  sweep(
    isConnected: (domid: number) => boolean,
    onDestroyed: (domid: number) => void,
    now = Date.now(),
  ): number[] {
    const reaped: number[] = [];
    for (const [domid, entry] of this.#enrolled) {
      if (this.#registry.get(domid) === undefined) {
        this.#enrolled.delete(domid);
      } else if (isConnected(domid)) {
        entry.lastSeen = now;
      } else if (now - entry.lastSeen > this.#gracePeriodMs) {
        this.#enrolled.delete(domid);
        this.#registry.destroy(domid);
        onDestroyed(domid);
        reaped.push(domid);
        this.#log.info(
          { domid, template: entry.template, gracePeriodMs: this.#gracePeriodMs },
          "enrolled domain destroyed after its grace period",
        );
      }
    }
    return reaped;
  }

  /** Sweeps once a second (or faster for short grace periods) until `stop()`. */
  start(isConnected: (domid: number) => boolean, onDestroyed: (domid: number) => void): void {
    const period = Math.max(100, Math.min(1000, Math.floor(this.#gracePeriodMs / 4)));
    this.#timer = setInterval(() => this.sweep(isConnected, onDestroyed), period);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  get templateNames(): string[] {
    return this.#templates.map((t) => t.template.name);
  }
}
