// SPDX-License-Identifier: Apache-2.0
/**
 * Enrolment against a hypervisor that is not up yet: a container guest starts beside (or before)
 * its hypervisor and, by default, waits for it however long it takes (no deadline at all).
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { test } from "node:test";
import * as grpc from "@grpc/grpc-js";
import { loadHypervisorProto } from "@hmx/proto";
import { enrol } from "./platform-client.js";

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === "object");
  await new Promise((resolve) => server.close(resolve));
  return address.port;
}

/** A stand-in hypervisor that answers Enrol only, counting the calls. */
async function startEnrolServer(port: number): Promise<{ server: grpc.Server; calls: number[] }> {
  const calls: number[] = [];
  const server = new grpc.Server();
  server.addService(loadHypervisorProto().hmx.argo.v1.Hypervisor.service, {
    enrol: (_call: unknown, callback: grpc.sendUnaryData<object>) => {
      calls.push(Date.now());
      callback(null, {
        domid: 7,
        credential: "c",
        resumed: false,
        template: "guest",
        instanceSecret: "s",
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
      if (err === null) resolve();
      else reject(err);
    });
  });
  return { server, calls };
}

test("with no deadline, enrolment waits for a hypervisor that comes up later and enrols once", async () => {
  const port = await freePort();
  const warnings: string[] = [];
  const pending = enrol(`127.0.0.1:${port}`, "token", "vm-1", {
    timeoutMs: Number.POSITIVE_INFINITY,
    log: { warn: (_obj, msg) => warnings.push(msg) },
  });
  // Not up yet: the attempt fails and is retried (before the fix this promise never settled and
  // the process ran out of work, exiting 13).
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const { server, calls } = await startEnrolServer(port);
  try {
    const enrolled = await pending;
    assert.equal(enrolled.domid, 7);
    assert.equal(calls.length, 1, "exactly one Enrol reached the hypervisor");
    assert.ok(warnings.includes("enrolment retrying"), "the wait was reported");
  } finally {
    server.forceShutdown();
  }
});

test("an abort while the hypervisor is unreachable rejects the enrolment with the abort's reason", async () => {
  const port = await freePort();
  const abort = new AbortController();
  const pending = enrol(`127.0.0.1:${port}`, "token", "vm-2", {
    timeoutMs: Number.POSITIVE_INFINITY,
    signal: abort.signal,
  });
  setTimeout(() => {
    abort.abort(new Error("stopping: SIGTERM"));
  }, 300);
  await assert.rejects(pending, /stopping: SIGTERM/);
});
