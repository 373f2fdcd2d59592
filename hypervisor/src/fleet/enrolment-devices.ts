// SPDX-License-Identifier: Apache-2.0
/**
 * Devices for enrolled domains: how a container fleet gets VirtIO devices without a toolstack
 * script. The operator says which template's domains get which devices from which back-end
 * template (`--enrolment-devices guest:vbackend:blk,net,console`); the back-end template holds
 * exactly one domain, the driver domain. Whichever of the two enrols first, the devices are
 * placed as soon as both exist — a front end enrolling after the back end gets them at once, a
 * back end enrolling (or re-enrolling after its domain was reaped) gives them to every live
 * front end — through the same DeviceManager as the Toolstack's AttachDevice, so the tables and
 * hot-add events are the ones the guests already follow (docs/virtio-argo.md "Discovery").
 * A domain that resumes keeps the devices it has; destroying either end removes them.
 */
import type { Logger } from "pino";
import { DeviceConfigError, DeviceTypeId, type DeviceManager } from "../devices/device-manager.js";
import type { Enrolled } from "./enrolment.js";

export type EnrolmentDeviceType = keyof typeof DeviceTypeId;

/** One `--enrolment-devices FRONTEND:BACKEND:TYPE[,TYPE...]` rule. */
export interface EnrolmentDeviceRule {
  /** The template whose domains get the devices. */
  readonly frontendTemplate: string;
  /** The template of the driver domain serving them (a template of at most one domain). */
  readonly backendTemplate: string;
  /** One device of each type, in this order (so `eth`, `vd`, `hvc` names are stable). */
  readonly types: readonly EnrolmentDeviceType[];
}

/** Which enrolled domains a template has now (EnrolmentService.domainsOf). */
export type DomainsOfTemplate = (template: string) => readonly number[];

export class EnrolmentDevices {
  readonly #rules: readonly EnrolmentDeviceRule[];
  readonly #devices: DeviceManager;
  readonly #domainsOf: DomainsOfTemplate;
  readonly #log: Logger;

  constructor(
    rules: readonly EnrolmentDeviceRule[],
    devices: DeviceManager,
    domainsOf: DomainsOfTemplate,
    log: Logger,
  ) {
    this.#rules = rules;
    this.#devices = devices;
    this.#domainsOf = domainsOf;
    this.#log = log;
  }

  /** Called after every successful enrolment. */
  enrolled(e: Enrolled): void {
    if (e.resumed) return; // same domain, same devices (and the table says so)
    for (const rule of this.#rules) {
      if (rule.frontendTemplate === e.template) {
        const backend = this.#domainsOf(rule.backendTemplate)[0];
        if (backend === undefined) {
          this.#log.info(
            { domid: e.domid, backendTemplate: rule.backendTemplate },
            "devices wait for their back end to enrol",
          );
        } else {
          this.#place(e.domid, backend, rule);
        }
      }
      if (rule.backendTemplate === e.template) {
        for (const frontend of this.#domainsOf(rule.frontendTemplate))
          this.#place(frontend, e.domid, rule);
      }
    }
  }

  #place(frontend: number, backend: number, rule: EnrolmentDeviceRule): void {
    // Idempotent per pair: a front end that already has devices from this back end keeps them.
    if (this.#devices.list(frontend).some((d) => d.spec.backendDomid === backend)) return;
    try {
      const placed = this.#devices.attach(
        frontend,
        rule.types.map((t) => ({ type: DeviceTypeId[t], backendDomid: backend })),
      );
      this.#log.info(
        { frontend, backend, devices: placed.map((d) => `${d.spec.name}(${d.devIndex})`) },
        "enrolment devices placed",
      );
    } catch (err) {
      // A full table or a bad image path must not fail the enrolment itself: the guest runs
      // without these devices, and the reason is on record.
      if (!(err instanceof DeviceConfigError)) throw err;
      this.#log.error(
        { frontend, backend, err: err.message },
        "enrolment devices could not be placed",
      );
    }
  }
}
