// SPDX-License-Identifier: Apache-2.0
/**
 * The query of `GET /v1/history`: `since=SEQ` (resume after SEQ), `until=SEQ|now` (end after
 * SEQ, or after the newest event at connection: read what happened, do not follow),
 * `last=N` (start with the newest N retained events that pass the filters, instead of `since`),
 * `kinds=a,b`, `domid=N`, and `format=json|binary` (JSON text frames, the default, or the binary
 * format of docs/harness.md "Binary format").
 * A bad value is refused with a message naming it and what is allowed; nothing is subscribed.
 */
import { DOMID_MAX } from "@hmx/proto/abi";
import { HISTORY_KINDS, type HistoryFilter, type HistoryKind } from "../observability/history.js";

export const HISTORY_FORMATS = ["json", "binary"] as const;
export type HistoryFormat = (typeof HISTORY_FORMATS)[number];

export interface HistoryQuery {
  /** Absent: JSON. */
  readonly format?: HistoryFormat;
  readonly since?: number;
  readonly last?: number;
  readonly until?: number | "now";
  readonly filter: HistoryFilter;
}

export class HistoryQueryError extends Error {
  override readonly name = "HistoryQueryError";
}

const KNOWN = new Set<string>(HISTORY_KINDS);
const PARAMETERS = new Set(["since", "until", "last", "kinds", "domid", "format"]);

export function parseHistoryQuery(params: URLSearchParams): HistoryQuery {
  for (const key of params.keys())
    if (!PARAMETERS.has(key))
      throw new HistoryQueryError(
        `unknown query parameter ${JSON.stringify(key)}: expected since, until, last, kinds, domid or format`,
      );
  const since = seqParam(params, "since", false);
  const lastText = params.get("last");
  let last: number | undefined;
  if (lastText !== null) {
    last = Number(lastText);
    if (!/^\d{1,16}$/.test(lastText) || !Number.isSafeInteger(last) || last < 1)
      throw new HistoryQueryError(
        `last ${JSON.stringify(lastText)}: expected a count of events, an integer >= 1`,
      );
    if (since !== undefined)
      throw new HistoryQueryError(
        "since and last are exclusive: resume after a seq, or take the last N events",
      );
  }
  const until = seqParam(params, "until", true);
  const kindsText = params.get("kinds");
  let kinds: Set<HistoryKind> | undefined;
  if (kindsText !== null) {
    kinds = new Set();
    for (const k of kindsText.split(",")) {
      if (!KNOWN.has(k))
        throw new HistoryQueryError(
          `kinds: ${JSON.stringify(k)} is not a kind; expected some of ${HISTORY_KINDS.join(", ")}`,
        );
      kinds.add(k as HistoryKind);
    }
  }
  const domidText = params.get("domid");
  let domid: number | undefined;
  if (domidText !== null) {
    domid = Number(domidText);
    if (!/^\d{1,5}$/.test(domidText) || domid > DOMID_MAX)
      throw new HistoryQueryError(
        `domid ${JSON.stringify(domidText)}: expected an integer in 0..${DOMID_MAX}`,
      );
  }
  const formatText = params.get("format");
  if (formatText !== null && !(HISTORY_FORMATS as readonly string[]).includes(formatText))
    throw new HistoryQueryError(
      `format ${JSON.stringify(formatText)}: expected ${HISTORY_FORMATS.join(" or ")}`,
    );
  return {
    ...(formatText === null ? {} : { format: formatText as HistoryFormat }),
    ...(since === undefined ? {} : { since }),
    ...(last === undefined ? {} : { last }),
    ...(until === undefined ? {} : { until }),
    filter: {
      ...(kinds === undefined ? {} : { kinds }),
      ...(domid === undefined ? {} : { domid }),
    },
  };
}

/** `name=SEQ` (or `now` where allowed), refused with a message naming the bad value. */
function seqParam(params: URLSearchParams, name: string, allowNow: false): number | undefined;
function seqParam(
  params: URLSearchParams,
  name: string,
  allowNow: true,
): number | "now" | undefined;
function seqParam(
  params: URLSearchParams,
  name: string,
  allowNow: boolean,
): number | "now" | undefined {
  const text = params.get(name);
  if (text === null) return undefined;
  if (allowNow && text === "now") return "now";
  const seq = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(seq))
    throw new HistoryQueryError(
      `${name} ${JSON.stringify(text)}: expected a seq, an integer >= 0${allowNow ? " or now" : ""}`,
    );
  return seq;
}
