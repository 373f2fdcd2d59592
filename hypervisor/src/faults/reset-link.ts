// SPDX-License-Identifier: Apache-2.0
/**
 * Dropping a connection with a TCP RST, the way a failing link does, without tripping a Node
 * bug: shared by the link-fault layer (reset_peer, a link taken down) and the tests' TcpProxy.
 */
import type { Socket } from "node:net";

/**
 * Drops a connection with a TCP RST if that is still possible.
 *
 * A socket whose writable side has ended may have its shutdown request still in flight (a
 * proxy ends a side as soon as the peer half-closes, e.g. when the guest closes its channel).
 * libuv refuses to reset such a socket (`uv_tcp_close_reset` returns EINVAL without closing
 * it), but Node (20–24) marks the handle as closing anyway, so it is never closed: at exit,
 * Node's handle cleanup then waits for it forever, spinning at full CPU (issue 17's hang).
 * Such a socket is destroyed normally instead (FIN rather than RST, on a link that was already
 * being closed). A Unix socket has no RST either: it is destroyed.
 */
export function resetLink(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableEnded || socket.remoteFamily === undefined) socket.destroy();
  else socket.resetAndDestroy();
}
