// SPDX-License-Identifier: Apache-2.0
/**
 * The history bench's WebSocket subscriber, in a process of its own as a harness's would be:
 * reading and parsing every event in the bench's own process slowed the traffic driver of the
 * one variant that has a subscriber, which the bench then counted against the history. Told the
 * URL and token over IPC (never in argv, where `ps` shows them), and whether to parse each event
 * (the bench's unparsed variant only counts them); answers any later message with
 * how many events it has received; exits when its parent goes.
 */
import WebSocket from "ws";

interface Start {
  readonly url: string;
  readonly token: string;
  readonly parse: boolean;
}

let received = 0;
let ws: WebSocket | undefined;
process.on("message", (m: Start | "count") => {
  if (m === "count") {
    process.send?.({ received });
    return;
  }
  ws = new WebSocket(m.url, {
    headers: { authorization: `Bearer ${m.token}` },
    perMessageDeflate: false,
  });
  ws.on("open", () => process.send?.({ open: true }));
  const parse = m.parse;
  ws.on("message", (data: Buffer) => {
    // Parsed, as a checker would.
    if (parse) JSON.parse(data.toString("utf8"));
    received++;
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
