// SPDX-License-Identifier: Apache-2.0
/**
 * Enrolment and peer listing over gRPC, on a Unix-socket guest listener as the container fleet
 * uses it: the enrolment token is the bearer, a domain credential is the wrong kind, the
 * returned credential works at once, and ListPeers shows the other domains.
 */
import * as grpc from "@grpc/grpc-js";
import { GRPC_MESSAGE_LIMITS, bearerMetadata, loadHypervisorProto } from "@hmx/proto";
import type { EnrolResponse__Output } from "@hmx/proto/gen/hmx/argo/v1/EnrolResponse.js";
import type { ListPeersResponse__Output } from "@hmx/proto/gen/hmx/argo/v1/ListPeersResponse.js";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { startTestHypervisor, type TestHypervisor } from "../test-utils/test-hypervisor.js";

const TOKEN = "enrolment-token-for-tests-0123";
let t: TestHypervisor;
let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
const socket = join(tmpdir(), `hmx-enrol-${randomBytes(4).toString("hex")}.sock`);

function call<Res>(method: string, request: object, metadata: grpc.Metadata): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = client[method];
    assert.ok(fn !== undefined);
    fn.call(client, request, metadata, (err: grpc.ServiceError | null, res: Res) => {
      if (err !== null) reject(err);
      else resolve(res);
    });
  });
}

before(async () => {
  t = await startTestHypervisor({
    listen: `unix:${socket}`,
    enrolmentTemplates: [
      { name: "guest", label: "guest_t", memoryBytes: 1024 * 1024, maxDomains: 8, token: TOKEN },
    ],
  });
  const Hypervisor = loadHypervisorProto().hmx.argo.v1.Hypervisor;
  client = new Hypervisor(
    t.hv.listen,
    grpc.credentials.createInsecure(),
    GRPC_MESSAGE_LIMITS,
  ) as unknown as typeof client;
});
after(async () => {
  client.close();
  await t.stop();
});

test("the guest listener reports and serves its unix: address", () => {
  assert.equal(t.hv.listen, `unix:${socket}`);
});

test("Enrol with the template's token returns a working credential; the same instance resumes", async () => {
  const first = await call<EnrolResponse__Output>(
    "Enrol",
    { instance: "c1" },
    bearerMetadata(TOKEN),
  );
  assert.deepEqual([first.resumed, first.template], [false, "guest"]);
  const info = await call<{ domid: number; label: string }>(
    "GetDomainInfo",
    {},
    bearerMetadata(first.credential),
  );
  assert.deepEqual([info.domid, info.label], [first.domid, "guest_t"]);
  const again = await call<EnrolResponse__Output>(
    "Enrol",
    { instance: "c1", instanceSecret: first.instanceSecret },
    bearerMetadata(TOKEN),
  );
  assert.deepEqual([again.domid, again.resumed], [first.domid, true]);
  await assert.rejects(
    call("GetDomainInfo", {}, bearerMetadata(first.credential)),
    (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED,
  );
});

test("Enrol with the token but without the instance secret cannot take over a live instance (ALREADY_EXISTS)", async () => {
  const first = await call<EnrolResponse__Output>(
    "Enrol",
    { instance: "c3" },
    bearerMetadata(TOKEN),
  );
  await assert.rejects(
    call("Enrol", { instance: "c3" }, bearerMetadata(TOKEN)),
    (err: grpc.ServiceError) => err.code === grpc.status.ALREADY_EXISTS,
  );
  await assert.rejects(
    call("Enrol", { instance: "c3", instanceSecret: "not-the-secret" }, bearerMetadata(TOKEN)),
    (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED,
  );
  const info = await call<{ domid: number }>("GetDomainInfo", {}, bearerMetadata(first.credential));
  assert.equal(info.domid, first.domid, "the live guest's credential still works");
});

test("Enrol refuses a wrong token and a domain credential (wrong kind) with UNAUTHENTICATED", async () => {
  await assert.rejects(
    call("Enrol", { instance: "x" }, bearerMetadata("wrong-token-0123456789")),
    (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED,
  );
  const e = await call<EnrolResponse__Output>("Enrol", { instance: "c2" }, bearerMetadata(TOKEN));
  await assert.rejects(
    call("Enrol", { instance: "y" }, bearerMetadata(e.credential)),
    (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED,
  );
  await assert.rejects(
    call("GetDomainInfo", {}, bearerMetadata(TOKEN)),
    (err: grpc.ServiceError) => err.code === grpc.status.UNAUTHENTICATED,
    "an enrolment token is not a domain credential",
  );
});

test("Enrol refuses a bad instance name with INVALID_ARGUMENT naming it", async () => {
  await assert.rejects(
    call("Enrol", { instance: "no/slashes" }, bearerMetadata(TOKEN)),
    (err: grpc.ServiceError) =>
      err.code === grpc.status.INVALID_ARGUMENT && err.details.includes("no/slashes"),
  );
});

test("ListPeers shows every other live domain with its label, not the caller", async () => {
  const me = await call<EnrolResponse__Output>(
    "Enrol",
    { instance: "lister" },
    bearerMetadata(TOKEN),
  );
  const peer = await call<EnrolResponse__Output>(
    "Enrol",
    { instance: "peer" },
    bearerMetadata(TOKEN),
  );
  const { peers } = await call<ListPeersResponse__Output>(
    "ListPeers",
    {},
    bearerMetadata(me.credential),
  );
  assert.ok(
    peers.some((p) => p.domid === peer.domid && p.name === "guest-peer" && p.label === "guest_t"),
  );
  assert.ok(!peers.some((p) => p.domid === me.domid));
});
