// SPDX-License-Identifier: Apache-2.0
/**
 * `HostedDevice`: one device model served to one front end over Argo — the back end's half of
 * the virtio-argo transport (virtio-argo.md §4.5, §4.6 steps 4–5), QEMU's role. It owns the
 * device's channel (a unicast ring on the back-end port, partner = the front end), a
 * `VirtioDeviceController` (the status table, features, config, queue setup: the same control
 * plane the loopback transport uses) and one `RemoteDeviceQueue` per live queue.
 *
 * Messages are handled strictly in arrival order, one at a time (§4.5: "The BE MUST process
 * requests in order"): a control request gets exactly one response with its token; a reset
 * (status 0) is answered only after the model has quiesced, so no completion can follow it;
 * so is RESET_VQUEUE for its one queue (VIRTIO_F_RING_RESET; refused with -EOPNOTSUPP when not
 * negotiated, -EINVAL for a queue that does not exist or a device that needs a reset).
 * SET_CONFIG names the config generation the front end saw; a stale one is refused with
 * -EAGAIN and nothing is written (reference §4.5 "the BE rejects a stale generation").
 * EVENT_AVAIL feeds the queues and is the kick.
 *
 * Completions are coalesced per event-loop turn: a model completes requests one I/O callback at
 * a time, and a multicall per completion would cost the back end (and the front end's drain) a
 * round trip each. So `signalUsed` only collects; one `setImmediate` per turn packs everything
 * collected into as few EVENT_USED messages as fit, handed to the channel together (one
 * multicall). Anything else this device sends (a control response, EVENT_CONFIG) first sends
 * the collected completions, so the order the front end sees is the order things happened, and a
 * reset drops them with the queues (no completion follows a reset's answer).
 *
 * Every malformed message is counted and logged
 * rate-limited; one on a live device breaks it (DEVICE_NEEDS_RESET, and EVENT_CONFIG tells the
 * front end), one before DRIVER_OK is only dropped. Nothing here throws past the channel.
 */
import { maxMessageSize, VIRTIO_ARGO_VENDOR_ID } from "@hmx/proto/abi";
import {
  ConfigSpaceError,
  ConfigSpaceErrorKind,
  VirtioDeviceController,
  type VirtioDevice,
  FloodGuard,
  ViolationKind,
  ViolationLog,
  QueueResetRefusal,
} from "@hmx/virtio";
import { packUsed, type CompletedChain } from "../wire/fragmenter.js";
import {
  VioaDecodeError,
  VioaMsg,
  decodeControlRequest,
  decodeFrame,
  encodeControlResponse,
  encodeEventConfig,
  encodeHeader,
  encodeMessage,
  VIOA_HEADER_SIZE,
  type ControlRequest,
  type ControlResponseBody,
} from "../wire/messages.js";
import { decodeAvailEvent, usedEventParts } from "../wire/records.js";
import { TransportErrno } from "../wire/transport-error.js";
import type { VioaChannel } from "../channel/vioa-channel.js";
import type { VioaHub } from "../channel/vioa-hub.js";
import { RemoteDeviceQueue, type RemoteQueueLimits } from "./remote-device-queue.js";

/** Where one hosted device is reached (a back-end entry of the VARG table). */
export interface HostedDeviceBinding {
  readonly devIndex: number;
  readonly frontendDomid: number;
  readonly bePort: number;
  readonly fePort: number;
  readonly ringLen: number;
}

export interface HostedDeviceOptions {
  readonly hub: VioaHub;
  readonly binding: HostedDeviceBinding;
  readonly device: VirtioDevice;
  readonly violations?: ViolationLog;
  readonly limits?: Partial<RemoteQueueLimits>;
  /** Messages per second above which a flood is reported (default 200 000). */
  readonly floodLimit?: number;
}

export interface HostedDeviceStats {
  messages: number;
  controlRequests: number;
  availChains: number;
  usedChains: number;
  usedMessages: number;
  usedBytes: number;
  malformed: number;
  sendErrors: number;
}

/** One device served over Argo (see the module comment). */
export class HostedDevice {
  readonly binding: HostedDeviceBinding;
  readonly device: VirtioDevice;
  readonly controller: VirtioDeviceController<null>;
  readonly violations: ViolationLog;
  readonly stats: HostedDeviceStats = {
    messages: 0,
    controlRequests: 0,
    availChains: 0,
    usedChains: 0,
    usedMessages: 0,
    usedBytes: 0,
    malformed: 0,
    sendErrors: 0,
  };
  readonly #hub: VioaHub;
  readonly #limits: RemoteQueueLimits;
  readonly #queues = new Map<number, RemoteDeviceQueue>();
  readonly #flood: FloodGuard;
  #channel: VioaChannel | undefined;
  /** Completions collected this event-loop turn, per queue, in completion order. */
  #used = new Map<number, CompletedChain[]>();
  #usedFlush: NodeJS.Immediate | undefined;
  #serial: Promise<void> = Promise.resolve();
  #epoch = 0;
  #stopped = false;
  #frozen = false;

  constructor(o: HostedDeviceOptions) {
    this.#hub = o.hub;
    this.binding = o.binding;
    this.device = o.device;
    this.violations = o.violations ?? new ViolationLog();
    this.#flood = new FloodGuard(o.floodLimit ?? 200_000);
    this.#limits = {
      maxChainBytes: o.limits?.maxChainBytes ?? 2 * 1024 * 1024 + 4096,
      maxInflightBytes: o.limits?.maxInflightBytes ?? 64 * 1024 * 1024,
    };
    this.controller = new VirtioDeviceController<null>({
      device: o.device,
      violations: this.violations,
      onConfigChange: () => {
        this.#sendConfigEvent();
      },
      createQueue: (setup, _features, hooks) => {
        const epoch = this.#epoch;
        const q = new RemoteDeviceQueue(
          setup.index,
          setup.size,
          {
            violations: this.violations,
            onBroken: hooks.onBroken,
            sendUsed: (queue, done) => {
              if (epoch === this.#epoch) this.#sendUsed(queue, done);
            },
          },
          this.#limits,
        );
        this.#queues.set(setup.index, q);
        return q;
      },
    });
  }

  /** Registers the device's ring; rejects like `VioaHub.open` (EACCES when MAC refuses it). */
  async start(): Promise<void> {
    const b = this.binding;
    this.#channel = await this.#hub.open({
      aport: b.bePort,
      peerDomid: b.frontendDomid,
      peerPort: b.fePort,
      ringLen: b.ringLen,
      stagingBytes: usedStagingBytes(b.ringLen),
      onMessage: (m) => {
        this.#serial = this.#serial
          .then(() => this.#handle(m))
          .catch((err: unknown) => {
            this.violations.report(ViolationKind.malformedRequest, {
              reason: `handler failed: ${String(err)}`,
              side: "backend",
            });
          });
      },
    });
  }

  /** Stops serving: the model is reset (quiesced) and the ring unregistered. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#dropQueues();
    await this.controller.reset().catch(() => undefined);
    await this.#channel?.close();
  }

  /** Stops answering without unregistering: what a hung back end looks like (tests). */
  freeze(): void {
    this.#frozen = true;
  }

  /** Answers again after `freeze` (what it dropped meanwhile stays dropped). */
  thaw(): void {
    this.#frozen = false;
  }

  get channel(): VioaChannel | undefined {
    return this.#channel;
  }

  async #handle(data: Buffer): Promise<void> {
    if (this.#stopped || this.#frozen) return;
    this.stats.messages++;
    if (this.#flood.hit())
      this.violations.report(ViolationKind.notificationFlood, {
        device: this.device.name,
        side: "backend",
      });
    let frame;
    try {
      frame = decodeFrame(data);
      if (frame.devId !== this.binding.devIndex)
        throw new VioaDecodeError(
          `dev_id ${frame.devId} on device ${this.binding.devIndex}'s ring`,
        );
      if (frame.response) throw new VioaDecodeError("a response sent to the back end");
    } catch (err) {
      this.#malformed(err);
      return;
    }
    if (frame.msgId === VioaMsg.EVENT_AVAIL) {
      this.#onAvail(frame.payload);
      return;
    }
    let req: ControlRequest;
    try {
      req = decodeControlRequest(frame.msgId, frame.payload);
    } catch (err) {
      // Still answer, so the front end's one outstanding request does not hang on our refusal.
      this.#malformed(err, false);
      this.#respond(frame.msgId, frame.token, -TransportErrno.EINVAL);
      return;
    }
    this.stats.controlRequests++;
    const { ret, body } = await this.#execute(req);
    this.#respond(frame.msgId, frame.token, ret, body);
  }

  async #execute(req: ControlRequest): Promise<{ ret: number; body?: ControlResponseBody }> {
    const c = this.controller;
    switch (req.id) {
      case VioaMsg.DEVICE_INFO:
        return {
          ret: 0,
          body: {
            id: req.id,
            deviceId: this.device.deviceType,
            vendorId: VIRTIO_ARGO_VENDOR_ID,
            numFeatureBits: 128,
            configSize: c.config.size,
            maxVqCount: this.device.queueMaxSizes.length,
          },
        };
      case VioaMsg.GET_DEV_FEATURES: {
        const words: number[] = [];
        for (let i = 0; i < req.num; i++)
          words.push(Number((c.deviceFeatures >> BigInt(32 * (req.index + i))) & 0xffff_ffffn));
        return { ret: 0, body: { id: req.id, index: req.index, words } };
      }
      case VioaMsg.SET_DRV_FEATURES: {
        const features = req.words.reduce(
          (acc, w, i) => acc | (BigInt(w >>> 0) << BigInt(32 * (req.index + i))),
          0n,
        );
        c.setDriverFeatures(features);
        return { ret: 0, body: { id: req.id } };
      }
      case VioaMsg.GET_CONFIG: {
        try {
          const bytes = req.size === 0 ? new Uint8Array(0) : c.config.read(req.offset, req.size);
          return {
            ret: 0,
            body: { id: req.id, generation: c.config.generation, offset: req.offset, bytes },
          };
        } catch (err) {
          return { ret: -this.#configErrno(err, req.offset) };
        }
      }
      case VioaMsg.SET_CONFIG:
        try {
          c.writeConfig(req.offset, req.bytes, req.generation);
          return { ret: 0, body: { id: req.id } };
        } catch (err) {
          return { ret: -this.#configErrno(err, req.offset) };
        }
      case VioaMsg.GET_DEVICE_STATUS:
        return { ret: 0, body: { id: req.id, status: c.status } };
      case VioaMsg.SET_DEVICE_STATUS:
        if (req.status === 0) {
          // Quiesce first (the model waits for its in-flight work), then answer (§4.5).
          this.#dropQueues();
          await c.setStatus(0);
          this.#dropQueues();
        } else {
          await c.setStatus(req.status);
        }
        return { ret: 0, body: { id: req.id, status: c.status } };
      case VioaMsg.GET_VQUEUE:
        return {
          ret: 0,
          body: { id: req.id, index: req.index, maxSize: c.queueMaxSize(req.index) },
        };
      case VioaMsg.SET_VQUEUE:
        return c.setupQueue(req.index, req.size, null)
          ? { ret: 0, body: { id: req.id } }
          : { ret: -TransportErrno.EINVAL };
      case VioaMsg.RESET_VQUEUE: {
        // Stop the queue's traffic first (nothing more is sent for it), then let the model
        // quiesce it; the answer goes out only after that, so no USED of it can follow.
        const q = this.#queues.get(req.index);
        const r = await c.resetQueue(req.index);
        if (!r.ok)
          return {
            ret: -(r.refusal === QueueResetRefusal.notNegotiated
              ? TransportErrno.EOPNOTSUPP
              : TransportErrno.EINVAL),
          };
        if (q !== undefined && this.#queues.get(req.index) === q) {
          q.discard();
          this.#queues.delete(req.index);
        }
        // Completions of this queue collected this turn belong to the queue's old life: the
        // front end has let those requests go, so they are dropped, not flushed before the answer.
        this.#used.delete(req.index);
        return { ret: 0, body: { id: req.id } };
      }
    }
  }

  #configErrno(err: unknown, offset: number): number {
    // A stale generation is a race, not a violation (the controller counts it).
    if (err instanceof ConfigSpaceError && err.kind === ConfigSpaceErrorKind.staleGeneration)
      return TransportErrno.EAGAIN;
    if (err instanceof ConfigSpaceError) {
      this.violations.report(
        err.kind === "outOfRange"
          ? ViolationKind.configAccessOutOfRange
          : ViolationKind.configWriteDenied,
        { device: this.device.name, offset },
      );
      return err.kind === "outOfRange" ? TransportErrno.EINVAL : TransportErrno.EACCES;
    }
    throw err;
  }

  #onAvail(payload: Uint8Array): void {
    let ev;
    try {
      ev = decodeAvailEvent(payload, {
        maxRecords: 1024,
        maxSegments: Math.max(...this.device.queueMaxSizes, 1),
      });
    } catch (err) {
      this.#malformed(err);
      return;
    }
    const q = this.#queues.get(ev.queue);
    if (q === undefined || q.broken) {
      this.violations.report(ViolationKind.notifyBeforeDriverOk, {
        device: this.device.name,
        queue: ev.queue,
        side: "backend",
      });
      return;
    }
    const added = q.accept(ev.records);
    if (added <= 0) return;
    this.stats.availChains += added;
    // EVENT_AVAIL is the kick (§4.6 step 3).
    this.controller.recordKick(ev.queue);
    this.controller.deliverKick(ev.queue);
  }

  /** Collects completions; the turn's `setImmediate` sends them (see the module comment). */
  #sendUsed(queue: number, done: CompletedChain[]): void {
    if (this.#channel === undefined || this.#stopped) return;
    const list = this.#used.get(queue);
    if (list === undefined) this.#used.set(queue, done);
    else for (const c of done) list.push(c);
    this.#usedFlush ??= setImmediate(() => {
      this.#usedFlush = undefined;
      this.#flushUsed();
    });
  }

  /** Sends every collected completion now, as few EVENT_USED messages as fit. */
  #flushUsed(): void {
    const channel = this.#channel;
    const used = this.#used;
    if (used.size === 0) return;
    this.#used = new Map();
    if (channel === undefined || this.#stopped) return;
    for (const [queue, done] of used) this.#sendUsedNow(channel, queue, done);
  }

  /** Forgets collected completions (a reset or a break: they must not follow it). */
  #dropUsed(): void {
    this.#used = new Map();
    if (this.#usedFlush !== undefined) clearImmediate(this.#usedFlush);
    this.#usedFlush = undefined;
  }

  #sendUsedNow(channel: VioaChannel, queue: number, done: CompletedChain[]): void {
    this.stats.usedChains += done.length;
    const maxMsg = maxMessageSize(this.binding.ringLen);
    for (const records of packUsed(done, Math.min(maxMsg, channel.stagingBytes))) {
      // The inner header goes in front of the records; the data stays in the chains' memory
      // until the channel stages it (one copy, `usedEventParts`).
      const { head, data } = usedEventParts(queue, records, VIOA_HEADER_SIZE);
      const payloadLen = data.reduce((n, d) => n + d.length, head.length - VIOA_HEADER_SIZE);
      head.set(
        encodeHeader(
          { response: false, msgId: VioaMsg.EVENT_USED, devId: this.binding.devIndex, token: 0 },
          payloadLen,
        ),
        0,
      );
      this.stats.usedMessages++;
      this.stats.usedBytes += VIOA_HEADER_SIZE + payloadLen;
      channel.send([head, ...data].map((bytes) => ({ bytes }))).catch(() => {
        // The front end's ring is gone or refuses us; it will time out and reset.
        this.stats.sendErrors++;
      });
    }
  }

  #sendConfigEvent(): void {
    const channel = this.#channel;
    if (channel === undefined || this.#stopped) return;
    this.#flushUsed();
    const msg = encodeMessage(
      { response: false, msgId: VioaMsg.EVENT_CONFIG, devId: this.binding.devIndex, token: 0 },
      encodeEventConfig(this.controller.status, this.controller.config.generation),
    );
    channel.send([{ bytes: msg }]).catch(() => {
      this.stats.sendErrors++;
    });
  }

  #respond(msgId: number, token: number, ret: number, body?: ControlResponseBody): void {
    const channel = this.#channel;
    if (channel === undefined || this.#stopped) return;
    this.#flushUsed();
    const msg = encodeMessage(
      { response: true, msgId, devId: this.binding.devIndex, token },
      encodeControlResponse(msgId, ret, body),
    );
    channel.send([{ bytes: msg }]).catch(() => {
      this.stats.sendErrors++;
    });
  }

  /** Forgets the live queues; completions of the old epoch are dropped. */
  #dropQueues(): void {
    this.#epoch++;
    this.#dropUsed();
    for (const q of this.#queues.values()) q.discard();
    this.#queues.clear();
  }

  #malformed(err: unknown, breakDevice = true): void {
    if (!(err instanceof VioaDecodeError)) throw err;
    this.stats.malformed++;
    this.violations.report(ViolationKind.malformedRequest, {
      device: this.device.name,
      rule: err.rule,
      side: "backend",
    });
    if (!breakDevice) return;
    // On a live device a protocol violation needs a reset; before DRIVER_OK it is only dropped.
    const live = [...this.#queues.values()];
    if (live.length > 0) {
      for (const q of live) q.discard();
      this.#queues.clear();
      this.#epoch++;
      this.#dropUsed();
      // Any queue's hook puts the controller in DEVICE_NEEDS_RESET, which sends EVENT_CONFIG.
      this.#needsReset("malformed message from the front end");
    }
  }

  #needsReset(reason: string): void {
    const hooks = this.controller.device.state;
    if (hooks.kind === "activated") hooks.context.interrupt.needsReset(reason);
  }
}

/**
 * The back end's staging area (used data is built here and staged): one full message, kept
 * staged while the front end's ring refuses it, plus 256 KiB for the messages behind it; for the
 * default 256 KiB ring that is two full messages, as before. It lives in the back end's guest
 * memory once per device, so it grows with a bigger ring by one message, not two (a blk ring
 * holding a 1 MiB request would otherwise take 3 MiB of a back end serving eight guests).
 */
export function usedStagingBytes(ringLen: number): number {
  return Math.min(
    maxMessageSize(ringLen) + 256 * 1024,
    2 * maxMessageSize(ringLen),
    4 * 1024 * 1024,
  );
}
