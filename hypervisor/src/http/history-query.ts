// SPDX-License-Identifier: Apache-2.0
/**
 * The query of `GET /v1/history`: `since=SEQ` (resume after SEQ), `kinds=a,b` and `domid=N`.
 * A bad value is refused with a message naming it and what is allowed; nothing is subscribed.
 */
import { DOMID_MAX } from "@hmx/proto/abi";
import { HISTORY_KINDS, type HistoryFilter, type HistoryKind } from "../observability/history.js";

export interface HistoryQuery {
  readonly since?: number;
  readonly filter: HistoryFilter;
}

export class HistoryQueryError extends Error {
  override readonly name = "HistoryQueryError";
}

const KNOWN = new Set<string>(HISTORY_KINDS);

export function parseHistoryQuery(params: URLSearchParams): HistoryQuery {
  for (const key of params.keys())
    if (key !== "since" && key !== "kinds" && key !== "domid")
      throw new HistoryQueryError(
        `unknown query parameter ${JSON.stringify(key)}: expected since, kinds or domid`,
      );
  const sinceText = params.get("since");
  let since: number | undefined;
  if (sinceText !== null) {
    since = Number(sinceText);
    if (!/^\d{1,16}$/.test(sinceText) || !Number.isSafeInteger(since))
      throw new HistoryQueryError(
        `since ${JSON.stringify(sinceText)}: expected a seq, an integer >= 0`,
      );
  }
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
  return {
    ...(since === undefined ? {} : { since }),
    filter: {
      ...(kinds === undefined ? {} : { kinds }),
      ...(domid === undefined ? {} : { domid }),
    },
  };
}
