// SPDX-License-Identifier: Apache-2.0
// Regenerates proto/src/gen from the .proto files with proto-loader-gen-types (no protoc needed).
// The options here MUST match LOADER_OPTIONS in proto/src/index.ts, or the types would lie.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const protoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(protoRoot, "src", "gen");
rmSync(outDir, { recursive: true, force: true });
execFileSync(
  process.execPath,
  [
    join(
      protoRoot,
      "..",
      "node_modules",
      "@grpc",
      "proto-loader",
      "build",
      "bin",
      "proto-loader-gen-types.js",
    ),
    "--longs=String",
    "--enums=String",
    "--defaults",
    "--oneofs",
    "--includeComments",
    "--grpcLib=@grpc/grpc-js",
    "--importFileExtension=.js",
    `--includeDirs=${protoRoot}`,
    `--outDir=${outDir}`,
    "hmx/argo/v1/hypervisor.proto",
    "hmx/toolstack/v1/toolstack.proto",
  ],
  { cwd: protoRoot, stdio: "inherit" },
);
console.log(`generated ${outDir}`);
