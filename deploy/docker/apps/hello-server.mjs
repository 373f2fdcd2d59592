// SPDX-License-Identifier: Apache-2.0
// The `web` app of the compose `apps` profile: a small HTTP server on 127.0.0.1:PORT (default
// 8080) that answers every GET with a fixed greeting and POST with the body's length and
// SHA-256, so a client across Argo can check that the bytes arrived whole.
import { createHash } from "node:crypto";
import { createServer } from "node:http";

const port = Number(process.argv[2] ?? "8080");
createServer((req, res) => {
  const hash = createHash("sha256");
  let length = 0;
  req.on("data", (chunk) => {
    hash.update(chunk);
    length += chunk.length;
  });
  req.on("end", () => {
    res.setHeader("content-type", "application/json");
    res.end(
      JSON.stringify(
        req.method === "POST"
          ? { length, sha256: hash.digest("hex") }
          : { hello: "from the web guest, across Argo", path: req.url },
      ) + "\n",
    );
  });
}).listen(port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ msg: "hello-server listening", port }) + "\n");
});
