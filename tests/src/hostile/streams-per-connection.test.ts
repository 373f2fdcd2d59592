// SPDX-License-Identifier: Apache-2.0
/**
 * --max-streams-per-connection (docs/security.md): the service tells every peer its limit of
 * concurrent calls per connection (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS), serves that many
 * open calls on one connection, and starts no call beyond it until one of them ends.
 * Checked by ordering, never by time: a PING acknowledged after the extra call was issued shows
 * the service had read everything the client sent before it, and the extra call still had no
 * answer; it is answered as soon as one of the admitted calls is cancelled.
 */
import { RawGrpcConnection, Testbed } from "@hmx/testkit";
import assert from "node:assert/strict";
import { constants } from "node:http2";
import { after, before, test } from "node:test";

const MAX_STREAMS = 4;

let bed: Testbed;
before(async () => {
  bed = await Testbed.start([
    "--argo-mac-permissive",
    "--max-streams-per-connection",
    String(MAX_STREAMS),
  ]);
});
after(async () => {
  await bed.stopAll();
});

/**
 * Opens a Session (never half-closed) for a fresh domain on `connection`, with its response
 * headers awaited from the start (they may arrive before the caller looks).
 */
async function openSession(connection: RawGrpcConnection, name: string) {
  const { credential } = await bed.domain(name);
  const stream = connection.open("Session", credential, [{ open: { ackThrough: "0" } }], {
    halfClose: false,
  });
  return { stream, headers: RawGrpcConnection.headers(stream) };
}

test(
  "a connection gets --max-streams-per-connection concurrent calls, told in its SETTINGS; one more starts only when one of them ends",
  { timeout: 60_000 },
  async () => {
    const connection = new RawGrpcConnection(bed.listen);
    try {
      await new Promise<void>((resolve) =>
        connection.session.once("remoteSettings", () => {
          resolve();
        }),
      );
      assert.equal(
        connection.session.remoteSettings.maxConcurrentStreams,
        MAX_STREAMS,
        "the service advertises --max-streams-per-connection as SETTINGS_MAX_CONCURRENT_STREAMS",
      );
      const admitted = [];
      for (let i = 0; i < MAX_STREAMS; i++) admitted.push(await openSession(connection, `s${i}`));
      const answered = await Promise.all(admitted.map((s) => s.headers));
      for (const [i, headers] of answered.entries())
        assert.equal(headers[":status"], 200, `open call ${i} within the limit is served`);

      const extra = await openSession(connection, "extra");
      let extraAnswered = false;
      const extraHeaders = extra.headers.then((h) => {
        extraAnswered = true;
        return h;
      });
      // Everything the client sent before this PING has reached the service when it is acked.
      await new Promise<void>((resolve, reject) => {
        connection.session.ping((err) => {
          if (err === null) resolve();
          else reject(err);
        });
      });
      assert.equal(extraAnswered, false, `call ${MAX_STREAMS + 1} was not started past the limit`);

      admitted[0]?.stream.close(constants.NGHTTP2_CANCEL);
      assert.equal((await extraHeaders)[":status"], 200, "it starts once a slot is free");
    } finally {
      await connection.close();
    }
  },
);
