// SPDX-License-Identifier: Apache-2.0
/**
 * The echo workload: binds a port and sends every datagram back to its authenticated source
 * (the address the hypervisor stamped, argo-spec §3.4 step 3), the Argo counterpart of the echo
 * service and of the hardware smoke test's `argo-exec -l -- /bin/echo` (§9). Replies are not
 * awaited one by one: the socket batches them in order, and a window bounds how many are
 * outstanding, so a peer that stops draining slows echo down instead of growing its memory.
 *
 * Crash consistency (docs/state-guests.md): a request is consumed only by the multicall that
 * sends its reply, the rx store after the sendv (`consumeOnAnswer`, `SendOptions.answers`). An
 * agent killed at any instant leaves each request either in the ring, answered again after the
 * restart, or consumed and answered; a reply refused with -EAGAIN consumes nothing and is
 * retried. A request can be answered twice (a batch whose later sendv was refused was cut
 * short by a kill), never not at all: the pinger counts the second reply as a re-delivery.
 */
import { ARGO_DOMID_ANY } from "@hmx/proto/abi";
import type { ArgoEndpoint } from "../libargo/argo-endpoint.js";
import { ArgoSocketError } from "../libargo/errors.js";
import { receiveOrNull, SendWindow, type WorkloadBaseOptions } from "./common.js";

export interface EchoOptions extends WorkloadBaseOptions {
  /** Port to bind. */
  readonly port: number;
  /** Only this domain may send (a unicast ring); default any (wildcard, needs mac-permissive). */
  readonly partner?: number;
  readonly ringLen?: number;
}

export interface EchoStats {
  received: number;
  sent: number;
  bytes: number;
  errors: number;
  eagains: number;
}

/** A zeroed stats object for `runEcho`. */
export function newEchoStats(): EchoStats {
  return { received: 0, sent: 0, bytes: 0, errors: 0, eagains: 0 };
}

/** Runs echo until `options.signal` aborts. */
export async function runEcho(
  endpoint: ArgoEndpoint,
  options: EchoOptions,
  stats: EchoStats,
): Promise<void> {
  const socket = await endpoint.bind({
    aport: options.port,
    partner: options.partner ?? ARGO_DOMID_ANY,
    consumeOnAnswer: true,
    ...(options.ringLen === undefined ? {} : { ringLen: options.ringLen }),
  });
  const window = new SendWindow(1024);
  try {
    options.onReady?.({ aport: socket.aport, partner: socket.partner });
    for (;;) {
      const m = await receiveOrNull(socket, options.signal);
      if (m === null) break;
      stats.received++;
      stats.bytes += m.data.length;
      const reply = socket.sendTo(m.source, m.data, { answers: m }).then(
        () => {
          stats.sent++;
        },
        (err: unknown) => {
          if (!(err instanceof ArgoSocketError && err.code === "ESHUTDOWN")) stats.errors++;
        },
      );
      await window.add(reply);
      stats.eagains = socket.stats.eagains;
    }
  } finally {
    await socket.close();
    stats.eagains = socket.stats.eagains;
  }
}
