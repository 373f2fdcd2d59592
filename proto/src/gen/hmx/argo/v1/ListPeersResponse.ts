// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { Peer as _hmx_argo_v1_Peer, Peer__Output as _hmx_argo_v1_Peer__Output } from '../../../hmx/argo/v1/Peer.js';

export interface ListPeersResponse {
  'peers'?: (_hmx_argo_v1_Peer)[];
}

export interface ListPeersResponse__Output {
  'peers': (_hmx_argo_v1_Peer__Output)[];
}
