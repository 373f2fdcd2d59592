// SPDX-License-Identifier: Apache-2.0
/**
 * The Prometheus exposition: hypercalls counted by op and result name (ok, errno, gRPC status),
 * the per-op latency histogram in Prometheus' cumulative-bucket form, bytes and messages from
 * successful sendvs, and state gauges read at scrape time.
 */
import { Errno } from "@hmx/proto/abi";
import assert from "node:assert/strict";
import { test } from "node:test";
import { CallStatusCode } from "../dispatch/hypercall.js";
import { HmxMetrics, resultLabel } from "./metrics.js";

function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

test("result labels name the errno or the gRPC status, and ok for a non-negative ret", () => {
  assert.equal(resultLabel({ op: "sendv", ret: 64 }), "ok");
  assert.equal(resultLabel({ op: "sendv", ret: -Errno.EAGAIN }), "EAGAIN");
  assert.equal(
    resultLabel({ op: "status", code: CallStatusCode.RESOURCE_EXHAUSTED, message: "" }),
    "RESOURCE_EXHAUSTED",
  );
  assert.equal(resultLabel({ op: "sendv", ret: -4095 }), "errno_4095");
});

test("hypercalls, latency buckets, bytes and gauges appear in the exposition with hmx_ names", async () => {
  const metrics = new HmxMetrics({
    domids: () => [3, 4],
    ringCount: (d) => (d === 4 ? 2 : 0),
    streams: (d, kind) => (d === 3 && kind === "session" ? 1 : 0),
    activeFaults: () => 0,
  });
  metrics.hypercall("sendv", { op: "sendv", ret: 100 }, 3e-6);
  metrics.hypercall("sendv", { op: "sendv", ret: 28 }, 2e-5);
  metrics.hypercall("sendv", { op: "sendv", ret: -Errno.EAGAIN }, 2e-3);
  metrics.hypercall(
    "writeMemory",
    { op: "status", code: CallStatusCode.RESOURCE_EXHAUSTED, message: "quota" },
    1e-6,
  );
  metrics.virq();
  metrics.macDenial("flask", "send");
  const text = await metrics.registry.metrics();
  const s = samples(text);
  assert.equal(s.get('hmx_hypercalls_total{op="sendv",result="ok"}'), 2);
  assert.equal(s.get('hmx_hypercalls_total{op="sendv",result="EAGAIN"}'), 1);
  assert.equal(s.get('hmx_hypercalls_total{op="writeMemory",result="RESOURCE_EXHAUSTED"}'), 1);
  assert.equal(s.get('hmx_hypercall_duration_seconds_bucket{op="sendv",le="0.000005"}'), 1);
  assert.equal(s.get('hmx_hypercall_duration_seconds_bucket{op="sendv",le="0.000025"}'), 2);
  assert.equal(s.get('hmx_hypercall_duration_seconds_bucket{op="sendv",le="+Inf"}'), 3);
  assert.equal(s.get('hmx_hypercall_duration_seconds_count{op="sendv"}'), 3);
  assert.equal(s.get("hmx_bytes_copied_total"), 128);
  assert.equal(s.get("hmx_messages_total"), 2);
  assert.equal(s.get("hmx_virqs_total"), 1);
  assert.equal(s.get('hmx_mac_denials_total{module="flask",permission="send"}'), 1);
  assert.equal(s.get("hmx_domains"), 2);
  assert.equal(s.get('hmx_rings{domid="4"}'), 2);
  assert.equal(s.get('hmx_link_up{domid="3"}'), 1);
  assert.equal(s.get('hmx_link_up{domid="4"}'), 0);
  assert.equal(s.get("hmx_faults_active"), 0);
  assert.match(text, /# TYPE hmx_hypercall_duration_seconds histogram/);
  for (const line of text.split("\n"))
    if (line !== "" && !line.startsWith("#")) assert.match(line, /^hmx_/, line);
});
