// SPDX-License-Identifier: Apache-2.0
/**
 * The dashboard page: polls `/v1/state` once a second (rings, links, faults, totals), follows
 * `/v1/history` over a WebSocket (rates, flows, denials, the tail), and redraws at most a few
 * times a second. The session cookie authenticates both; nothing here ever sees a token.
 */
import { byId } from "./dom.js";
import { drawFlows } from "./flow-graph.js";
import { HistoryModel, filteredTail, type HistoryEvent, type TailFilter } from "./history-model.js";
import { drawDenials, drawDomains, drawFaults, drawHistory } from "./panels.js";
import { drawRates } from "./rate-chart.js";
import type { DashboardState } from "./state-types.js";

const STATE_INTERVAL_MS = 1000;
const REDRAW_INTERVAL_MS = 250;
const RECONNECT_MS = 1000;
/** Events of the retained window replayed into the tail when the page opens. */
const REPLAY_EVENTS = 500;

const model = new HistoryModel();
let state: DashboardState | undefined;
let dirty = true;

const view = {
  connection: byId("connection", HTMLElement),
  totals: byId("totals", HTMLElement),
  domains: byId("domains", HTMLTableElement),
  flows: byId("flows", SVGSVGElement),
  rates: byId("rates", SVGSVGElement),
  denialCount: byId("denial-count", HTMLOutputElement),
  denials: byId("denials", HTMLOListElement),
  faultCount: byId("fault-count", HTMLOutputElement),
  faults: byId("faults", HTMLUListElement),
  history: byId("history", HTMLOListElement),
  historySeq: byId("history-seq", HTMLElement),
  historyFilter: byId("history-filter", HTMLFormElement),
  historyKind: byId("history-kind", HTMLSelectElement),
  historyOp: byId("history-op", HTMLInputElement),
};

function tailFilter(): TailFilter {
  return { kind: view.historyKind.value, op: view.historyOp.value.trim() };
}

function setConnection(s: "connecting" | "live" | "closed", text: string): void {
  view.connection.dataset["state"] = s;
  view.connection.textContent = text;
}

/** The login is gone (expired, logged out elsewhere, hypervisor restarted): back to the form. */
function loggedOut(): void {
  window.location.assign("/dashboard/");
}

async function pollState(): Promise<void> {
  try {
    const res = await fetch("/v1/state", { cache: "no-store" });
    if (res.status === 401) {
      loggedOut();
      return;
    }
    if (res.ok) {
      state = (await res.json()) as DashboardState;
      dirty = true;
    }
  } catch {
    setConnection("closed", "hypervisor unreachable");
  }
}

function follow(since: number): void {
  const ws = new WebSocket(`ws://${window.location.host}/v1/history?since=${since}`);
  ws.onopen = () => {
    setConnection("live", "live");
  };
  ws.onmessage = (m: MessageEvent<string>) => {
    model.add(JSON.parse(m.data) as HistoryEvent);
    dirty = true;
  };
  ws.onclose = (e) => {
    setConnection(
      "closed",
      `history closed (${e.code}${e.reason === "" ? "" : `: ${e.reason}`}); reconnecting`,
    );
    setTimeout(() => {
      void resume();
    }, RECONNECT_MS);
  };
}

/** Follows the history from where the page left off (or the recent window on first open). */
async function resume(): Promise<void> {
  await pollState();
  if (state === undefined) {
    setTimeout(() => void resume(), RECONNECT_MS);
    return;
  }
  const newest = state.history.nextSeq - 1;
  const since =
    model.lastSeq > 0 && model.lastSeq <= newest
      ? model.lastSeq
      : Math.max(state.history.oldestSeq - 1, newest - REPLAY_EVENTS, 0);
  follow(since);
}

function now(): number {
  const stateSecond = state === undefined ? 0 : Math.floor(Date.parse(state.time) / 1000);
  return Math.max(stateSecond, model.newestSecond);
}

function redraw(): void {
  if (!dirty || state === undefined) return;
  dirty = false;
  const second = now();
  model.prune(second);
  const body = view.domains.tBodies[0];
  if (body !== undefined) drawDomains(body, state.domains);
  drawFlows(view.flows, state.domains, model.flows, model.deniedFlows, second);
  drawRates(
    view.rates,
    [
      { name: "messages", at: (s) => model.messages.get(s) },
      { name: "denials", at: (s) => model.denialsPerSecond.get(s) },
    ],
    second,
  );
  view.denialCount.value = String(Math.max(state.totals.macDenials, model.denials.length));
  drawDenials(view.denials, model.denials);
  drawFaults(view.faults, view.faultCount, state);
  drawHistory(view.history, filteredTail(model.tail, tailFilter()));
  view.historySeq.textContent = model.lastSeq > 0 ? `up to seq ${model.lastSeq}` : "";
  const t = state.totals;
  view.totals.textContent = `${state.domains.length} domains · ${t.messages} messages · ${t.virqs} VIRQs · ${t.macDenials} MAC denials`;
}

view.historyFilter.addEventListener("input", () => {
  dirty = true;
});
view.historyFilter.addEventListener("submit", (e) => {
  e.preventDefault();
});
setInterval(() => void pollState(), STATE_INTERVAL_MS);
setInterval(redraw, REDRAW_INTERVAL_MS);
void resume();
