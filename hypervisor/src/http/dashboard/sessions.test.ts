// SPDX-License-Identifier: Apache-2.0
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cookieValue, DashboardSessions, SESSION_COOKIE } from "./sessions.js";
import { ringUsedBytes } from "./state.js";

const cookie = (id: string): string => `theme=dark; ${SESSION_COOKIE}=${id}; other=1`;

describe("dashboard sessions", () => {
  test("a created session is valid from its cookie; an unknown, empty or missing one is not", () => {
    const sessions = new DashboardSessions();
    const id = sessions.create();
    assert.match(id, /^[A-Za-z0-9_-]{43}$/, "256 random bits, base64url");
    assert.equal(sessions.valid(cookie(id)), true);
    assert.equal(sessions.valid(cookie(`${id}x`)), false);
    assert.equal(sessions.valid(cookie("")), false);
    assert.equal(sessions.valid(undefined), false);
    assert.equal(sessions.valid("theme=dark"), false);
  });

  test("a session expires ttlMs after login and is then forgotten", () => {
    let now = 1_000;
    const sessions = new DashboardSessions({ ttlMs: 500, now: () => now });
    const id = sessions.create();
    now = 1_499;
    assert.equal(sessions.valid(cookie(id)), true);
    now = 1_500;
    assert.equal(sessions.valid(cookie(id)), false);
    assert.equal(sessions.size, 0);
  });

  test("at most maxSessions live at once: a new login forgets the oldest", () => {
    const sessions = new DashboardSessions({ maxSessions: 2 });
    const [a, b, c] = [sessions.create(), sessions.create(), sessions.create()];
    assert.equal(sessions.size, 2);
    assert.equal(sessions.valid(cookie(a)), false);
    assert.equal(sessions.valid(cookie(b)), true);
    assert.equal(sessions.valid(cookie(c)), true);
  });

  test("logout ends only the session its cookie names", () => {
    const sessions = new DashboardSessions();
    const [a, b] = [sessions.create(), sessions.create()];
    sessions.end(cookie(a));
    assert.equal(sessions.valid(cookie(a)), false);
    assert.equal(sessions.valid(cookie(b)), true);
  });

  test("the cookie is HttpOnly and SameSite=Strict, and clearing it expires it at once", () => {
    assert.equal(
      DashboardSessions.setCookie("abc"),
      `${SESSION_COOKIE}=abc; Path=/; HttpOnly; SameSite=Strict`,
    );
    assert.match(DashboardSessions.clearCookie(), /^hmx_session=; .*Max-Age=0$/);
  });

  test("cookieValue finds a cookie by exact name among others", () => {
    assert.equal(cookieValue("a=1; hmx_session=x; b=2", "hmx_session"), "x");
    assert.equal(cookieValue("xhmx_session=y", "hmx_session"), undefined);
    assert.equal(cookieValue(undefined, "hmx_session"), undefined);
  });
});

describe("ring fill", () => {
  test("used bytes are tx − rx modulo len, wrapping included", () => {
    assert.equal(ringUsedBytes({ len: 1024, txPtr: 160, rxPtr: 0 }), 160);
    assert.equal(
      ringUsedBytes({ len: 1024, txPtr: 32, rxPtr: 1000 }),
      56,
      "tx wrapped past the end",
    );
    assert.equal(ringUsedBytes({ len: 1024, txPtr: 512, rxPtr: 512 }), 0, "empty");
  });

  test("a hostile rx_ptr beyond len never shows a ring fuller than len", () => {
    for (const rxPtr of [1024, 5000, 0xffffffff]) {
      const used = ringUsedBytes({ len: 1024, txPtr: 100, rxPtr });
      assert.ok(used >= 0 && used < 1024, `rx_ptr ${rxPtr}: ${used}`);
    }
  });
});
