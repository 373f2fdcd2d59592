// SPDX-License-Identifier: Apache-2.0
/**
 * Hostile request ids (issue 9, finding 6): one call numbered 2^53-1, or one that jumps far
 * ahead, used to move the domain's request-id sequence to a point no later call could be
 * numbered above. Both are now refused with INVALID_ARGUMENT naming the value, and the sequence
 * is where it was: the next ordinary id still runs, once.
 */
import * as grpc from "@grpc/grpc-js";
import { GRPC_MESSAGE_LIMITS, bearerMetadata, loadHypervisorProto } from "@hmx/proto";
import { FIRST_GUEST_GFN, PAGE_SIZE } from "@hmx/proto/abi";
import { Testbed } from "@hmx/testkit";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";

let bed: Testbed;
let client: InstanceType<ReturnType<typeof loadHypervisorProto>["hmx"]["argo"]["v1"]["Hypervisor"]>;
let credential: string;
before(async () => {
  bed = await Testbed.start();
  ({ credential } = await bed.domain("numbered"));
  const Hypervisor = loadHypervisorProto().hmx.argo.v1.Hypervisor;
  client = new Hypervisor(bed.listen, grpc.credentials.createInsecure(), GRPC_MESSAGE_LIMITS);
});
after(async () => {
  client.close();
  await bed.stopAll();
});

/** WriteMemory with `hmx-request-id: id`; resolves with the status code (OK = 0). */
function writeWithId(id: string, byte: number): Promise<{ code: number; details: string }> {
  const md = bearerMetadata(credential);
  md.set("hmx-request-id", id);
  const request = { gpa: String(FIRST_GUEST_GFN * PAGE_SIZE), data: Buffer.alloc(8, byte) };
  return new Promise((resolve) => {
    client.writeMemory(request, md, (err) => {
      resolve(
        err === null
          ? { code: grpc.status.OK, details: "" }
          : { code: err.code, details: err.details },
      );
    });
  });
}

test("request ids that would use up the domain's sequence are refused naming the value; the sequence is unchanged", async () => {
  assert.equal((await writeWithId("1", 1)).code, grpc.status.OK);
  for (const id of [String(Number.MAX_SAFE_INTEGER), String(1 + 2 ** 32 + 1)]) {
    const refused = await writeWithId(id, 2);
    assert.equal(refused.code, grpc.status.INVALID_ARGUMENT, id);
    assert.ok(refused.details.includes(id), refused.details);
  }
  assert.equal((await writeWithId("2", 3)).code, grpc.status.OK, "the next ordinary id still runs");
});
