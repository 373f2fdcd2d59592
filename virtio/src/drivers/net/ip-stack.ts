// SPDX-License-Identifier: Apache-2.0
/**
 * `MiniIpStack`: the smallest IPv4 host that lets one guest ping another over virtio-net — it
 * answers ARP requests for its address (RFC 826), keeps an ARP cache, answers ICMP echo requests
 * (RFC 792), and `ping(ip)` resolves the peer with ARP, sends an echo request and waits for the
 * matching reply. Everything else is ignored and counted. It sits on a `NetDriver`, so it knows
 * nothing of transports or Argo.
 *
 * It always uses the NIC's current MAC; when the NIC's MAC changes (`NetDriver.setMac`) it
 * broadcasts a gratuitous ARP (a request for its own address), and a peer that already has the
 * sender in its cache updates the entry (RFC 826's merge step), so pings keep working.
 */
import { ARP_OP_REPLY, ARP_OP_REQUEST, buildArpPacket, parseArpPacket } from "../../packets/arp.js";
import {
  BROADCAST_MAC,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  buildEthernetFrame,
  formatMac,
  macEquals,
  parseEthernetFrame,
  type MacAddress,
} from "../../packets/ethernet.js";
import {
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  buildIcmpEcho,
  parseIcmpEcho,
} from "../../packets/icmp.js";
import { IPPROTO_ICMP, buildIpv4Packet, parseIpv4Packet } from "../../packets/ipv4.js";

/** What a stack needs from a NIC (a `NetDriver`). */
export interface FrameDevice {
  readonly mac: MacAddress;
  send(frame: Uint8Array): Promise<void>;
  onFrame(handler: (frame: Uint8Array) => void): () => void;
  /** Tells about MAC changes; a NIC whose MAC never changes need not have it. */
  onMacChange?(handler: (mac: MacAddress) => void): () => void;
}

export interface MiniIpStackStats {
  arpRequestsAnswered: number;
  arpRepliesLearned: number;
  echoRequestsAnswered: number;
  echoRepliesReceived: number;
  ignored: number;
}

export interface PingResult {
  readonly seq: number;
  readonly rttMs: number;
  readonly ttl: number;
}

/** A timeout waiting for ARP or an echo reply. */
export class PingTimeoutError extends Error {
  override readonly name = "PingTimeoutError";
}

/** Tiny ARP + ICMP echo host (see the module comment). */
export class MiniIpStack {
  readonly ip: string;
  readonly stats: MiniIpStackStats = {
    arpRequestsAnswered: 0,
    arpRepliesLearned: 0,
    echoRequestsAnswered: 0,
    echoRepliesReceived: 0,
    ignored: 0,
  };
  readonly #nic: FrameDevice;
  readonly #arpCache = new Map<string, MacAddress>();
  readonly #arpWaiters = new Map<string, (() => void)[]>();
  readonly #echoWaiters = new Map<string, (ttl: number) => void>();
  readonly #id: number;
  #seq = 0;
  readonly #unsubscribe: () => void;
  readonly #unsubscribeMac: () => void;

  constructor(nic: FrameDevice, ip: string) {
    this.#nic = nic;
    this.ip = ip;
    this.#id = (nic.mac[4] ?? 0) * 256 + (nic.mac[5] ?? 0);
    this.#unsubscribe = nic.onFrame((f) => {
      this.#onFrame(f);
    });
    this.#unsubscribeMac =
      nic.onMacChange?.(() => {
        void this.announce().catch(() => undefined);
      }) ?? (() => undefined);
  }

  /** Broadcasts a gratuitous ARP: "this IP is at my (current) MAC". */
  announce(): Promise<void> {
    const arp = buildArpPacket({
      op: ARP_OP_REQUEST,
      senderMac: this.#nic.mac,
      senderIp: this.ip,
      targetMac: new Uint8Array(6),
      targetIp: this.ip,
    });
    return this.#nic.send(buildEthernetFrame(BROADCAST_MAC, this.#nic.mac, ETHERTYPE_ARP, arp));
  }

  /** The MAC learned for `ip`, if any. */
  arpLookup(ip: string): string | undefined {
    const mac = this.#arpCache.get(ip);
    return mac === undefined ? undefined : formatMac(mac);
  }

  /** Sends one ICMP echo request to `ip` (resolving it with ARP first) and waits for the reply. */
  async ping(
    ip: string,
    options: { timeoutMs?: number; data?: Uint8Array } = {},
  ): Promise<PingResult> {
    const timeoutMs = options.timeoutMs ?? 1000;
    const start = performance.now();
    const mac = await this.#resolve(ip, timeoutMs);
    const seq = (this.#seq = (this.#seq + 1) & 0xffff);
    const key = `${ip}/${this.#id}/${seq}`;
    const reply = this.#wait<number>(timeoutMs, `echo reply from ${ip}`, (done) => {
      this.#echoWaiters.set(key, done);
      return () => this.#echoWaiters.delete(key);
    });
    const icmp = buildIcmpEcho({
      type: ICMP_ECHO_REQUEST,
      id: this.#id,
      seq,
      data: options.data ?? new TextEncoder().encode("hmx ping"),
    });
    // Awaited together: if the send fails (a NIC reset), the waiter's later timeout is still
    // handled instead of surfacing as an unhandled rejection that would end the process.
    const [, ttl] = await Promise.all([this.#sendIp(mac, ip, icmp), reply]);
    return { seq, ttl, rttMs: performance.now() - start };
  }

  close(): void {
    this.#unsubscribe();
    this.#unsubscribeMac();
  }

  async #resolve(ip: string, timeoutMs: number): Promise<MacAddress> {
    const cached = this.#arpCache.get(ip);
    if (cached !== undefined) return cached;
    const learned = this.#wait<undefined>(timeoutMs, `ARP reply for ${ip}`, (done) => {
      const list = this.#arpWaiters.get(ip) ?? [];
      const w = (): void => {
        done(undefined);
      };
      list.push(w);
      this.#arpWaiters.set(ip, list);
      return () => {
        const l = this.#arpWaiters.get(ip);
        const i = l?.indexOf(w) ?? -1;
        if (i >= 0) l?.splice(i, 1);
      };
    });
    const arp = buildArpPacket({
      op: ARP_OP_REQUEST,
      senderMac: this.#nic.mac,
      senderIp: this.ip,
      targetMac: new Uint8Array(6),
      targetIp: ip,
    });
    // Together, for the same reason as in `ping`.
    await Promise.all([
      this.#nic.send(buildEthernetFrame(BROADCAST_MAC, this.#nic.mac, ETHERTYPE_ARP, arp)),
      learned,
    ]);
    const mac = this.#arpCache.get(ip);
    if (mac === undefined) throw new PingTimeoutError(`no ARP entry for ${ip}`);
    return mac;
  }

  #wait<T>(timeoutMs: number, what: string, arm: (done: (v: T) => void) => () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        disarm();
        reject(new PingTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const disarm = arm((v) => {
        clearTimeout(timer);
        disarm();
        resolve(v);
      });
    });
  }

  #sendIp(dstMac: MacAddress, dstIp: string, icmp: Uint8Array): Promise<void> {
    const ip = buildIpv4Packet({ src: this.ip, dst: dstIp, protocol: IPPROTO_ICMP, payload: icmp });
    return this.#nic.send(buildEthernetFrame(dstMac, this.#nic.mac, ETHERTYPE_IPV4, ip));
  }

  #onFrame(frame: Uint8Array): void {
    const eth = parseEthernetFrame(frame);
    if (
      eth === undefined ||
      !(macEquals(eth.dst, this.#nic.mac) || macEquals(eth.dst, BROADCAST_MAC))
    ) {
      this.stats.ignored++;
      return;
    }
    if (eth.ethertype === ETHERTYPE_ARP) this.#onArp(eth.payload);
    else if (eth.ethertype === ETHERTYPE_IPV4) this.#onIpv4(eth.src, eth.payload);
    else this.stats.ignored++;
  }

  #onArp(payload: Uint8Array): void {
    const arp = parseArpPacket(payload);
    if (arp === undefined) {
      this.stats.ignored++;
      return;
    }
    // RFC 826: update the sender if we know it already (merge), learn it if the packet is for
    // us. The merge is what a gratuitous ARP after a MAC change relies on.
    const known = this.#arpCache.has(arp.senderIp) && arp.senderIp !== this.ip;
    if (known || arp.targetIp === this.ip) this.#arpCache.set(arp.senderIp, arp.senderMac);
    if (arp.targetIp === arp.senderIp) {
      // A gratuitous announcement: nothing to answer.
      if (known) this.stats.arpRepliesLearned++;
      else this.stats.ignored++;
      return;
    }
    if (arp.op === ARP_OP_REQUEST && arp.targetIp === this.ip) {
      this.stats.arpRequestsAnswered++;
      const reply = buildArpPacket({
        op: ARP_OP_REPLY,
        senderMac: this.#nic.mac,
        senderIp: this.ip,
        targetMac: arp.senderMac,
        targetIp: arp.senderIp,
      });
      void this.#nic
        .send(buildEthernetFrame(arp.senderMac, this.#nic.mac, ETHERTYPE_ARP, reply))
        .catch(() => undefined);
    } else if (arp.op === ARP_OP_REPLY && arp.targetIp === this.ip) {
      this.stats.arpRepliesLearned++;
      for (const w of this.#arpWaiters.get(arp.senderIp)?.splice(0) ?? []) w();
    } else {
      this.stats.ignored++;
    }
  }

  #onIpv4(srcMac: MacAddress, payload: Uint8Array): void {
    const ip = parseIpv4Packet(payload);
    if (ip?.dst !== this.ip || ip.protocol !== IPPROTO_ICMP) {
      this.stats.ignored++;
      return;
    }
    const echo = parseIcmpEcho(ip.payload);
    if (echo === undefined) {
      this.stats.ignored++;
      return;
    }
    if (echo.type === ICMP_ECHO_REQUEST) {
      this.stats.echoRequestsAnswered++;
      const reply = buildIcmpEcho({
        type: ICMP_ECHO_REPLY,
        id: echo.id,
        seq: echo.seq,
        data: echo.data,
      });
      void this.#sendIp(srcMac, ip.src, reply).catch(() => undefined);
      return;
    }
    const waiter = this.#echoWaiters.get(`${ip.src}/${echo.id}/${echo.seq}`);
    if (waiter === undefined) {
      this.stats.ignored++;
      return;
    }
    this.stats.echoRepliesReceived++;
    waiter(ip.ttl);
  }
}
