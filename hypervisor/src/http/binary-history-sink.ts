// SPDX-License-Identifier: Apache-2.0
/**
 * The WebSocket sink of `GET /v1/history?format=binary` (docs/harness.md "Binary format"): the
 * events of one pump are written as entries into binary frames of up to 64 KiB, each starting
 * with the format's magic and version, all gathered in one buffer and written to the upgraded
 * socket as one chunk, as the JSON sink does with its text frames. Many events per frame: a
 * frame's header and the reader's per-message work (an event in `ws`, a callback) are then paid
 * per ~1,000 events rather than per event. A hot event's record in the history's ring is its
 * entry already (record-views.ts), and consecutive events' records lie back to back there, so
 * the entries of a run of them are copied into the frame with one native copy (per-event copies
 * or field-by-field writes cost more than the rest of the pump); any other event is carried as
 * its JSON line's bytes. 64 KiB keeps every frame under
 * the clients' message limits (the Python client's is 1 MiB) and its header at 4 bytes.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { ByteBatch } from "../observability/byte-batch.js";
import {
  FORMAT_VERSION,
  FRAME_MAGIC,
  FRAME_PREFIX_BYTES,
  TAG_JSON,
} from "../observability/history-binary.js";
import type { HistorySink } from "../observability/history.js";
import { closeWithGrace, writeFrames } from "./history-socket.js";

/** Largest payload of a frame with a 16-bit length (RFC 6455 §5.2). */
const FRAME_MAX = 65535;
/** The header of a frame of 126..65535 bytes: FIN + binary, 126, the u16 length. */
const HEADER_16 = 4;
/** The JSON entry's tag and u32 length. */
const JSON_ENTRY_HEAD = 5;

export function binaryHistorySink(
  ws: WebSocket,
  socket: Duplex,
  closeGraceMs: number,
): HistorySink {
  const batch = new ByteBatch();
  /** Where the open frame's header starts in the batch; -1: none open. */
  let frameStart = -1;
  /** The run of entries not yet copied: `runRing[runStart..runEnd)`. */
  let runRing: Buffer | undefined;
  let runStart = 0;
  let runEnd = 0;

  const openFrame = (): void => {
    const at = batch.reserve(HEADER_16 + FRAME_PREFIX_BYTES);
    const buf = batch.buffer;
    buf[at + HEADER_16] = FRAME_MAGIC[0];
    buf[at + HEADER_16 + 1] = FRAME_MAGIC[1];
    buf[at + HEADER_16 + 2] = FRAME_MAGIC[2];
    buf[at + HEADER_16 + 3] = FORMAT_VERSION;
    batch.advance(HEADER_16 + FRAME_PREFIX_BYTES);
    frameStart = at;
  };

  /** Writes the open frame's header; a payload under 126 bytes takes a 2-byte one (moved up). */
  const closeFrame = (): void => {
    if (frameStart < 0) return;
    const buf = batch.buffer;
    const n = batch.length - frameStart - HEADER_16;
    buf[frameStart] = 0x82; // FIN, binary
    if (n < 126) {
      buf[frameStart + 1] = n;
      buf.copyWithin(frameStart + 2, frameStart + HEADER_16, batch.length);
      batch.advance(-2);
    } else {
      buf[frameStart + 1] = 126;
      buf.writeUInt16BE(n, frameStart + 2);
    }
    frameStart = -1;
  };

  /** Room for an entry of up to `n` bytes in the open frame (a new one if it would overflow). */
  const room = (n: number): number => {
    if (frameStart >= 0 && batch.length + n - frameStart - HEADER_16 > FRAME_MAX) closeFrame();
    if (frameStart < 0) openFrame();
    return batch.reserve(n);
  };

  /** Copies the pending run of entries into the frame (before anything else is written). */
  const copyRun = (): void => {
    const n = runEnd - runStart;
    if (n === 0 || runRing === undefined) return;
    const at = room(n);
    runRing.copy(batch.buffer, at, runStart, runEnd);
    batch.advance(n);
    runStart = runEnd;
  };

  /** Bytes of the open frame's payload so far (its prefix, if none is open yet). */
  const framePayload = (): number =>
    frameStart < 0 ? FRAME_PREFIX_BYTES : batch.length - frameStart - HEADER_16;

  /** An event too long for a 64 KiB frame: a frame of its own with a 64-bit length. */
  const sendAlone = (event: Uint8Array): void => {
    closeFrame();
    const n = FRAME_PREFIX_BYTES + JSON_ENTRY_HEAD + event.length;
    const at = batch.reserve(10 + n);
    const buf = batch.buffer;
    buf[at] = 0x82;
    buf[at + 1] = 127;
    buf.writeUInt32BE(0, at + 2);
    buf.writeUInt32BE(n, at + 6);
    buf.set([...FRAME_MAGIC, FORMAT_VERSION], at + 10);
    buf[at + 14] = TAG_JSON;
    buf.writeUInt32LE(event.length, at + 15);
    buf.set(event, at + 19);
    batch.advance(10 + n);
  };

  return {
    get bufferedAmount() {
      return ws.bufferedAmount + batch.length + runEnd - runStart;
    },
    send(event) {
      copyRun();
      if (JSON_ENTRY_HEAD + event.length + FRAME_PREFIX_BYTES > FRAME_MAX) {
        sendAlone(event);
        return;
      }
      const at = room(JSON_ENTRY_HEAD + event.length);
      const buf = batch.buffer;
      buf[at] = TAG_JSON;
      buf.writeUInt32LE(event.length, at + 1);
      buf.set(event, at + JSON_ENTRY_HEAD);
      batch.advance(JSON_ENTRY_HEAD + event.length);
    },
    sendEntry(ring, at, length) {
      // Extends the run while it is contiguous and still fits the open frame.
      if (
        ring === runRing &&
        at === runEnd &&
        framePayload() + runEnd - runStart + length <= FRAME_MAX
      ) {
        runEnd += length;
        return;
      }
      copyRun();
      runRing = ring;
      runStart = at;
      runEnd = at + length;
    },
    flush() {
      copyRun();
      closeFrame();
      writeFrames(ws, socket, batch);
    },
    close(code, reason) {
      closeWithGrace(ws, code, reason, closeGraceMs);
    },
  };
}
