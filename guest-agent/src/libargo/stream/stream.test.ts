// SPDX-License-Identifier: Apache-2.0
/**
 * Argo stream sockets against the real hypervisor core (in process): set-up, refusal, limits,
 * half-close, clean and abortive close, flow control by credit, keepalive, error naming, and
 * the release of every ring a connection used.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { InProcessHypervisor } from "../../test-utils/in-process-client.js";
import { ArgoEndpoint } from "../argo-endpoint.js";
import { ArgoSocketError } from "../errors.js";
import { StreamConnection } from "./connection.js";
import { connectStream } from "./connector.js";
import { ArgoStreamDuplex } from "./duplex.js";
import { decodeFrame, encodeFrame, FrameType, FRAME_HEADER_SIZE } from "./frame.js";
import { StreamListener } from "./listener.js";
import { sendFailure, StreamError } from "./stream-error.js";

async function twoGuests() {
  const hv = new InProcessHypervisor({ macPermissive: false });
  const a = await ArgoEndpoint.create(hv.createGuest({ name: "a" }));
  const b = await ArgoEndpoint.create(hv.createGuest({ name: "b" }));
  return { a, b };
}

async function rejection(p: Promise<unknown>): Promise<StreamError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof StreamError, `expected a StreamError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected a rejection");
}

/** The next connection a listener accepts (it must not be closed). */
/**
 * An open connection (vm1:1 to vm2:2) with no endpoint under it: its frames are not sent, only
 * their types recorded, in order.
 */
function recordingConnection(keepalive: { keepaliveMs: number; keepaliveProbes: number }): {
  conn: StreamConnection;
  sent: number[];
} {
  const sent: number[] = [];
  const conn = new StreamConnection(
    {
      connId: 1,
      local: { domainId: 1, aport: 1 },
      peer: { domainId: 2, aport: 2 },
      send: (f) => {
        sent.push(f.readUInt8(5));
        return Promise.resolve(f.length);
      },
      window: 1000,
      maxSegment: 100,
      ...keepalive,
    },
    "open",
    { credit: 1000, maxPayload: 1000 },
  );
  return { conn, sent };
}

async function acceptOne(listener: StreamListener): Promise<StreamConnection> {
  const conn = await listener.accept();
  assert.ok(conn !== null, "the listener accepted a connection");
  return conn;
}

/** Reads a Duplex to its end (without destroying it: that would abort the other direction). */
async function readAll(d: ArgoStreamDuplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of d.iterator({ destroyOnReturn: false })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Waits until `predicate` holds (a hang is caught by the test's timeout). */
async function until(predicate: () => boolean): Promise<void> {
  while (!predicate()) await sleep(2);
}

describe("argo stream frames", () => {
  it("a frame round-trips through the codec", () => {
    const f = encodeFrame(
      { type: FrameType.DATA, connId: 0xdeadbeef, seq: 2 ** 40 },
      Buffer.from("xy"),
    );
    const d = decodeFrame(f);
    assert.ok(typeof d !== "string");
    assert.deepEqual(
      [d.type, d.connId, d.seq, d.data.toString()],
      [FrameType.DATA, 0xdeadbeef, 2 ** 40, "xy"],
    );
  });

  it("a datagram that is not a stream frame is named, not misread", () => {
    assert.match(decodeFrame(Buffer.alloc(10)) as string, /shorter than the 32-byte header/);
    assert.match(
      decodeFrame(Buffer.alloc(FRAME_HEADER_SIZE)) as string,
      /magic 0x0 is not a stream frame/,
    );
    const bad = encodeFrame({ type: FrameType.ACK, connId: 1 });
    bad.writeUInt8(99, 5);
    assert.match(decodeFrame(bad) as string, /unknown frame type 99/);
    const acked = Buffer.concat([
      encodeFrame({ type: FrameType.ACK, connId: 1 }),
      Buffer.from("x"),
    ]);
    assert.match(decodeFrame(acked) as string, /ACK frame carries 1 payload bytes/);
  });
});

describe("argo stream sockets", { timeout: 30_000 }, () => {
  it("bytes cross both ways, half-close keeps the other direction open, and every ring is released", async () => {
    const { a, b } = await twoGuests();
    const listener = await StreamListener.listen(b, { aport: 80, partner: a.domid });
    const [client, server] = await Promise.all([
      connectStream(a, { domainId: b.domid, aport: 80 }).then((c) => new ArgoStreamDuplex(c)),
      acceptOne(listener).then((c) => new ArgoStreamDuplex(c)),
    ]);
    assert.equal(server.connection.peer.domainId, a.domid, "the peer is the authenticated source");
    client.end(Buffer.from("request"));
    assert.equal((await readAll(server)).toString(), "request", "the server sees the client's FIN");
    // The client has ended its side, and still reads the reply.
    server.end(Buffer.from("reply after the client's FIN"));
    assert.equal((await readAll(client)).toString(), "reply after the client's FIN");
    await until(() => client.connection.state === "closed" && server.connection.state === "closed");
    assert.equal(client.connection.error, undefined);
    await until(() => a.sockets.length === 0);
    await listener.close();
    assert.equal(b.sockets.length, 0, "the listener's ring is gone once it closed");
    await Promise.all([a.close(), b.close()]);
  });

  it("connecting to a port nobody listens on fails with ECONNREFUSED naming the peer and port", async () => {
    const { a, b } = await twoGuests();
    const err = await rejection(connectStream(a, { domainId: b.domid, aport: 0x99 }));
    assert.equal(err.code, "ECONNREFUSED");
    assert.match(err.message, new RegExp(`vm${b.domid}:0x99`));
    assert.equal(a.sockets.length, 0, "the connector's ring was released");
    await Promise.all([a.close(), b.close()]);
  });

  it("a listener at its connection limit resets the next SYN, and the connector is told why", async () => {
    const { a, b } = await twoGuests();
    const listener = await StreamListener.listen(b, {
      aport: 81,
      partner: a.domid,
      maxConnections: 1,
    });
    const first = await connectStream(a, { domainId: b.domid, aport: 81 });
    const err = await rejection(connectStream(a, { domainId: b.domid, aport: 81 }));
    assert.equal(err.code, "ECONNREFUSED");
    assert.match(err.message, /refused by the peer \(limit\)/);
    assert.equal(listener.stats.refused, 1);
    first.destroy();
    await listener.abort();
    await Promise.all([a.close(), b.close()]);
  });

  it("an abortive close resets the peer: its reader fails with ECONNRESET", async () => {
    const { a, b } = await twoGuests();
    const listener = await StreamListener.listen(b, { aport: 82, partner: a.domid });
    const [client, accepted] = await Promise.all([
      connectStream(a, { domainId: b.domid, aport: 82 }),
      acceptOne(listener),
    ]);
    const server = new ArgoStreamDuplex(accepted);
    const failed = once(server, "error");
    client.destroy();
    const [err] = (await failed) as [StreamError];
    assert.equal(err.code, "ECONNRESET");
    assert.match(err.message, /reset by the peer \(abort\)/);
    await listener.close();
    await Promise.all([a.close(), b.close()]);
  });

  it("a sender never has more than the receiver's window in flight, and a reader catching up releases it", async () => {
    const { a, b } = await twoGuests();
    const window = 8192;
    const listener = await StreamListener.listen(b, {
      aport: 83,
      partner: a.domid,
      window,
      maxSegment: 1000,
    });
    const [client, server] = await Promise.all([
      connectStream(a, { domainId: b.domid, aport: 83 }),
      acceptOne(listener),
    ]);
    const payload = Buffer.alloc(100_000, 7);
    const writing = client.write(payload);
    await until(() => client.stats.windowStalls > 0);
    // The window's frames may still be on their way (a loaded machine); then nothing more comes.
    await until(() => server.bufferedBytes >= window);
    await sleep(20);
    assert.equal(client.stats.bytesSent, window, "exactly one window went out while nobody read");
    assert.equal(server.bufferedBytes, window);
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < payload.length) {
      const c = server.read();
      if (c === null) await sleep(1);
      else {
        chunks.push(c);
        total += c.length;
      }
    }
    await writing;
    assert.ok(Buffer.concat(chunks).equals(payload));
    client.destroy();
    await listener.abort();
    await Promise.all([a.close(), b.close()]);
  });

  it("a peer that stops answering is reset after the keepalive probes with ETIMEDOUT", async () => {
    const { conn, sent } = recordingConnection({ keepaliveMs: 10, keepaliveProbes: 2 });
    await until(() => conn.state === "closed");
    assert.equal(conn.error instanceof StreamError && conn.error.code, "ETIMEDOUT");
    assert.deepEqual(sent, [FrameType.PING, FrameType.PING, FrameType.RST]);
  });

  it("a DATA frame at the wrong offset resets the connection instead of delivering bytes", () => {
    const { conn, sent } = recordingConnection({ keepaliveMs: 0, keepaliveProbes: 1 });
    conn.handle({
      type: FrameType.DATA,
      connId: 1,
      seq: 5,
      credit: 0,
      reason: 0,
      data: Buffer.from("x"),
    });
    assert.equal(conn.read(), null, "nothing delivered");
    assert.equal(conn.error instanceof StreamError && conn.error.code, "EPROTO");
    assert.deepEqual(sent, [FrameType.RST]);
  });

  it("a MAC or firewall refusal of a stream's sendv is a connection error naming the peer and port", () => {
    const denied = new ArgoSocketError("EACCES", "sendv failed: -EACCES (-13)");
    const err = sendFailure(
      denied,
      { domainId: 2, aport: 5 },
      { domainId: 3, aport: 0x1f },
      "connect",
    );
    assert.equal(err.code, "EACCES");
    assert.equal(
      err.message,
      "connect to vm3:0x1f denied by MAC policy or firewall for vm2 (EACCES)",
    );
    assert.equal(err.cause, denied);
  });

  it("bad tunables are refused with the value and the limits", async () => {
    const { a, b } = await twoGuests();
    await assert.rejects(
      StreamListener.listen(b, { aport: 1, partner: a.domid, window: 0 }),
      /stream window 0 is not an integer in \[1, 1073741824\]/,
    );
    await assert.rejects(
      StreamListener.listen(b, { aport: 1, partner: a.domid, maxConnections: 0 }),
      /listener maxConnections 0/,
    );
    assert.equal(b.sockets.length, 0);
    await Promise.all([a.close(), b.close()]);
  });
});
