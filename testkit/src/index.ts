// SPDX-License-Identifier: Apache-2.0
/** Test support for end-to-end tests and the bench; never imported by the product. */
export { Testbed, TestProcess } from "./processes.js";
export { TcpProxy, resetLink } from "./tcp-proxy.js";
export { processesWithMarker } from "./leftovers.js";
export { processMemory, resetPeak, type ProcessMemory } from "./process-memory.js";
export * from "./hostile/index.js";
