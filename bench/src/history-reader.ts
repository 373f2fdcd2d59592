// SPDX-License-Identifier: Apache-2.0
/**
 * The history bench's WebSocket subscriber, in a process of its own as a harness's would be:
 * reading and parsing every event in the bench's own process slowed the traffic driver of the
 * one variant that has a subscriber, which the bench then counted against the history. Told the
 * URL and token over IPC (never in argv, where `ps` shows them) and how to read the events
 * (`json`: parse each, as a checker would; `unparsed`: only find each one's seq and whether it
 * is a gap; `binary`: subscribe with `format=binary` and decode every frame into event objects
 * with the client's decoder, as a harness using it would). Answers any later message with what it has seen: events, gaps and the events they
 * said were lost, the last seq, and the close code if the hypervisor closed it, so that the
 * bench can tell a round whose subscriber was skipped ahead or closed (it then measured a
 * history nobody was reading) from one it kept up with. Exits when its parent goes.
 */
import WebSocket from "ws";
import { decodeHistoryFrame } from "@hmx/client";

export type ReaderMode = "json" | "unparsed" | "binary";

export interface ReaderStart {
  readonly url: string;
  readonly token: string;
  readonly mode: ReaderMode;
}

/** What the reader has seen so far (its answer to "count"). */
export interface ReaderCount {
  readonly received: number;
  readonly gaps: number;
  /** Events the gaps said were lost. */
  readonly dropped: number;
  /** The newest seq received (0: none yet). */
  readonly lastSeq: number;
  /** The close code, once the hypervisor closed the subscription. */
  readonly closeCode: number | null;
}

let received = 0;
let gaps = 0;
let dropped = 0;
let lastSeq = 0;
let closeCode: number | null = null;
let ws: WebSocket | undefined;

const SEQ_AT = '{"seq":'.length;
const GAP = Buffer.from('"kind":"gap"');

/** The seq of a JSON line, read from its start without parsing the rest. */
function seqOf(line: Buffer): number {
  let seq = 0;
  for (let i = SEQ_AT; i < line.length; i++) {
    const c = line[i] ?? 0;
    if (c < 0x30 || c > 0x39) break;
    seq = seq * 10 + c - 0x30;
  }
  return seq;
}

/** A gap's `dropped`, for the unparsed mode (gaps are rare: parsing those is fine). */
function countEvent(
  seq: number,
  kind: string,
  event: Readonly<Record<string, unknown>> | null,
): void {
  received++;
  lastSeq = seq;
  if (kind !== "gap") return;
  gaps++;
  const lost = event?.["dropped"];
  dropped += typeof lost === "number" ? lost : 0;
}

process.on("message", (m: ReaderStart | "count") => {
  if (m === "count") {
    const count: ReaderCount = { received, gaps, dropped, lastSeq, closeCode };
    process.send?.(count);
    return;
  }
  ws = new WebSocket(m.url, {
    headers: { authorization: `Bearer ${m.token}` },
    perMessageDeflate: false,
  });
  ws.on("open", () => process.send?.({ open: true }));
  const mode = m.mode;
  ws.on("message", (data: Buffer) => {
    if (mode === "binary") {
      for (const event of decodeHistoryFrame(data)) countEvent(event.seq, event.kind, event);
      return;
    }
    if (mode === "json") {
      const event = JSON.parse(data.toString("utf8")) as {
        seq: number;
        kind: string;
        dropped?: unknown;
      };
      countEvent(event.seq, event.kind, event);
      return;
    }
    const gap = data.subarray(0, 64).indexOf(GAP) >= 0;
    countEvent(
      seqOf(data),
      gap ? "gap" : "",
      gap ? (JSON.parse(data.toString("utf8")) as { dropped?: unknown }) : null,
    );
  });
  ws.on("close", (code) => {
    closeCode = code;
  });
  ws.on("error", (err) => {
    console.error(`history reader: ${err.message}`);
    process.exit(1);
  });
});
process.on("disconnect", () => {
  ws?.terminate();
  process.exit(0);
});
