// SPDX-License-Identifier: Apache-2.0
/**
 * The dashboard's routes on a real `hmx hypervisor`, without a browser: the login (a form POST
 * of the admin token, never a URL) and its refusals, the session cookie's attributes, what the
 * cookie opens (`/v1/state`, the `/v1/history` WebSocket) and what it does not (another
 * origin, `/metrics`), logout, and `/v1/state` showing ring fill, links, faults and totals.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { DashboardBed, MESSAGE_BYTES, RING_APORT, RING_LEN } from "./dashboard-bed.js";

/** A message's footprint in a ring: the 16-byte header plus the payload, 16-byte aligned. */
const SLOT_BYTES = 16 + MESSAGE_BYTES;

interface StateBody {
  history: { oldestSeq: number; nextSeq: number };
  domains: {
    domid: number;
    name: string;
    label: string;
    link: string;
    rings: { aport: number; partner: number; len: number; used: number; waiters: number }[];
  }[];
  faults: { domain: string; enabled: boolean; toxics: { name: string; type: string }[] }[] | null;
  totals: { messages: number; bytes: number; macDenials: number; virqs: number };
}

let d: DashboardBed;
before(async () => {
  d = await DashboardBed.start();
});
after(async () => {
  await d.stop();
});

function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`http://${d.http}${path}`, { headers, redirect: "manual" });
}

/** The session cookie (`name=value`) a right login sets. */
async function session(): Promise<string> {
  const res = await d.login(d.bed.adminToken);
  assert.equal(res.status, 303);
  const cookie = res.headers.get("set-cookie") ?? "";
  return cookie.split(";")[0] ?? "";
}

/** Opens `/v1/history` with these headers; resolves with the HTTP status (101 when upgraded). */
function upgrade(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${d.http}/v1/history`, { headers });
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once("error", reject);
  });
}

describe("dashboard login", () => {
  test("a wrong or empty admin token is refused with 401, says so, and sets no cookie", async () => {
    for (const token of ["not-the-admin-token", ""]) {
      const res = await d.login(token);
      assert.equal(res.status, 401, `token ${JSON.stringify(token)}`);
      assert.equal(res.headers.get("set-cookie"), null);
      assert.match(await res.text(), /wrong admin token/);
    }
  });

  test("the right token gets an HttpOnly, SameSite=Strict session cookie and a redirect to the dashboard", async () => {
    const res = await d.login(d.bed.adminToken);
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/dashboard/");
    const cookie = res.headers.get("set-cookie") ?? "";
    assert.match(cookie, /^hmx_session=[A-Za-z0-9_-]{43}; /);
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    assert.match(cookie, /; Path=\//);
    assert.doesNotMatch(cookie, new RegExp(d.bed.adminToken), "the token is not the cookie");
  });

  test("a login from another origin, of the wrong content type or oversized is refused and sets no cookie", async () => {
    const foreign = await d.login(d.bed.adminToken, "http://evil.example");
    assert.equal(foreign.status, 403);
    assert.match(await foreign.text(), /evil\.example/);
    const json = await fetch(`http://${d.http}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: d.bed.adminToken }),
    });
    assert.equal(json.status, 415);
    assert.match(await json.text(), /application\/json/);
    const huge = await fetch(`http://${d.http}/dashboard/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `token=${"x".repeat(5000)}`,
    });
    assert.equal(huge.status, 413);
    assert.match(await huge.text(), /4096 bytes/);
    for (const res of [foreign, json, huge]) assert.equal(res.headers.get("set-cookie"), null);
  });

  test("the dashboard page without a session is the login form; with one it is the dashboard, under a strict CSP", async () => {
    const anonymous = await get("/dashboard/");
    assert.equal(anonymous.status, 200);
    assert.match(await anonymous.text(), /<form method="post" action="\/dashboard\/login">/);
    const page = await get("/dashboard/", { cookie: await session() });
    const html = await page.text();
    assert.match(html, /<script type="module" src="\/dashboard\/assets\/main\.js">/);
    assert.doesNotMatch(html, /<script>|style="/, "no inline script or style");
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.equal((await get("/dashboard")).headers.get("location"), "/dashboard/");
  });

  test("every page module is served by hmx itself as JavaScript, and unknown assets are 404", async () => {
    const main = await get("/dashboard/assets/main.js");
    assert.equal(main.status, 200);
    assert.match(main.headers.get("content-type") ?? "", /^text\/javascript/);
    const source = await main.text();
    const imports = [...source.matchAll(/from "\.\/([\w-]+\.js)"/g)].map((m) => m[1] ?? "");
    assert.ok(imports.length >= 4, `main.js imports its modules: ${imports.join(", ")}`);
    for (const name of imports) {
      const res = await get(`/dashboard/assets/${name}`);
      assert.equal(res.status, 200, name);
      assert.doesNotMatch(
        await res.text(),
        /\b(from|import)\s*\(?\s*["'](?!\.\/)/,
        `${name} imports only the page's own modules`,
      );
    }
    assert.equal((await get("/dashboard/assets/style.css")).status, 200);
    for (const name of ["nope.js", "../dashboard-routes.js", "main.d.ts"])
      assert.equal((await get(`/dashboard/assets/${name}`)).status, 404, name);
  });
});

describe("what a session opens", () => {
  test("/v1/state refuses no credentials and a wrong cookie with 401, and answers a session or the admin bearer token", async () => {
    assert.equal((await get("/v1/state")).status, 401);
    assert.equal((await get("/v1/state", { cookie: "hmx_session=forged" })).status, 401);
    assert.equal((await get("/v1/state", { cookie: await session() })).status, 200);
    const bearer = await get("/v1/state", { authorization: `Bearer ${d.bed.adminToken}` });
    assert.equal(bearer.status, 200);
  });

  test("the history WebSocket accepts the session cookie from this origin only, and /metrics never takes it", async () => {
    const cookie = await session();
    assert.equal(await upgrade({ cookie, origin: `http://${d.http}` }), 101);
    assert.equal(await upgrade({ cookie, origin: "http://evil.example" }), 401);
    assert.equal(await upgrade({ cookie: "hmx_session=forged", origin: `http://${d.http}` }), 401);
    assert.equal((await get("/metrics", { cookie })).status, 401);
  });

  test("logout ends the session: the same cookie no longer opens /v1/state", async () => {
    const cookie = await session();
    assert.equal((await get("/v1/state", { cookie })).status, 200);
    const out = await fetch(`http://${d.http}/dashboard/logout`, {
      method: "POST",
      headers: { cookie },
      redirect: "manual",
    });
    assert.equal(out.status, 303);
    assert.match(out.headers.get("set-cookie") ?? "", /Max-Age=0/);
    assert.equal((await get("/v1/state", { cookie })).status, 401);
  });
});

describe("/v1/state", () => {
  test("shows each domain's link, the receiver's ring filling with what was sent, the denial, and the fault in force", async () => {
    const bearer = { authorization: `Bearer ${d.bed.adminToken}` };
    const before = (await (await get("/v1/state", bearer)).json()) as StateBody;
    const ringBefore = before.domains
      .find((x) => x.domid === d.receiver.domid)
      ?.rings.find((r) => r.aport === RING_APORT);
    assert.ok(ringBefore !== undefined, "the receiver's ring is listed");
    await d.send(10);
    await d.denied();
    await d.addLatency(d.receiver.name, "state-slow");
    const state = (await (await get("/v1/state", bearer)).json()) as StateBody;
    const names = state.domains.map((x) => `${x.domid}:${x.name}:${x.link}`);
    for (const g of [d.sender, d.receiver, d.intruder])
      assert.ok(
        names.includes(`${g.domid}:${g.name}:up`),
        `${g.name} is listed, link up: ${names.join(" ")}`,
      );
    const ring = state.domains
      .find((x) => x.domid === d.receiver.domid)
      ?.rings.find((r) => r.aport === RING_APORT);
    assert.equal(ring?.len, RING_LEN);
    assert.equal(ring.used - ringBefore.used, 10 * SLOT_BYTES, "ten unread messages more");
    assert.ok(state.totals.messages >= 10);
    assert.ok(state.totals.macDenials >= 1);
    assert.deepEqual(
      state.faults?.find((f) => f.domain === d.receiver.name)?.toxics.map((t) => t.name),
      ["state-slow"],
    );
    assert.ok(state.history.nextSeq >= state.history.oldestSeq);
  });
});
