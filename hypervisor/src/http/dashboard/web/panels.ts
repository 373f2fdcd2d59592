// SPDX-License-Identifier: Apache-2.0
/** The dashboard's list and table panels, each redrawn whole from the model and the state. */
import { bytes, el } from "./dom.js";
import type { HistoryEvent } from "./history-model.js";
import type { DashboardState, DomainState, LinkFaultState, RingState } from "./state-types.js";

/** Xen's DOMID_ANY: a wildcard ring's partner. */
const DOMID_ANY = 0x7ff4;

function ring(domid: number, r: RingState): HTMLElement {
  const partner = r.partner === DOMID_ANY ? "any" : `vm${r.partner}`;
  const percent = r.len === 0 ? 0 : Math.round((100 * r.used) / r.len);
  const waiters = r.waiters === 0 ? "" : `, ${r.waiters} waiting`;
  return el(
    "span",
    { class: "ring", "data-ring": `${domid}:${r.aport}`, "data-used": r.used, "data-len": r.len },
    `port ${r.aport} ← ${partner}`,
    el("meter", { min: 0, max: r.len, value: r.used, high: r.len * 0.8, optimum: 0 }),
    `${bytes(r.used)} / ${bytes(r.len)} (${percent}%)${waiters}`,
  );
}

function domainRow(d: DomainState): HTMLTableRowElement {
  const streams = `${d.streams.session} session, ${d.streams.watch} watch`;
  return el(
    "tr",
    { "data-domid": d.domid },
    el("td", {}, String(d.domid)),
    el("td", {}, d.name),
    el("td", {}, d.label),
    el("td", { class: `link-${d.link}`, "data-link": d.link, title: streams }, d.link),
    el("td", {}, ...(d.rings.length === 0 ? ["no rings"] : d.rings.map((r) => ring(d.domid, r)))),
  );
}

export function drawDomains(body: HTMLTableSectionElement, domains: readonly DomainState[]): void {
  body.replaceChildren(...domains.map(domainRow));
}

function faultItem(f: LinkFaultState): HTMLLIElement {
  const parts = f.enabled ? [] : ["link down"];
  for (const t of f.toxics) parts.push(`${t.type} ${t.stream} (${t.name})`);
  return el("li", { "data-fault": f.domain }, `${f.domain}: ${parts.join(", ")}`);
}

export function drawFaults(
  list: HTMLElement,
  count: HTMLOutputElement,
  state: DashboardState,
): void {
  if (state.faults === null) {
    count.value = "–";
    list.replaceChildren(el("li", { class: "hint" }, "link faults are off (--link-faults)"));
    return;
  }
  const active = state.faults.reduce((n, f) => n + f.toxics.length + (f.enabled ? 0 : 1), 0);
  count.value = String(active);
  list.replaceChildren(...state.faults.map(faultItem));
}

function who(domid: number | undefined, context: string | undefined): string {
  return `vm${domid ?? "?"}${context === undefined || context === "" ? "" : ` ${context}`}`;
}

export function drawDenials(list: HTMLElement, denials: readonly HistoryEvent[]): void {
  list.replaceChildren(
    ...denials
      .slice()
      .reverse()
      .map((e) =>
        el(
          "li",
          { "data-denial": `${e.sdomid ?? "?"}-${e.tdomid ?? "?"}`, title: e.rule ?? "" },
          `${who(e.sdomid, e.scontext)} → ${who(e.tdomid, e.tcontext)}: ${e.permission ?? "?"} denied by ${e.module ?? "?"}`,
        ),
      ),
  );
}

/** One line per event: the kind and what matters about it. */
export function describe(e: HistoryEvent): string {
  switch (e.kind) {
    case "hypercall": {
      const dst =
        e.value?.dst === undefined ? "" : ` → vm${e.value.dst.domid}:${e.value.dst.aport}`;
      const len = e.value?.len === undefined ? "" : ` ${e.value.len} B`;
      return `vm${e.process ?? "?"} ${e.f ?? "?"}${dst}${len} ${e.type ?? ""}${e.error === undefined ? "" : ` ${e.error}`}`;
    }
    case "mac":
      return `${who(e.sdomid, e.scontext)} → ${who(e.tdomid, e.tcontext)} ${e.permission ?? "?"} ${e.decision ?? ""} (${e.module ?? "?"})`;
    case "link":
    case "session":
      return `vm${e.domid ?? "?"} ${e.stream ?? "link"} ${e.state ?? ""}`;
    case "domain":
      return `vm${e.domid ?? "?"} ${e.name ?? ""} ${e.event ?? ""}`;
    case "fault":
      return `${e.type ?? ""} ${e.name ?? ""}`;
    case "virq":
      return `vm${e.domid ?? "?"} VIRQ`;
    case "gap":
      return `${e.dropped ?? "?"} events missed: ${e.reason ?? ""}`;
    default:
      return "";
  }
}

/** The tail as the panel lists it: newest first (the caller picks and filters the events). */
export function drawHistory(list: HTMLElement, tail: readonly HistoryEvent[]): void {
  list.replaceChildren(
    ...tail
      .slice()
      .reverse()
      .map((e) =>
        el(
          "li",
          {
            class: `kind-${e.kind}${e.type === "fail" ? " fail" : ""}`,
            "data-seq": e.seq,
            "data-kind": e.kind,
            ...(e.f === undefined ? {} : { "data-op": e.f }),
          },
          `${e.seq} ${e.time.slice(11, 23)} ${e.kind} ${describe(e)}`,
        ),
      ),
  );
}
