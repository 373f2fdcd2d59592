// SPDX-License-Identifier: Apache-2.0
/**
 * The link-cut proxy must never leave a handle that keeps its process from exiting (issue 17):
 * a socket reset while its own shutdown is in flight is the case Node gets wrong.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { test } from "node:test";
import { pathToFileURL } from "node:url";

// Runs in a child process: a server socket ends its side, and right after the shutdown request
// has been issued (the window the proxy hits when a guest closes its channel just before a cut)
// the link is cut with resetLink. The process must then exit by itself.
const CHILD = `
import net from "node:net";
import { resetLink } from ${JSON.stringify(pathToFileURL(new URL("./tcp-proxy.js", import.meta.url).pathname).href)};
const server = net.createServer((s) => {
  s.on("error", (e) => { console.log("error " + e.syscall + " " + e.code); });
  const handle = s._handle;
  const shutdown = handle.shutdown.bind(handle);
  handle.shutdown = (req) => {
    const r = shutdown(req);
    queueMicrotask(() => { resetLink(s); server.close(); client.destroy(); console.log("cut"); });
    return r;
  };
  s.end();
});
let client;
server.listen(0, "127.0.0.1", () => {
  client = net.connect(server.address().port, "127.0.0.1");
  client.on("error", () => {});
});
`;

test("a link cut while the socket's shutdown is in flight leaves nothing open: the process exits", async () => {
  const child = spawn(process.execPath, ["--input-type=module", "-e", CHILD], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  // A hung child spins forever; 20 s is far beyond the ~100 ms a healthy one needs.
  const killer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const [code, signal] = (await once(child, "exit")) as [number | null, NodeJS.Signals | null];
  clearTimeout(killer);
  assert.equal(signal, null, `the child hung at exit and was killed; output: ${out}`);
  assert.equal(code, 0);
  assert.match(out, /^cut$/m, "the cut ran");
  assert.doesNotMatch(out, /error reset/, "no reset was attempted on a shutting socket");
});
