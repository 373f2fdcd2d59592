// SPDX-License-Identifier: Apache-2.0
/** Ethernet, ARP, IPv4 and ICMP echo helpers: round trips, known checksums, rejection of bad input. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ARP_OP_REQUEST, buildArpPacket, parseArpPacket } from "./arp.js";
import { formatMac, isMulticastMac, parseEthernetFrame, parseMac } from "./ethernet.js";
import { ICMP_ECHO_REQUEST, buildIcmpEcho, parseIcmpEcho } from "./icmp.js";
import { internetChecksum } from "./inet-checksum.js";
import { IPPROTO_ICMP, buildIpv4Packet, parseIpv4Packet } from "./ipv4.js";

describe("frame and packet helpers", () => {
  it("the Internet checksum matches RFC 1071's worked example", () => {
    // RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum ~ddf2 = 220d.
    assert.equal(
      internetChecksum(Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7)),
      0x220d,
    );
  });

  it("MAC text round-trips and the group bit marks multicast", () => {
    assert.equal(formatMac(parseMac("02:68:6D:00:00:01")), "02:68:6d:00:00:01");
    assert.ok(isMulticastMac(parseMac("01:00:5e:00:00:01")));
    assert.ok(!isMulticastMac(parseMac("02:00:00:00:00:01")));
    assert.throws(() => parseMac("02:00"), RangeError);
  });

  it("a frame shorter than the Ethernet header does not parse", () => {
    assert.equal(parseEthernetFrame(new Uint8Array(13)), undefined);
  });

  it("ARP request round-trips", () => {
    const p = {
      op: ARP_OP_REQUEST,
      senderMac: parseMac("02:00:00:00:00:01"),
      senderIp: "10.0.0.1",
      targetMac: new Uint8Array(6),
      targetIp: "10.0.0.2",
    } as const;
    const back = parseArpPacket(buildArpPacket(p));
    assert.deepEqual(back, { ...p, targetMac: new Uint8Array(6) });
  });

  it("IPv4 round-trips with a valid header checksum; a corrupted one is rejected", () => {
    const pkt = buildIpv4Packet({
      src: "10.0.0.1",
      dst: "10.0.0.2",
      protocol: IPPROTO_ICMP,
      payload: Uint8Array.of(1, 2, 3),
    });
    const back = parseIpv4Packet(pkt);
    assert.ok(back);
    assert.equal(back.src, "10.0.0.1");
    assert.deepEqual([...back.payload], [1, 2, 3]);
    pkt[8] = 1;
    assert.equal(parseIpv4Packet(pkt), undefined);
  });

  it("ICMP echo round-trips; a bad checksum is rejected", () => {
    const e = buildIcmpEcho({ type: ICMP_ECHO_REQUEST, id: 7, seq: 9, data: Uint8Array.of(5, 6) });
    assert.deepEqual(parseIcmpEcho(e), {
      type: ICMP_ECHO_REQUEST,
      id: 7,
      seq: 9,
      data: Uint8Array.of(5, 6),
    });
    e[9] = 0;
    assert.equal(parseIcmpEcho(e), undefined);
  });
});
