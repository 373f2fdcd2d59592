// SPDX-License-Identifier: Apache-2.0
/** The "host:port" address syntax: what it accepts and what it refuses. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseHostPort } from "./host-port.js";

describe("parseHostPort", () => {
  it("accepts a name, an IPv4 address or a bracketed IPv6 address with a port 0..65535", () => {
    assert.deepEqual(parseHostPort("localhost:9000"), { host: "localhost", port: 9000 });
    assert.deepEqual(parseHostPort("10.0.0.1:0"), { host: "10.0.0.1", port: 0 });
    assert.deepEqual(parseHostPort("[::1]:65535"), { host: "[::1]", port: 65535 });
  });

  it("refuses a port above 65535, a missing port, an unbracketed IPv6 host and junk", () => {
    for (const bad of ["localhost:65536", "localhost", ":9000", "::1:9000", "a b:1", "h:-1"])
      assert.equal(parseHostPort(bad), undefined, bad);
  });
});
