// SPDX-License-Identifier: Apache-2.0
/**
 * Flow-control windows (docs/performance.md "Flow-control windows", docs/security.md): the
 * hypervisor grants SESSION_FLOW_CONTROL_WINDOW on the connection of an authenticated Session,
 * and only there. A connection whose Session is refused keeps Node's 64 KiB defaults, so a peer
 * without a credential can make the service hold no more unread bytes than before.
 * Checked by ordering: a PING acknowledged after the Session's answer shows that every frame
 * the service sent before that answer (a SETTINGS or WINDOW_UPDATE included) has arrived.
 */
import { RawGrpcConnection, Testbed } from "@hmx/testkit";
import { SESSION_FLOW_CONTROL_WINDOW } from "@hmx/proto";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

const NODE_DEFAULT_WINDOW = 65_535;

let bed: Testbed;
before(async () => {
  bed = await Testbed.start(["--argo-mac-permissive"]);
});
after(async () => {
  await bed.stopAll();
});

/** Opens a Session on a fresh connection and waits for its answer and one PING round trip. */
async function sessionAnswered(credential: string) {
  const connection = new RawGrpcConnection(bed.listen);
  const stream = connection.open("Session", credential, [{ open: { ackThrough: "0" } }], {
    halfClose: false,
  });
  const headers = await RawGrpcConnection.headers(stream);
  await new Promise<void>((resolve, reject) => {
    connection.session.ping((err) => {
      if (err === null) resolve();
      else reject(err);
    });
  });
  return { connection, headers };
}

test("an authenticated Session's connection is granted SESSION_FLOW_CONTROL_WINDOW per stream and twice that per connection", async () => {
  const { credential } = await bed.domain("wide");
  const { connection, headers } = await sessionAnswered(credential);
  try {
    assert.equal(headers[":status"], 200, "the Session was served");
    assert.equal(headers["grpc-status"], undefined, "and not refused");
    assert.equal(
      connection.session.remoteSettings.initialWindowSize,
      SESSION_FLOW_CONTROL_WINDOW,
      "SETTINGS_INITIAL_WINDOW_SIZE",
    );
    const window = connection.session.state.remoteWindowSize ?? 0;
    assert.ok(
      window > SESSION_FLOW_CONTROL_WINDOW && window <= 2 * SESSION_FLOW_CONTROL_WINDOW,
      `the connection's send window is widened to 2 × the stream's (less what was sent): ${window}`,
    );
  } finally {
    await connection.close();
  }
});

test("a connection whose Session is refused keeps Node's default 64 KiB windows", async () => {
  const { connection, headers } = await sessionAnswered("not-a-credential");
  try {
    assert.equal(headers["grpc-status"], "16", "UNAUTHENTICATED");
    assert.equal(connection.session.remoteSettings.initialWindowSize, NODE_DEFAULT_WINDOW);
    const window = connection.session.state.remoteWindowSize ?? Infinity;
    assert.ok(window <= NODE_DEFAULT_WINDOW, `connection window not widened: ${window}`);
  } finally {
    await connection.close();
  }
});
