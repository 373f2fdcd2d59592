// SPDX-License-Identifier: Apache-2.0
/** The tunnel workload's flags: both shapes parse, and each bad value is one line naming the flag. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseGuestConfig } from "../config.js";
import { parseTunnelFlags } from "./tunnel-flags.js";

function problems(flags: Parameters<typeof parseTunnelFlags>[0]): string[] {
  const out: string[] = [];
  assert.equal(parseTunnelFlags(flags, out), undefined);
  return out;
}

describe("tunnel flags", () => {
  it("the entry and exit shapes parse, through hmx guest's own parser", () => {
    const base = ["--hypervisor", "h:1", "--workload", "tunnel"];
    const env = { HMX_DOMAIN_CREDENTIAL: "c" };
    const entry = parseGuestConfig({
      argv: [...base, "--listen", "tcp:127.0.0.1:6380", "--to", "redis-vm:0x1f"],
      env,
    });
    assert.ok(entry !== "help");
    assert.deepEqual(entry.tunnel, {
      mode: "entry",
      listen: { kind: "tcp", host: "127.0.0.1", port: 6380 },
      to: { peer: "redis-vm", aport: 0x1f },
      maxConnections: 64,
    });
    const exit = parseGuestConfig({
      argv: [
        ...base,
        "--serve",
        "31",
        "--connect",
        "unix:/run/redis.sock",
        "--max-connections",
        "8",
      ],
      env,
    });
    assert.ok(exit !== "help");
    assert.deepEqual(exit.tunnel, {
      mode: "exit",
      serve: 31,
      connect: { kind: "unix", path: "/run/redis.sock" },
      maxConnections: 8,
    });
  });

  it("each bad value is a line naming the flag and the value", () => {
    assert.deepEqual(problems({ listen: "127.0.0.1:80", to: "3:x" }), [
      '--listen: "127.0.0.1:80" is not tcp:HOST:PORT (port 1..65535) nor unix:/PATH',
      '--to: "x" is not an Argo port in [1, 4294967295]',
    ]);
    assert.deepEqual(problems({ listen: "tcp:h:70000", to: "40000:7" }), [
      '--listen: "tcp:h:70000" is not tcp:HOST:PORT (port 1..65535) nor unix:/PATH',
      '--to: domid 40000 in "40000:7" is not in [1, 32751]',
    ]);
    assert.deepEqual(problems({ serve: "0", connect: "tcp:h:1", maxConnections: "500" }), [
      '--max-connections: "500" is not an integer in [1, 100]',
      '--serve: "0" is not an Argo port in [1, 4294967295]',
    ]);
    assert.deepEqual(problems({ listen: "tcp:h:1", serve: "5" }), [
      "the tunnel is either --listen ADDR --to PEER:APORT or --serve APORT --connect ADDR, not both",
    ]);
    assert.deepEqual(problems({}), [
      "the tunnel workload needs --listen ADDR --to PEER:APORT, or --serve APORT --connect ADDR",
    ]);
  });

  it("tunnel flags do not apply to other workloads", () => {
    assert.throws(
      () =>
        parseGuestConfig({
          argv: ["--hypervisor", "h:1", "--workload", "echo", "--serve", "5"],
          env: { HMX_DOMAIN_CREDENTIAL: "c" },
        }),
      /--serve: does not apply to the echo workload \(only tunnel\)/,
    );
  });
});
