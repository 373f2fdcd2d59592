// SPDX-License-Identifier: Apache-2.0
// Container health check that needs no shell. Two kinds of evidence, by environment:
// - HMX_HEALTH_GRPC=HOST:PORT (the hypervisor): a real grpc.health.v1 Check must say SERVING;
// - otherwise HMX_HEALTH_FILE (a guest agent): the agent rewrites this JSON file every few
//   seconds while its session is up; it must be fresh and say {"state":"ready"}.
// Exit 0 healthy, 1 unhealthy (Docker's contract).
import { readFileSync, statSync } from "node:fs";

const MAX_AGE_MS = 15_000;

async function grpcHealthy(address) {
  const grpc = await import("@grpc/grpc-js");
  const health = await import("grpc-health-check");
  const loader = await import("@grpc/proto-loader");
  const def = loader.loadSync(health.protoPath, {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
  const Health = grpc.loadPackageDefinition(def).grpc.health.v1.Health;
  const client = new Health(address, grpc.credentials.createInsecure());
  try {
    return await new Promise((resolve) => {
      client.check({ service: "" }, { deadline: Date.now() + 2000 }, (err, res) => {
        resolve(err === null && res?.status === "SERVING");
      });
    });
  } finally {
    client.close();
  }
}

function fileHealthy(path) {
  try {
    if (Date.now() - statSync(path).mtimeMs > MAX_AGE_MS) return false;
    return JSON.parse(readFileSync(path, "utf8")).state === "ready";
  } catch {
    return false;
  }
}

const grpcAddress = process.env.HMX_HEALTH_GRPC;
const ok = grpcAddress
  ? await grpcHealthy(grpcAddress)
  : fileHealthy(process.env.HMX_HEALTH_FILE ?? "/tmp/hmx-health.json");
process.exit(ok ? 0 : 1);
