// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { GetDomainInfoRequest as _hmx_argo_v1_GetDomainInfoRequest, GetDomainInfoRequest__Output as _hmx_argo_v1_GetDomainInfoRequest__Output } from '../../../hmx/argo/v1/GetDomainInfoRequest.js';
import type { ReadMemoryRequest as _hmx_argo_v1_ReadMemoryRequest, ReadMemoryRequest__Output as _hmx_argo_v1_ReadMemoryRequest__Output } from '../../../hmx/argo/v1/ReadMemoryRequest.js';
import type { WriteMemoryRequest as _hmx_argo_v1_WriteMemoryRequest, WriteMemoryRequest__Output as _hmx_argo_v1_WriteMemoryRequest__Output } from '../../../hmx/argo/v1/WriteMemoryRequest.js';
import type { RegisterRingRequest as _hmx_argo_v1_RegisterRingRequest, RegisterRingRequest__Output as _hmx_argo_v1_RegisterRingRequest__Output } from '../../../hmx/argo/v1/RegisterRingRequest.js';
import type { UnregisterRingRequest as _hmx_argo_v1_UnregisterRingRequest, UnregisterRingRequest__Output as _hmx_argo_v1_UnregisterRingRequest__Output } from '../../../hmx/argo/v1/UnregisterRingRequest.js';
import type { SendvRequest as _hmx_argo_v1_SendvRequest, SendvRequest__Output as _hmx_argo_v1_SendvRequest__Output } from '../../../hmx/argo/v1/SendvRequest.js';
import type { NotifyRequest as _hmx_argo_v1_NotifyRequest, NotifyRequest__Output as _hmx_argo_v1_NotifyRequest__Output } from '../../../hmx/argo/v1/NotifyRequest.js';
import type { Long } from '@grpc/proto-loader';

export interface Hypercall {
  /**
   * Per-domain, strictly increasing, >= 1.
   */
  'requestId'?: (number | string | Long);
  'getDomainInfo'?: (_hmx_argo_v1_GetDomainInfoRequest | null);
  'readMemory'?: (_hmx_argo_v1_ReadMemoryRequest | null);
  'writeMemory'?: (_hmx_argo_v1_WriteMemoryRequest | null);
  'registerRing'?: (_hmx_argo_v1_RegisterRingRequest | null);
  'unregisterRing'?: (_hmx_argo_v1_UnregisterRingRequest | null);
  'sendv'?: (_hmx_argo_v1_SendvRequest | null);
  'notify'?: (_hmx_argo_v1_NotifyRequest | null);
  'op'?: "getDomainInfo"|"readMemory"|"writeMemory"|"registerRing"|"unregisterRing"|"sendv"|"notify";
}

export interface Hypercall__Output {
  /**
   * Per-domain, strictly increasing, >= 1.
   */
  'requestId': (string);
  'getDomainInfo'?: (_hmx_argo_v1_GetDomainInfoRequest__Output | null);
  'readMemory'?: (_hmx_argo_v1_ReadMemoryRequest__Output | null);
  'writeMemory'?: (_hmx_argo_v1_WriteMemoryRequest__Output | null);
  'registerRing'?: (_hmx_argo_v1_RegisterRingRequest__Output | null);
  'unregisterRing'?: (_hmx_argo_v1_UnregisterRingRequest__Output | null);
  'sendv'?: (_hmx_argo_v1_SendvRequest__Output | null);
  'notify'?: (_hmx_argo_v1_NotifyRequest__Output | null);
  'op'?: "getDomainInfo"|"readMemory"|"writeMemory"|"registerRing"|"unregisterRing"|"sendv"|"notify";
}
