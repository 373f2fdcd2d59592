// SPDX-License-Identifier: Apache-2.0
/** Argo stream sockets: connections over libargo datagrams (see connection.ts). */
export { connectStream, type ConnectOptions } from "./connector.js";
export { StreamListener, type ListenOptions, type ListenerStats } from "./listener.js";
export { StreamConnection, type ConnectionState, type ConnectionStats } from "./connection.js";
export { ArgoStreamDuplex } from "./duplex.js";
export { StreamError, type StreamErrorCode } from "./stream-error.js";
export { STREAM_DEFAULTS, type StreamTuning } from "./tuning.js";
