// SPDX-License-Identifier: Apache-2.0
/**
 * Framing in place against the installed grpc-js: a real server and client exchange frames both
 * ways, preframed and not, and every frame arrives byte for byte, framed where it lay when it
 * was preframed and copied otherwise.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import * as grpc from "@grpc/grpc-js";
import {
  framedMessage,
  GRPC_PREFIX_BYTES,
  installPreframedWrites,
  preframedBuffer,
  preframedCounts,
} from "./grpc-preframed.js";

const identity = (b: Buffer): Buffer => b;
const ECHO: grpc.ServiceDefinition = {
  Echo: {
    path: "/hmx.test.Preframed/Echo",
    requestStream: true,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

function preframedCopy(bytes: Buffer): Buffer {
  const frame = preframedBuffer(bytes.length);
  bytes.copy(frame);
  return frame;
}

describe("gRPC frames written in place", () => {
  let server: grpc.Server;
  let port: number;

  before(async () => {
    assert.deepEqual(
      installPreframedWrites(),
      { server: true, client: true },
      "the installed grpc-js has both framing methods where this module looks for them",
    );
    server = new grpc.Server();
    // The server answers each frame twice: preframed, then as a plain Buffer.
    server.addService(ECHO, {
      Echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on("data", (bytes: Buffer) => {
          call.write(preframedCopy(bytes));
          call.write(Buffer.from(bytes));
        });
        call.on("end", () => call.end());
      },
    });
    port = await new Promise<number>((resolve, reject) => {
      server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, p) => {
        if (err) reject(err);
        else resolve(p);
      });
    });
  });

  after(() => {
    server.forceShutdown();
  });

  it("frames a preframed message into its own spare bytes, and copies any other", () => {
    // Above Buffer's pool size, so that a copy cannot share the frame's memory by chance.
    const payload = randomBytes(5000);
    const frame = preframedCopy(payload);
    const framed = framedMessage(frame);
    assert.equal(framed.buffer, frame.buffer, "the same memory, not a copy");
    assert.equal(framed.byteOffset, frame.byteOffset - GRPC_PREFIX_BYTES);
    assert.deepEqual([...framed.subarray(0, 5)], [0, 0, 0, 0x13, 0x88], "flag 0, length 5000 BE");
    assert.deepEqual(framed.subarray(5), payload);

    const plain = Buffer.from(payload);
    const copied = framedMessage(plain);
    assert.notEqual(copied.buffer, plain.buffer);
    assert.deepEqual(copied, framed, "the same bytes either way");
    assert.deepEqual(plain, payload, "the plain message is left alone");
  });

  it("a real client and server exchange preframed and plain frames byte for byte", async () => {
    const Client = grpc.makeGenericClientConstructor(ECHO, "Preframed");
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const call = (client as unknown as { Echo(): grpc.ClientDuplexStream<Buffer, Buffer> }).Echo();
    const sizes = [0, 1, 64, 4096, 70_000, 300_000];
    const sent = sizes.map((n) => randomBytes(n));
    const received: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (b: Buffer) => received.push(b));
      call.on("end", resolve);
      call.on("error", reject);
    });
    const startCounts = preframedCounts();
    // Alternate: even sizes leave the client preframed, odd ones plain.
    sent.forEach((bytes, i) => call.write(i % 2 === 0 ? preframedCopy(bytes) : Buffer.from(bytes)));
    call.end();
    await done;
    client.close();

    assert.equal(received.length, 2 * sent.length);
    sent.forEach((bytes, i) => {
      assert.deepEqual(received[2 * i], bytes, `echo ${i} (preframed by the server)`);
      assert.deepEqual(received[2 * i + 1], bytes, `echo ${i} (plain from the server)`);
    });
    const counts = preframedCounts();
    // Client: 3 preframed, 3 plain; server: 6 preframed, 6 plain.
    assert.equal(counts.inPlace - startCounts.inPlace, 9);
    assert.equal(counts.copied - startCounts.copied, 9);
  });
});
