// SPDX-License-Identifier: Apache-2.0
/**
 * The parts of the guest agent the hmx worker uses: the Session hypercall client and the
 * libargo endpoint and datagram socket. Kept as the one bench file that names them, so a
 * worker reads like a guest program.
 */
export { SessionClient, ArgoEndpoint, DEFAULT_SOCKET_TUNING } from "@hmx/guest-agent";
export type { DgramSocket, SocketStats } from "@hmx/guest-agent";
