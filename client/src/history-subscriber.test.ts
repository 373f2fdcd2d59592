// SPDX-License-Identifier: Apache-2.0
/**
 * The history subscriber's rules against a scripted WebSocket server: it resumes after a cut
 * with `since` = the last seq delivered, delivers each seq once even if a server repeats one,
 * passes gaps through and counts them, ends on `until`, and does not retry a refusal.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { WebSocketServer, type WebSocket } from "ws";
import {
  HistorySubscriber,
  HistorySubscriberError,
  type HistoryEvent,
} from "./history-subscriber.js";

const TOKEN = "test-token";

/** One scripted connection: what the server saw and does. */
type Script = (ws: WebSocket, query: URLSearchParams) => void;

function event(seq: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ seq, time: "2026-12-03T00:00:00.000000000Z", kind: "virq", ...extra });
}

describe("HistorySubscriber", () => {
  let server: Server;
  let address = "";
  const scripts: Script[] = [];
  const queries: URLSearchParams[] = [];
  let refuse: { status: number; body: string } | undefined;

  before(async () => {
    const wss = new WebSocketServer({ noServer: true });
    server = createServer();
    server.on("upgrade", (req, socket, head) => {
      const url = new URL(req.url ?? "/", "http://x");
      if (refuse !== undefined || req.headers.authorization !== `Bearer ${TOKEN}`) {
        const r = refuse ?? { status: 401, body: '{"error":"missing or wrong admin token"}' };
        socket.end(
          `HTTP/1.1 ${r.status} No\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(r.body)}\r\n\r\n${r.body}`,
        );
        return;
      }
      queries.push(url.searchParams);
      wss.handleUpgrade(req, socket, head, (ws) => {
        const script = scripts.shift();
        if (script === undefined) ws.close(1011, "no script");
        else script(ws, url.searchParams);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  function subscribe(extra: Partial<ConstructorParameters<typeof HistorySubscriber>[0]> = {}): {
    sub: HistorySubscriber;
    seen: HistoryEvent[];
  } {
    const seen: HistoryEvent[] = [];
    const sub = new HistorySubscriber({
      address,
      adminToken: TOKEN,
      retryDelayMs: 10,
      onEvent: (e) => seen.push(e),
      ...extra,
    });
    return { sub, seen };
  }

  test("after a cut it resumes with since = the last seq delivered: every event once, in order", async () => {
    queries.length = 0;
    scripts.push(
      (ws) => {
        for (let s = 1; s <= 5; s++) ws.send(event(s));
        setTimeout(() => {
          ws.terminate(); // a cut, no close frame
        }, 20);
      },
      (ws, q) => {
        // A server that (wrongly) repeats the event at `since`: the subscriber must not.
        const since = Number(q.get("since"));
        for (let s = since; s <= 9; s++) ws.send(event(s));
        ws.close(1000);
      },
    );
    const { sub, seen } = subscribe({ since: 0, until: 9 });
    const end = await sub.done;
    assert.deepEqual(
      queries.map((q) => q.get("since")),
      ["0", "5"],
    );
    assert.deepEqual(
      seen.map((e) => e.seq),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(end, { reason: "until", lastSeq: 9 });
    assert.equal(sub.connections, 2);
  });

  test("a gap is delivered in order like any event and counted with what it lost", async () => {
    scripts.push((ws) => {
      ws.send(event(3));
      ws.send(
        JSON.stringify({
          seq: 10,
          time: "t",
          kind: "gap",
          from: 4,
          to: 10,
          dropped: 7,
          reason: "r",
        }),
      );
      ws.send(event(11));
      ws.close(1000);
    });
    const { sub, seen } = subscribe({ until: "now" });
    await sub.done;
    assert.deepEqual(
      seen.map((e) => [e.seq, e.kind]),
      [
        [3, "virq"],
        [10, "gap"],
        [11, "virq"],
      ],
    );
    assert.equal(sub.gaps, 1);
    assert.equal(sub.droppedEvents, 7);
  });

  test("the query carries kinds, domid and until as the hypervisor expects them", async () => {
    queries.length = 0;
    scripts.push((ws) => {
      ws.close(1000);
    });
    const { sub } = subscribe({ kinds: ["hypercall", "mac"], domid: 3, until: "now" });
    await sub.done;
    assert.equal(queries[0]?.toString(), "until=now&kinds=hypercall%2Cmac&domid=3");
  });

  test("a refused upgrade rejects done with the status and the hypervisor's message, without retrying", async () => {
    queries.length = 0;
    const { sub } = subscribe({ adminToken: "wrong" });
    await assert.rejects(sub.done, (err: unknown) => {
      assert.ok(err instanceof HistorySubscriberError);
      assert.equal(err.status, 401);
      assert.match(err.message, /HTTP 401.*missing or wrong admin token/);
      return true;
    });
    assert.equal(queries.length, 0, "never upgraded");
  });

  test("an unreachable listener is retried maxAttempts times, then done rejects naming it", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => {
      closed.close(() => {
        resolve();
      });
    });
    const lost: string[] = [];
    const sub = new HistorySubscriber({
      address: `127.0.0.1:${port}`,
      adminToken: TOKEN,
      retryDelayMs: 5,
      maxAttempts: 2,
      onEvent: () => undefined,
      onConnection: (c) => {
        if (c.state === "lost") lost.push(c.reason);
      },
    });
    await assert.rejects(sub.done, new RegExp(`127\\.0\\.0\\.1:${port}.*gave up after 2 retries`));
    assert.equal(lost.length, 2);
  });

  test("close() ends a followed subscription with reason closed and the last seq", async () => {
    scripts.push((ws) => {
      ws.send(event(1));
      ws.send(event(2));
    });
    const { sub, seen } = subscribe();
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
    sub.close();
    assert.deepEqual(await sub.done, { reason: "closed", lastSeq: 2 });
  });
});
