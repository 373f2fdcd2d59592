// SPDX-License-Identifier: Apache-2.0
/**
 * The harness surface (DESIGN §3.4) of a real `hmx hypervisor` process, used the way an external
 * harness would: the HTTP listener's routes and their auth, Prometheus counters moving with real
 * hypercalls, the history over WebSocket (Jepsen op shape, resume with `since`, the gap event,
 * filters, a subscriber that never reads), and gRPC reflection and health on both listeners.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { decodeHistoryFrame } from "@hmx/client";
import { SessionClient, type HypercallOp } from "@hmx/guest-agent";
import {
  ARGO_DOMID_ANY,
  ARGO_RING_HEADER_SIZE,
  FIRST_GUEST_GFN,
  PAGE_SIZE,
  npagesRing,
  ringLenForPages,
} from "@hmx/proto/abi";
import { Testbed } from "@hmx/testkit";
import { protoPath as healthProtoPath } from "grpc-health-check";
import assert from "node:assert/strict";
import { crc32 } from "node:zlib";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";

/** Small, so a test can push events past it. */
const HISTORY_WINDOW = 2000;

interface HistoryEvent {
  seq: number;
  time: string;
  kind: string;
  type?: string;
  f?: string;
  process?: number;
  ret?: number | null;
  error?: string;
  value?: Record<string, unknown> | null;
  domid?: number;
  state?: string;
  event?: string;
  from?: number;
  to?: number;
  dropped?: number;
}

let bed: Testbed;
let http = "";

before(async () => {
  bed = await Testbed.start([
    "--argo-mac-permissive",
    "--http-listen",
    "127.0.0.1:0",
    "--history-window",
    String(HISTORY_WINDOW),
  ]);
  http = String(bed.hypervisor.last("hypervisor ready")?.["httpListen"]);
  assert.match(http, /^127\.0\.0\.1:\d+$/, "the ready line names the HTTP listener");
  // The history records from its first subscriber on; start it so every test sees a history.
  await (await HistoryTap.open()).close();
});
after(async () => {
  await bed.stopAll();
});

function get(path: string, token?: string): Promise<Response> {
  return fetch(`http://${http}${path}`, {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
}

/** The sample values of a Prometheus text exposition, keyed by `name{labels}`. */
async function scrape(): Promise<{ text: string; value: (key: string) => number }> {
  const res = await get("/metrics", bed.adminToken);
  assert.equal(res.status, 200);
  const text = await res.text();
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return { text, value: (key) => samples.get(key) ?? 0 };
}

/** A live history subscription collecting its frames. */
class HistoryTap {
  readonly events: HistoryEvent[] = [];
  closed: { code: number; reason: string } | undefined;
  private constructor(readonly ws: WebSocket) {
    // Text frames carry one JSON event; binary ones (`format=binary`) many.
    ws.on("message", (data: Buffer, isBinary: boolean) => {
      if (isBinary) this.events.push(...(decodeHistoryFrame(data) as unknown as HistoryEvent[]));
      else this.events.push(JSON.parse(data.toString()) as HistoryEvent);
    });
    ws.on("close", (code: number, reason: Buffer) => {
      this.closed = { code, reason: reason.toString() };
    });
  }

  static open(query = "", token = bed.adminToken): Promise<HistoryTap> {
    const ws = new WebSocket(`ws://${http}/v1/history${query}`, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
    });
    const tap = new HistoryTap(ws);
    return new Promise((resolve, reject) => {
      ws.once("open", () => {
        resolve(tap);
      });
      ws.once("unexpected-response", (_req, res) => {
        reject(new Error(`upgrade refused: ${res.statusCode}`));
      });
      ws.once("error", reject);
    });
  }

  async waitFor(
    predicate: (e: HistoryEvent) => boolean,
    what: string,
    timeoutMs = 15_000,
  ): Promise<HistoryEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(predicate);
      if (hit !== undefined) return hit;
      if (Date.now() > deadline)
        throw new Error(
          `no ${what} within ${timeoutMs} ms; last: ${JSON.stringify(this.events.at(-1))}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once("close", () => {
        resolve();
      });
      this.ws.close();
    });
  }
}

/** A connected guest: its domain and a Session client on it. */
async function guest(
  name: string,
): Promise<{ domid: number; credential: string; client: SessionClient }> {
  const { domid, credential } = await bed.domain(name);
  return {
    domid,
    credential,
    client: await SessionClient.connect({ address: bed.listen, credential }),
  };
}

const RING_GPA = FIRST_GUEST_GFN * PAGE_SIZE;
const STAGING_GPA = (FIRST_GUEST_GFN + 16) * PAGE_SIZE;

async function registerRing(rx: SessionClient, aport: number, partner: number): Promise<void> {
  const len = ringLenForPages(4);
  assert.equal(await rx.writeMemory(RING_GPA, Buffer.alloc(ARGO_RING_HEADER_SIZE)), 0);
  const gfns = Array.from({ length: npagesRing(len) }, (_, i) => FIRST_GUEST_GFN + i);
  assert.equal(await rx.registerRing({ aport, partnerId: partner, len, gfns, flags: 0 }), 0);
}

function sendvOp(dstDomid: number, aport: number, len: number): HypercallOp {
  return {
    op: "sendv",
    src: { aport: 1, domainId: ARGO_DOMID_ANY },
    dst: { aport, domainId: dstDomid },
    iovs: [{ gpa: STAGING_GPA, len }],
    messageType: 0,
  };
}

/** `n` cheap hypercalls (each one history event), in Session batches. */
async function burst(
  client: SessionClient,
  n: number,
  op: HypercallOp = { op: "getDomainInfo" },
): Promise<void> {
  for (let done = 0; done < n; done += 1000)
    await client.batch(Array.from({ length: Math.min(1000, n - done) }, () => op));
}

describe("harness HTTP listener", () => {
  test("/healthz answers without a token; /metrics and /v1/history refuse a missing or wrong token with 401", async () => {
    const health = await get("/healthz");
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: "SERVING" });
    for (const path of ["/metrics", "/v1/history"]) {
      for (const token of [undefined, "wrong-token-of-enough-length"]) {
        const res = await get(path, token);
        assert.equal(res.status, 401, `${path} with token ${String(token)}`);
        assert.match(await res.text(), /admin token/);
      }
    }
    assert.equal((await get("/v1/history", bed.adminToken)).status, 426, "history is a WebSocket");
    assert.equal((await get("/nowhere", bed.adminToken)).status, 404);
    const post = await fetch(`http://${http}/metrics`, { method: "POST" });
    assert.equal(post.status, 405);
  });

  test("the history WebSocket upgrade is refused without the admin token, and for a bad query", async () => {
    await assert.rejects(
      HistoryTap.open("", "wrong-token-of-enough-length"),
      /upgrade refused: 401/,
    );
    const ws = new WebSocket(`ws://${http}/v1/history`);
    const status = await new Promise<number>((resolve) => {
      ws.once("unexpected-response", (_req, res) => {
        resolve(res.statusCode ?? 0);
      });
      ws.once("error", () => {
        resolve(-1);
      });
    });
    assert.equal(status, 401);
    await assert.rejects(HistoryTap.open("?kinds=hypercall,bogus"), /upgrade refused: 400/);
    await assert.rejects(HistoryTap.open("?since=99999999"), /upgrade refused: 400/);
  });

  test("metrics move with real hypercalls: a sendv counts ok and its bytes, a sendv to no ring counts ECONNREFUSED", async () => {
    const before = await scrape();
    const rx = await guest("m-rx");
    const tx = await guest("m-tx");
    try {
      await registerRing(rx.client, 7, tx.domid);
      assert.equal(await tx.client.writeMemory(STAGING_GPA, Buffer.alloc(100, 7)), 0);
      const [sent, refused] = await tx.client.batch([
        sendvOp(rx.domid, 7, 100),
        sendvOp(rx.domid, 8, 100),
      ]);
      assert.equal(sent?.op === "sendv" ? sent.ret : undefined, 100);
      assert.equal(refused?.op === "sendv" ? refused.ret : undefined, -111);
      const after = await scrape();
      const delta = (key: string): number => after.value(key) - before.value(key);
      assert.equal(delta('hmx_hypercalls_total{op="sendv",result="ok"}'), 1);
      assert.equal(delta('hmx_hypercalls_total{op="sendv",result="ECONNREFUSED"}'), 1);
      assert.equal(delta('hmx_hypercall_duration_seconds_count{op="sendv"}'), 2);
      assert.equal(delta("hmx_bytes_copied_total"), 100);
      assert.equal(delta("hmx_messages_total"), 1);
      assert.ok(after.value("hmx_domains") >= 2);
      assert.equal(after.value(`hmx_rings{domid="${rx.domid}"}`), 1);
      assert.equal(after.value(`hmx_link_up{domid="${tx.domid}"}`), 1);
      assert.equal(after.value(`hmx_guest_streams{domid="${tx.domid}",kind="session"}`), 1);
      assert.equal(after.value("hmx_faults_active"), 0);
      for (const secret of [bed.adminToken, rx.credential, tx.credential])
        assert.equal(after.text.includes(secret), false, "no label or value holds a credential");
    } finally {
      await Promise.all([rx.client.close(), tx.client.close()]);
    }
  });
});

describe("history over WebSocket", () => {
  test("hypercalls follow Jepsen's op shape; a sendv carries its addresses, length and digest, never its bytes", async () => {
    const tap = await HistoryTap.open();
    const rx = await guest("h-rx");
    const tx = await guest("h-tx");
    try {
      await registerRing(rx.client, 9, tx.domid);
      const payload = Buffer.from("history-payload-".repeat(4));
      assert.equal(await tx.client.writeMemory(STAGING_GPA, payload), 0);
      await tx.client.batch([
        sendvOp(rx.domid, 9, payload.length),
        sendvOp(rx.domid, 10, payload.length),
      ]);
      const isSendv = (e: HistoryEvent): boolean =>
        e.kind === "hypercall" && e.f === "sendv" && e.process === tx.domid;
      const ok = await tap.waitFor((e) => isSendv(e) && e.type === "ok", "the delivered sendv");
      assert.equal(ok.ret, payload.length);
      assert.deepEqual(ok.value, {
        src: { domid: tx.domid, aport: 1 },
        dst: { domid: rx.domid, aport: 9 },
        messageType: 0,
        len: payload.length,
        // CRC-32 as every language's zlib computes it (docs/harness.md).
        digest: `crc32:${crc32(payload).toString(16).padStart(8, "0")}`,
      });
      const fail = await tap.waitFor((e) => isSendv(e) && e.type === "fail", "the refused sendv");
      assert.equal(fail.ret, -111);
      assert.equal(fail.error, "ECONNREFUSED");
      await tap.waitFor(
        (e) => e.kind === "domain" && e.domid === rx.domid && e.event === "created",
        "domain created",
      );
      await tap.waitFor(
        (e) => e.kind === "link" && e.domid === tx.domid && e.state === "up",
        "link up",
      );
      await tap.waitFor((e) => e.kind === "session" && e.domid === tx.domid, "session open");
      await tap.waitFor((e) => e.kind === "virq" && e.domid === rx.domid, "the receiver's VIRQ");
      const frames = JSON.stringify(tap.events);
      assert.equal(
        frames.includes("history-payload"),
        false,
        "payload bytes never enter the history",
      );
      assert.equal(frames.includes(payload.toString("base64")), false);
      for (let i = 1; i < tap.events.length; i++) {
        const [a, b] = [tap.events[i - 1], tap.events[i]];
        assert.ok(
          a !== undefined && b !== undefined && b.seq > a.seq && b.time >= a.time,
          "seq and time increase",
        );
      }
      await Promise.all([rx.client.close(), tx.client.close()]);
      await tap.waitFor(
        (e) => e.kind === "link" && e.domid === tx.domid && e.state === "down",
        "link down",
      );
    } finally {
      await tap.close();
    }
  });

  test("a subscriber resuming with since after a reconnect loses and repeats nothing within the window", async () => {
    const g = await guest("resume");
    const first = await HistoryTap.open();
    try {
      await burst(g.client, 300);
      await first.waitFor((e) => e.f === "getDomainInfo" && e.process === g.domid, "first events");
      await first.close();
      const lastSeen = first.events.at(-1)?.seq ?? 0;
      await burst(g.client, 300); // while nobody listens
      const second = await HistoryTap.open(`?since=${lastSeen}`);
      try {
        await g.client.writeMemory(STAGING_GPA, Buffer.from("marker"));
        await second.waitFor((e) => e.f === "writeMemory" && e.process === g.domid, "the marker");
        const seqs = [...first.events, ...second.events].map((e) => e.seq);
        const start = seqs[0] ?? 0;
        assert.deepEqual(
          seqs,
          Array.from({ length: seqs.length }, (_, i) => start + i),
          "consecutive seqs across the reconnect: none lost, none repeated",
        );
        assert.equal(second.events[0]?.seq, lastSeen + 1);
        assert.ok(second.events.filter((e) => e.f === "getDomainInfo").length >= 300);
      } finally {
        await second.close();
      }
    } finally {
      await g.client.close();
    }
  });

  test("a since older than the retained window starts with a gap event saying what was lost", async () => {
    const g = await guest("gap");
    try {
      await burst(g.client, HISTORY_WINDOW + 100);
      const tap = await HistoryTap.open("?since=1");
      try {
        const first = await tap.waitFor(() => true, "the first frame");
        assert.equal(first.kind, "gap");
        assert.equal(first.from, 2);
        assert.ok(
          (first.to ?? 0) >= 2 && first.dropped === (first.to ?? 0) - 1,
          JSON.stringify(first),
        );
        const next = await tap.waitFor((e) => e.seq > (first.to ?? 0), "the oldest retained event");
        assert.equal(next.seq, (first.to ?? 0) + 1, "then every retained event, from the oldest");
      } finally {
        await tap.close();
      }
    } finally {
      await g.client.close();
    }
  });

  test("kinds and domid filters pass only matching events", async () => {
    const a = await guest("filter-a");
    const tap = await HistoryTap.open(`?kinds=hypercall,link&domid=${a.domid}`);
    const b = await guest("filter-b");
    try {
      await burst(b.client, 20);
      await burst(a.client, 20);
      await a.client.writeMemory(STAGING_GPA, Buffer.from("end"));
      await tap.waitFor((e) => e.f === "writeMemory", "a's marker");
      assert.ok(tap.events.length >= 21);
      for (const e of tap.events) {
        assert.ok(e.kind === "hypercall" || e.kind === "link", `kind ${e.kind}`);
        assert.ok(
          e.process === a.domid || e.domid === a.domid,
          `event of another domain: ${JSON.stringify(e)}`,
        );
      }
    } finally {
      await Promise.all([tap.close(), a.client.close(), b.client.close()]);
    }
  });

  test("a subscriber that never reads: the service's queue for it stays bounded and it is closed saying why", async () => {
    const g = await guest("flood");
    const stalled = await HistoryTap.open();
    stalled.ws.pause(); // stop reading from the socket: TCP fills, then the server's queue
    try {
      // Enough failing sendvs (~200-byte events) to fill the loopback socket buffers several
      // times over, and to push far past the retained window.
      await burst(g.client, 60_000, sendvOp(0x7fe0, 1, 8));
      const m = await scrape();
      const bound = 1024 * 1024 + 4096;
      assert.ok(
        m.value("hmx_history_queue_peak_bytes") <= bound,
        `peak queue ${m.value("hmx_history_queue_peak_bytes")} bytes, bound ${bound}`,
      );
      assert.ok(
        m.value("hmx_history_closed_subscribers") >= 1,
        "the stalled subscriber was closed",
      );
      stalled.ws.resume();
      const deadline = Date.now() + 15_000;
      while (stalled.closed === undefined && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(stalled.closed?.code, 4002, JSON.stringify(stalled.closed));
      assert.match(stalled.closed.reason, /not reading/);
      const seqs = stalled.events.map((e) => e.seq);
      assert.deepEqual(
        [...seqs].sort((x, y) => x - y),
        seqs,
        "what it did get was in order",
      );
    } finally {
      stalled.ws.terminate();
      await g.client.close();
    }
  });

  test("a binary subscriber that never reads is bounded and closed the same way", async () => {
    const g = await guest("flood-binary");
    const stalled = await HistoryTap.open("?format=binary");
    stalled.ws.pause();
    try {
      // Binary entries are a third of a JSON line's bytes: three times the events of the JSON
      // case to fill the same socket buffers and queue.
      await burst(g.client, 180_000, sendvOp(0x7fe0, 1, 8));
      const m = await scrape();
      const bound = 1024 * 1024 + 4096;
      assert.ok(
        m.value("hmx_history_queue_peak_bytes") <= bound,
        `peak queue ${m.value("hmx_history_queue_peak_bytes")} bytes, bound ${bound}`,
      );
      stalled.ws.resume();
      const deadline = Date.now() + 15_000;
      while (stalled.closed === undefined && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(stalled.closed?.code, 4002, JSON.stringify(stalled.closed));
      assert.match(stalled.closed.reason, /not reading/);
      const seqs = stalled.events.map((e) => e.seq);
      assert.ok(seqs.length > 0, "it got the events before it stalled");
      assert.deepEqual(
        seqs,
        Array.from({ length: seqs.length }, (_, i) => (seqs[0] ?? 0) + i),
        "what it did get was contiguous and in order",
      );
    } finally {
      stalled.ws.terminate();
      await g.client.close();
    }
  });
});

describe("gRPC reflection and health", () => {
  const reflectionProtos = join(
    dirname(createRequire(import.meta.url).resolve("@grpc/reflection")),
    "..",
    "proto",
  );

  /** Lists services through `grpc.reflection.<version>.ServerReflection`. */
  async function listServices(address: string, version: "v1" | "v1alpha"): Promise<string[]> {
    const def = protoLoader.loadSync(
      join(reflectionProtos, `grpc/reflection/${version}/reflection.proto`),
    );
    const pkg = grpc.loadPackageDefinition(def) as unknown as Record<
      string,
      Record<string, Record<string, Record<string, grpc.ServiceClientConstructor>>>
    >;
    const Ctor = pkg["grpc"]?.["reflection"]?.[version]?.["ServerReflection"];
    assert.ok(Ctor !== undefined);
    const client = new Ctor(address, grpc.credentials.createInsecure());
    try {
      const call = client["serverReflectionInfo"] as () => grpc.ClientDuplexStream<
        object,
        { listServicesResponse?: { service: { name: string }[] } }
      >;
      const stream = call.call(client);
      const names = await new Promise<string[]>((resolve, reject) => {
        stream.once("data", (res: { listServicesResponse?: { service: { name: string }[] } }) => {
          resolve((res.listServicesResponse?.service ?? []).map((s) => s.name));
        });
        stream.once("error", reject);
        stream.write({ listServices: "" });
      });
      stream.end();
      return names.sort();
    } finally {
      client.close();
    }
  }

  async function healthOf(address: string, service: string): Promise<string> {
    const def = protoLoader.loadSync(healthProtoPath, { enums: String });
    const Health = (
      grpc.loadPackageDefinition(def) as unknown as {
        grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
      }
    ).grpc.health.v1.Health;
    const client = new Health(address, grpc.credentials.createInsecure());
    try {
      return await new Promise<string>((resolve, reject) => {
        (
          client["check"] as (
            req: object,
            cb: (err: Error | null, res?: { status: string }) => void,
          ) => void
        ).call(client, { service }, (err, res) => {
          if (err !== null) reject(err);
          else resolve(res?.status ?? "");
        });
      });
    } finally {
      client.close();
    }
  }

  const common = [
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
  ];

  test("reflection (v1 and v1alpha) lists every service of the guest listener and of the toolstack listener", async () => {
    for (const version of ["v1", "v1alpha"] as const) {
      assert.deepEqual(
        await listServices(bed.listen, version),
        [...common, "hmx.argo.v1.Hypervisor"].sort(),
        version,
      );
      assert.deepEqual(
        await listServices(bed.controlListen, version),
        [...common, "hmx.toolstack.v1.Toolstack"].sort(),
        version,
      );
    }
  });

  test("health answers SERVING on both listeners, for the server and per service", async () => {
    for (const [address, service] of [
      [bed.listen, "hmx.argo.v1.Hypervisor"],
      [bed.controlListen, "hmx.toolstack.v1.Toolstack"],
    ] as const) {
      assert.equal(await healthOf(address, ""), "SERVING");
      assert.equal(await healthOf(address, service), "SERVING");
    }
  });
});
