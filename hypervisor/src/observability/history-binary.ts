// SPDX-License-Identifier: Apache-2.0
/**
 * The binary history format's constants (`GET /v1/history?format=binary`, docs/harness.md
 * "Binary format"): every binary WebSocket frame starts with `FRAME_MAGIC` and the version, then
 * holds entries back to back, each a tag byte and its fields, little-endian. The hot events
 * (sendv, ReadMemory, WriteMemory) have fixed layouts; every other event is its JSON line's
 * bytes. The clients' decoders (client/src/history-binary.ts, clients/python/hmx/history.py)
 * hold the same numbers.
 */

/** "HXB" and the version: a decoder refuses a frame that does not start so. */
export const FRAME_MAGIC = [0x48, 0x58, 0x42] as const;
export const FORMAT_VERSION = 1;
export const FRAME_PREFIX_BYTES = 4;

export const TAG_SENDV_OK = 0x01;
export const TAG_SENDV_FAIL = 0x02;
export const TAG_READ_MEMORY = 0x03;
export const TAG_WRITE_MEMORY = 0x04;
/** u32 length, then the event's JSON line (UTF-8), exactly the text frame's bytes. */
export const TAG_JSON = 0x05;

/** Tag, seq (u64), time (u64 ns since the epoch): how every hot entry starts. */
export const HOT_HEAD_BYTES = 17;
