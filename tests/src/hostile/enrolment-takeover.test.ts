// SPDX-License-Identifier: Apache-2.0
/**
 * Hostile fleet guest (issue 9, finding 4; docs/security.md): holding its template's enrolment
 * token like every guest of the template, it re-enrols under a live peer's instance name. The
 * hypervisor must refuse (no instance secret: ALREADY_EXISTS; a guessed one: UNAUTHENTICATED)
 * and the peer keeps being served. When the peer itself resumes with its secret, the replaced
 * credential's open streams end at once.
 */
import * as grpc from "@grpc/grpc-js";
import { SessionClient } from "@hmx/guest-agent";
import { GRPC_MESSAGE_LIMITS, bearerMetadata, loadHypervisorProto } from "@hmx/proto";
import type { EnrolResponse__Output } from "@hmx/proto/gen/hmx/argo/v1/EnrolResponse.js";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import { Testbed, attemptEnrolmentTakeover } from "@hmx/testkit";
import { propertySeed } from "@hmx/virtio/test-utils";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";

const SEED = propertySeed("enrolment-takeover");
const TOKEN = randomBytes(24).toString("base64url");

let bed: Testbed;
let client: InstanceType<ReturnType<typeof loadHypervisorProto>["hmx"]["argo"]["v1"]["Hypervisor"]>;
before(async () => {
  bed = await Testbed.start(
    ["--argo-mac-permissive", "--enrolment-template", "guest:guest_t:4M:8"],
    { HMX_ENROLMENT_TOKEN_GUEST: TOKEN },
  );
  const Hypervisor = loadHypervisorProto().hmx.argo.v1.Hypervisor;
  client = new Hypervisor(bed.listen, grpc.credentials.createInsecure(), GRPC_MESSAGE_LIMITS);
});
after(async () => {
  client.close();
  await bed.stopAll();
});

function enrol(instance: string, instanceSecret = ""): Promise<EnrolResponse__Output> {
  return new Promise((resolve, reject) => {
    client.enrol({ instance, instanceSecret }, bearerMetadata(TOKEN), (err, res) => {
      if (err !== null || res === undefined) reject(err ?? new Error("no reply"));
      else resolve(res);
    });
  });
}

test("a fleet guest holding the template token cannot take over a live peer's instance; the peer stays served", async () => {
  const victim = await enrol("victim");
  const session = await SessionClient.connect({
    address: bed.listen,
    credential: victim.credential,
  });
  try {
    const gpa = FIRST_GUEST_GFN * PAGE_SIZE;
    assert.equal(await session.writeMemory(gpa, Buffer.from("victim's secret")), 0);
    const outcomes = await attemptEnrolmentTakeover({
      address: bed.listen,
      token: TOKEN,
      victimInstance: "victim",
      seed: SEED,
    });
    assert.deepEqual(
      outcomes.map((o) => ("refused" in o ? o.refused : "stolen")),
      [grpc.status.ALREADY_EXISTS, grpc.status.UNAUTHENTICATED],
    );
    const read = await session.readMemory(gpa, 15);
    assert.deepEqual(
      [read.ret, read.data.toString()],
      [0, "victim's secret"],
      "the victim's session still works",
    );
  } finally {
    await session.close();
  }
});

test("replacing a credential ends the streams the old one opened at once (UNAUTHENTICATED)", async () => {
  const first = await enrol("restarts");
  const watch = client.watchEvents({}, bearerMetadata(first.credential));
  const ended = new Promise<grpc.ServiceError>((resolve) => watch.on("error", resolve));
  watch.on("data", () => undefined);
  // The stream is registered once its metadata is in; a unary call on the same channel after it
  // proves the hypervisor has seen both.
  await new Promise<void>((resolve, reject) => {
    client.getDomainInfo({}, bearerMetadata(first.credential), (err) => {
      if (err === null) resolve();
      else reject(err);
    });
  });
  const again = await enrol("restarts", first.instanceSecret);
  assert.deepEqual([again.domid, again.resumed], [first.domid, true]);
  const err = await ended;
  assert.equal(err.code, grpc.status.UNAUTHENTICATED);
  assert.match(err.details, /credential was replaced/);
});
