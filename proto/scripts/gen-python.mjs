// SPDX-License-Identifier: Apache-2.0
// Regenerates the Python stubs of clients/python (hmx.argo.v1, hmx.toolstack.v1) with protoc and
// its gRPC Python plugin (Debian: protobuf-compiler, protobuf-compiler-grpc). The output is
// checked in, so harness authors need neither; a test regenerates it and compares, so it cannot
// drift from the .proto files. `--out DIR` writes elsewhere (that test uses it).
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const protoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const outFlag = process.argv.indexOf("--out");
const outDir =
  outFlag === -1 ? join(protoRoot, "..", "clients", "python") : process.argv[outFlag + 1];
if (outDir === undefined) {
  console.error("gen-python: --out needs a directory");
  process.exit(2);
}
const plugin = process.env.HMX_GRPC_PYTHON_PLUGIN ?? "/usr/bin/grpc_python_plugin";
const protos = ["hmx/argo/v1/hypervisor.proto", "hmx/toolstack/v1/toolstack.proto"];
const packages = protos.map((file) => dirname(file));

for (const pkg of packages) rmSync(join(outDir, pkg), { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });
try {
  execFileSync(
    "protoc",
    [
      `-I${protoRoot}`,
      `--python_out=${outDir}`,
      `--grpc_out=${outDir}`,
      `--plugin=protoc-gen-grpc=${plugin}`,
      ...protos,
    ],
    { stdio: "inherit" },
  );
} catch (err) {
  console.error(
    `gen-python: protoc failed (${err.message}); install Debian's protobuf-compiler and protobuf-compiler-grpc`,
  );
  process.exit(1);
}
// Regular packages, so that `import hmx.argo.v1` works from a checkout and from an install.
for (const pkg of packages) {
  const parts = pkg.split("/");
  for (let i = 2; i <= parts.length; i++)
    writeFileSync(join(outDir, ...parts.slice(0, i), "__init__.py"), "");
}
console.log(`generated ${packages.map((p) => join(outDir, p)).join(", ")}`);
