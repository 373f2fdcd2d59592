// SPDX-License-Identifier: Apache-2.0
/**
 * The toolstack's virtio device placement (virtio-argo.md §4.1: the toolstack "creates domains,
 * assigns labels, writes each FE's virtual ACPI device table (§4.4), starts BEs"; §4.3: the port
 * plan). For every device of a front-end domain it records the back-end domain, picks the
 * device's index and its two ports, and keeps two tables in step: the front end's (one
 * `frontend` entry per device it drives) and the back end's (one `backend` entry per device it
 * hosts, carrying what only the back end needs: the front end's name and the image path). Each
 * change rewrites gfn 0 of both domains with a new generation and raises a `device_added` or
 * `device_removed` event on both (virtio-argo.md §4.4: "Hotplug is an HV event
 * DEVICE_ADDED/REMOVED"). When either end is destroyed, its devices go and the survivor's table
 * is rewritten, so a back end stops serving a dead front end and a front end sees its disk go.
 *
 * Validation happens before anything changes (DESIGN.md §4 "validated before any state
 * changes"): a bad spec is a `DeviceConfigError` naming the field, and nothing is written.
 */
import {
  DOMID_MAX,
  VARG_MAX_ENTRIES,
  VIRTIO_ARGO_BLK_RING_LEN,
  VIRTIO_ARGO_DEFAULT_RING_LEN,
  VIRTIO_ARGO_MAX_DEVICES,
  VargFlag,
  VargRole,
  VIRTIO_ID_BLOCK,
  VIRTIO_ID_CONSOLE,
  VIRTIO_ID_NET,
  virtioArgoPorts,
} from "@hmx/proto/abi";
import type { Logger } from "pino";
import type { DomainRegistry } from "../domain/domain-registry.js";
import type { Domain } from "../domain/domain.js";
import type { DeviceEvent } from "../events/event-channel.js";
import { encodeVargTable, type VargEntry } from "./varg-table.js";

/** VirtIO device IDs hmx can place (VirtIO 1.2 §5). */
export const DeviceTypeId = {
  net: VIRTIO_ID_NET,
  blk: VIRTIO_ID_BLOCK,
  console: VIRTIO_ID_CONSOLE,
} as const;

/** Per-type facts the table carries (queues, largest queue, config bytes, default ring length). */
const TYPE_FACTS: Record<
  number,
  { name: string; queues: number; queueSize: number; configSize: number; ringLen: number }
> = {
  [DeviceTypeId.net]: {
    name: "eth",
    queues: 3,
    queueSize: 256,
    configSize: 12,
    ringLen: VIRTIO_ARGO_DEFAULT_RING_LEN,
  },
  [DeviceTypeId.blk]: {
    name: "vd",
    queues: 1,
    queueSize: 256,
    configSize: 72,
    ringLen: VIRTIO_ARGO_BLK_RING_LEN,
  },
  [DeviceTypeId.console]: {
    name: "hvc",
    queues: 2,
    queueSize: 64,
    configSize: 12,
    ringLen: VIRTIO_ARGO_DEFAULT_RING_LEN,
  },
};

/** What a caller asks for (the `DeviceSpec` message, without proto types). */
export interface DeviceSpecInput {
  readonly type: number;
  readonly backendDomid: number;
  readonly name?: string;
  readonly capacityBytes?: number;
  readonly readOnly?: boolean;
  readonly imagePath?: string;
  readonly mac?: string;
  readonly queueSize?: number;
  readonly ringLen?: number;
}

/** A spec with every default filled in. */
export interface DeviceSpec {
  readonly type: number;
  readonly backendDomid: number;
  readonly name: string;
  readonly capacityBytes: number;
  readonly readOnly: boolean;
  readonly imagePath: string;
  readonly mac: string;
  readonly queueSize: number;
  readonly ringLen: number;
}

/** A device as placed. */
export interface PlacedDevice {
  readonly frontendDomid: number;
  readonly devIndex: number;
  readonly spec: DeviceSpec;
  readonly backendPort: number;
  readonly frontendPort: number;
}

/** A spec the toolstack refuses; `field` names the offending field. */
export class DeviceConfigError extends Error {
  override readonly name = "DeviceConfigError";
  constructor(
    readonly kind: "invalid" | "notFound" | "exhausted",
    message: string,
  ) {
    super(message);
  }
}

/**
 * A placement change made through `attach` or `detach` (with every default filled in), which is
 * all `--state-dir` needs to rebuild the placements and both tables at gfn 0 by replaying it.
 * Removals caused by a domain's destruction are not changes of their own: replaying the
 * destruction removes the devices again.
 */
export type DeviceChange =
  | { readonly kind: "attached"; readonly frontendDomid: number; readonly specs: DeviceSpec[] }
  | { readonly kind: "detached"; readonly frontendDomid: number; readonly devIndex: number };

/** The whole placement state, as a snapshot keeps it. */
export interface DeviceState {
  readonly devices: readonly PlacedDevice[];
  /** Each domain's table generation. */
  readonly generations: readonly (readonly [number, number])[];
}

/** Where device events go (the hypervisor's `EventChannel`). */
export interface DeviceEventSink {
  raiseDeviceEvent(domid: number, event: DeviceEvent): void;
}

const DEFAULT_CAPACITY_BYTES = 16 * 1024 * 1024;
const MAX_CAPACITY_BYTES = 1024 * 1024 * 1024 * 1024;
const MIN_RING_LEN = 8192;
const MAX_RING_LEN = 4 * 1024 * 1024;
const NAME_RE = /^[A-Za-z0-9._-]{1,31}$/;
const IMAGE_RE = /^[A-Za-z0-9._-][A-Za-z0-9._/-]{0,62}$/;
const MAC_RE = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/;

function parseMac(text: string): Uint8Array {
  return Uint8Array.from(text.split(":").map((h) => Number.parseInt(h, 16)));
}

/** Places devices, keeps both ends' tables at gfn 0 current, and raises device events. */
export class DeviceManager {
  readonly #registry: DomainRegistry;
  readonly #events: DeviceEventSink;
  readonly #log: Logger;
  /** Devices by front-end domid, in index order. */
  readonly #byFrontend = new Map<number, PlacedDevice[]>();
  readonly #generation = new Map<number, number>();
  /** Told of every placement change after it is made (the state journal records it). */
  onChange: ((change: DeviceChange) => void) | undefined;

  constructor(options: { registry: DomainRegistry; events: DeviceEventSink; log: Logger }) {
    this.#registry = options.registry;
    this.#events = options.events;
    this.#log = options.log;
    this.#registry.addHooks({
      destroying: (d) => {
        this.#domainDestroyed(d);
      },
    });
  }

  /** Devices of one front end, or of every front end. */
  list(frontendDomid?: number): PlacedDevice[] {
    if (frontendDomid !== undefined) return [...(this.#byFrontend.get(frontendDomid) ?? [])];
    return [...this.#byFrontend.values()].flat();
  }

  /** Every placement and table generation (`--state-dir` snapshots). */
  exportState(): DeviceState {
    return { devices: this.list(), generations: [...this.#generation] };
  }

  /**
   * Puts back what `exportState` returned, without writing tables or raising events: the
   * snapshot restores the tables' pages with the rest of guest memory. Only on an empty manager.
   */
  restoreState(state: DeviceState): void {
    if (this.#byFrontend.size !== 0 || this.#generation.size !== 0) {
      throw new Error("device placements are restored only into an empty device manager");
    }
    for (const d of state.devices) {
      const list = this.#byFrontend.get(d.frontendDomid) ?? [];
      list.push(d);
      this.#byFrontend.set(d.frontendDomid, list);
    }
    for (const [domid, generation] of state.generations) this.#generation.set(domid, generation);
  }

  /** Devices a back end hosts. */
  hostedBy(backendDomid: number): PlacedDevice[] {
    return this.list().filter((d) => d.spec.backendDomid === backendDomid);
  }

  /**
   * Validates every spec, then places them all on `frontendDomid` (all or nothing), rewrites the
   * tables and raises the events. Throws `DeviceConfigError`.
   */
  attach(frontendDomid: number, specs: readonly DeviceSpecInput[]): PlacedDevice[] {
    const fe = this.#live(frontendDomid, "front-end domid");
    const existing = this.#byFrontend.get(frontendDomid) ?? [];
    const used = new Set(existing.map((d) => d.devIndex));
    const names = new Set(existing.map((d) => d.spec.name));
    const placed: PlacedDevice[] = [];
    const hostedCount = new Map<number, number>();
    for (const [i, input] of specs.entries()) {
      const spec = this.#normalise(fe, input, i, [...existing, ...placed]);
      if (names.has(spec.name))
        throw new DeviceConfigError(
          "invalid",
          `devices[${i}].name: "${spec.name}" is already used by domain ${frontendDomid}`,
        );
      names.add(spec.name);
      let devIndex = 0;
      while (used.has(devIndex)) devIndex++;
      if (devIndex >= VIRTIO_ARGO_MAX_DEVICES) {
        throw new DeviceConfigError(
          "exhausted",
          `domain ${frontendDomid} has the most devices a table can hold (${VIRTIO_ARGO_MAX_DEVICES})`,
        );
      }
      used.add(devIndex);
      const ports = virtioArgoPorts(devIndex, spec.type);
      placed.push({
        frontendDomid,
        devIndex,
        spec,
        backendPort: ports.bePort,
        frontendPort: ports.fePort,
      });
      hostedCount.set(spec.backendDomid, (hostedCount.get(spec.backendDomid) ?? 0) + 1);
    }
    // Both tables must still fit in one page.
    if (this.#entriesOf(frontendDomid).length + placed.length > VARG_MAX_ENTRIES) {
      throw new DeviceConfigError(
        "exhausted",
        `domain ${frontendDomid}'s device table would exceed ${VARG_MAX_ENTRIES} entries`,
      );
    }
    for (const [be, n] of hostedCount) {
      if (this.#entriesOf(be).length + n > VARG_MAX_ENTRIES) {
        throw new DeviceConfigError(
          "exhausted",
          `back end ${be}'s device table would exceed ${VARG_MAX_ENTRIES} entries`,
        );
      }
    }
    if (placed.length === 0) return [];
    this.#byFrontend.set(
      frontendDomid,
      [...existing, ...placed].sort((a, b) => a.devIndex - b.devIndex),
    );
    const touched = new Set([frontendDomid, ...hostedCount.keys()]);
    for (const domid of touched) this.#writeTable(domid);
    this.onChange?.({ kind: "attached", frontendDomid, specs: placed.map((d) => d.spec) });
    for (const d of placed) {
      this.#raise(d, "added");
      this.#log.info(
        {
          frontend: frontendDomid,
          devIndex: d.devIndex,
          type: d.spec.type,
          backend: d.spec.backendDomid,
          name: d.spec.name,
        },
        "virtio device attached",
      );
    }
    return placed;
  }

  /** Removes device `devIndex` of `frontendDomid`; throws `DeviceConfigError` (notFound). */
  detach(frontendDomid: number, devIndex: number): PlacedDevice {
    const list = this.#byFrontend.get(frontendDomid) ?? [];
    const device = list.find((d) => d.devIndex === devIndex);
    if (device === undefined)
      throw new DeviceConfigError("notFound", `domain ${frontendDomid} has no device ${devIndex}`);
    this.#remove([device]);
    this.onChange?.({ kind: "detached", frontendDomid, devIndex });
    this.#log.info({ frontend: frontendDomid, devIndex }, "virtio device detached");
    return device;
  }

  #remove(devices: readonly PlacedDevice[]): void {
    const touched = new Set<number>();
    for (const d of devices) {
      const list = (this.#byFrontend.get(d.frontendDomid) ?? []).filter((x) => x !== d);
      if (list.length === 0) this.#byFrontend.delete(d.frontendDomid);
      else this.#byFrontend.set(d.frontendDomid, list);
      touched.add(d.frontendDomid);
      touched.add(d.spec.backendDomid);
    }
    for (const domid of touched) {
      if (this.#registry.get(domid)?.alive === true) this.#writeTable(domid);
    }
    for (const d of devices) this.#raise(d, "removed");
  }

  #domainDestroyed(domain: Domain): void {
    const gone = this.list().filter(
      (d) => d.frontendDomid === domain.domid || d.spec.backendDomid === domain.domid,
    );
    this.#generation.delete(domain.domid);
    if (gone.length > 0) this.#remove(gone);
  }

  #raise(d: PlacedDevice, kind: "added" | "removed"): void {
    for (const [domid, role, peer] of [
      [d.frontendDomid, VargRole.frontend, d.spec.backendDomid],
      [d.spec.backendDomid, VargRole.backend, d.frontendDomid],
    ] as const) {
      if (this.#registry.get(domid)?.alive !== true) continue;
      this.#events.raiseDeviceEvent(domid, {
        kind,
        devIndex: d.devIndex,
        virtioDeviceId: d.spec.type,
        peerDomid: peer,
        role,
        tableGeneration: this.#generation.get(domid) ?? 0,
      });
    }
  }

  /** Both roles' entries of one domain's table. */
  #entriesOf(domid: number): VargEntry[] {
    const entries: VargEntry[] = [];
    for (const d of this.list()) {
      const facts = TYPE_FACTS[d.spec.type];
      if (facts === undefined) continue;
      const common = {
        devIndex: d.devIndex,
        flags: d.spec.readOnly ? VargFlag.readOnly : 0,
        deviceId: d.spec.type,
        bePort: d.backendPort,
        fePort: d.frontendPort,
        numQueues: facts.queues,
        queueSizeMax: d.spec.queueSize,
        configSize: facts.configSize,
        ringLen: d.spec.ringLen,
        capacitySectors: d.spec.type === DeviceTypeId.blk ? BigInt(d.spec.capacityBytes / 512) : 0n,
        mac: d.spec.type === DeviceTypeId.net ? parseMac(d.spec.mac) : new Uint8Array(6),
      };
      if (d.frontendDomid === domid) {
        entries.push({
          ...common,
          role: VargRole.frontend,
          peerDomid: d.spec.backendDomid,
          name: d.spec.name,
          option: "",
        });
      }
      if (d.spec.backendDomid === domid) {
        const fe = this.#registry.get(d.frontendDomid);
        entries.push({
          ...common,
          role: VargRole.backend,
          peerDomid: d.frontendDomid,
          name: (fe?.name ?? `dom${d.frontendDomid}`).slice(0, 31),
          option: d.spec.type === DeviceTypeId.blk ? d.spec.imagePath : "",
        });
      }
    }
    return entries;
  }

  #writeTable(domid: number): void {
    const domain = this.#registry.get(domid);
    if (domain?.alive !== true) return;
    const generation = (this.#generation.get(domid) ?? 0) + 1;
    this.#generation.set(domid, generation);
    const page = encodeVargTable({ domid, generation }, this.#entriesOf(domid));
    const result = domain.memory.write(0, page);
    if (result !== "ok") {
      // Cannot happen (gfn 0 lies in every domain, whose memory is reserved whole at creation);
      // kept so a future change to GuestMemory cannot silently drop the table.
      this.#log.error({ domid, result }, "cannot write the virtual ACPI device table");
      throw new DeviceConfigError(
        "exhausted",
        `cannot write domain ${domid}'s device table (${result})`,
      );
    }
  }

  #live(domid: number, field: string): Domain {
    const d =
      Number.isInteger(domid) && domid >= 1 && domid <= DOMID_MAX
        ? this.#registry.get(domid)
        : undefined;
    if (d?.alive !== true)
      throw new DeviceConfigError("notFound", `${field}: no domain with domid ${domid}`);
    return d;
  }

  #normalise(
    fe: Domain,
    s: DeviceSpecInput,
    i: number,
    siblings: readonly PlacedDevice[],
  ): DeviceSpec {
    const where = `devices[${i}]`;
    const facts = TYPE_FACTS[s.type];
    if (facts === undefined)
      throw new DeviceConfigError(
        "invalid",
        `${where}.type: ${s.type} is not net (1), blk (2) or console (3)`,
      );
    const be = this.#live(s.backendDomid, `${where}.backend_domid`);
    if (be.domid === fe.domid)
      throw new DeviceConfigError(
        "invalid",
        `${where}.backend_domid: a domain cannot be its own back end`,
      );
    const sameType = siblings.filter((d) => d.spec.type === s.type).length;
    const name = s.name === undefined || s.name === "" ? `${facts.name}${sameType}` : s.name;
    if (!NAME_RE.test(name))
      throw new DeviceConfigError(
        "invalid",
        `${where}.name: "${name.slice(0, 40)}" must be 1..31 characters of [A-Za-z0-9._-]`,
      );
    const capacityBytes =
      s.capacityBytes === undefined || s.capacityBytes === 0
        ? DEFAULT_CAPACITY_BYTES
        : s.capacityBytes;
    if (
      !Number.isSafeInteger(capacityBytes) ||
      capacityBytes % 512 !== 0 ||
      capacityBytes > MAX_CAPACITY_BYTES
    ) {
      throw new DeviceConfigError(
        "invalid",
        `${where}.capacity_bytes: ${capacityBytes} is not a multiple of 512 up to 1 TiB`,
      );
    }
    const imagePath =
      s.imagePath === undefined || s.imagePath === ""
        ? `${fe.name}-${name}.img`.slice(0, 63)
        : s.imagePath;
    if (!IMAGE_RE.test(imagePath) || imagePath.split("/").includes("..")) {
      throw new DeviceConfigError(
        "invalid",
        `${where}.image_path: "${imagePath.slice(0, 80)}" must be a relative path of [A-Za-z0-9._/-], at most 63 characters, without ".."`,
      );
    }
    const mac =
      s.mac === undefined || s.mac === "" ? defaultMac(fe.domid, sameType) : s.mac.toLowerCase();
    if (!MAC_RE.test(mac) || (parseMac(mac)[0] ?? 1) & 1) {
      throw new DeviceConfigError(
        "invalid",
        `${where}.mac: "${mac.slice(0, 40)}" is not a unicast MAC address xx:xx:xx:xx:xx:xx`,
      );
    }
    const queueSize =
      s.queueSize === undefined || s.queueSize === 0 ? facts.queueSize : s.queueSize;
    if (
      !Number.isInteger(queueSize) ||
      queueSize < 1 ||
      queueSize > 1024 ||
      (queueSize & (queueSize - 1)) !== 0
    ) {
      throw new DeviceConfigError(
        "invalid",
        `${where}.queue_size: ${queueSize} is not a power of two in [1, 1024]`,
      );
    }
    const ringLen = s.ringLen === undefined || s.ringLen === 0 ? facts.ringLen : s.ringLen;
    if (
      !Number.isInteger(ringLen) ||
      ringLen % 16 !== 0 ||
      ringLen < MIN_RING_LEN ||
      ringLen > MAX_RING_LEN
    ) {
      throw new DeviceConfigError(
        "invalid",
        `${where}.ring_len: ${ringLen} is not a multiple of 16 in [${MIN_RING_LEN}, ${MAX_RING_LEN}]`,
      );
    }
    return {
      type: s.type,
      backendDomid: be.domid,
      name,
      capacityBytes,
      readOnly: s.readOnly ?? false,
      imagePath,
      mac,
      queueSize,
      ringLen,
    };
  }
}

/** 52:54:00 (the QEMU/KVM locally administered prefix), then the domid and the net index. */
function defaultMac(domid: number, index: number): string {
  const b = [0x52, 0x54, 0x00, (domid >> 8) & 0xff, domid & 0xff, index & 0xff];
  return b.map((x) => x.toString(16).padStart(2, "0")).join(":");
}
