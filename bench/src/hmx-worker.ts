// SPDX-License-Identifier: Apache-2.0
/**
 * A guest on the hmx path, as a worker process of the benchmark (`hmx-guest.ts` connects it):
 * it binds one datagram socket. As the receiver it binds the ring (aport, partner = the
 * sender's domid) and hands every datagram to the tally; as the sender it sends through
 * `HmxSender` (bounded outstanding sends; the socket batches, stages and retries on -EAGAIN).
 */
import type { TransportInit } from "./ipc.js";
import { closeGuest, HmxSender, openGuest, socketCounters } from "./hmx-guest.js";
import { runWorker, type ReceiverTransport } from "./worker-runtime.js";

function hmxInit(init: TransportInit): Extract<TransportInit, { kind: "hmx" }> {
  if (init.kind !== "hmx") throw new Error(`hmx worker given a ${init.kind} transport`);
  return init;
}

runWorker({
  async sender(raw) {
    const init = hmxInit(raw);
    const guest = await openGuest(init);
    const { client, endpoint } = guest;
    // The sender's own ring is never used; the default one will do.
    const socket = await endpoint.bind({
      partner: init.peerDomid,
      ...(init.maxBatchMessages === undefined ? {} : { maxBatchMessages: init.maxBatchMessages }),
      ...(init.maxBatchBytes === undefined ? {} : { maxBatchBytes: init.maxBatchBytes }),
      ...(init.maxBatchesInFlight === undefined
        ? {}
        : { maxBatchesInFlight: init.maxBatchesInFlight }),
    });
    const transport = new HmxSender(guest, socket, {
      aport: init.aport,
      domainId: init.peerDomid,
    });
    return { transport, info: { domid: client.domid } };
  },

  async receiver(raw, onMessage) {
    const init = hmxInit(raw);
    const guest = await openGuest(init);
    const { client, endpoint } = guest;
    const socket = await endpoint.bind({
      aport: init.aport,
      partner: init.peerDomid,
      ringLen: init.ringLen,
    });
    // Bounded by the socket: receive() resolves null once it is closed.
    void (async () => {
      for (;;) {
        const m = await socket.receive();
        if (m === null) return;
        onMessage(m.data);
      }
    })();
    const transport: ReceiverTransport = {
      counters: () => socketCounters(socket, guest),
      close: () => closeGuest(guest),
    };
    return { transport, info: { domid: client.domid } };
  },
});
