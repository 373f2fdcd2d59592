// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type { CallStatus as _hmx_argo_v1_CallStatus, CallStatus__Output as _hmx_argo_v1_CallStatus__Output } from '../../../hmx/argo/v1/CallStatus.js';
import type { GetDomainInfoResponse as _hmx_argo_v1_GetDomainInfoResponse, GetDomainInfoResponse__Output as _hmx_argo_v1_GetDomainInfoResponse__Output } from '../../../hmx/argo/v1/GetDomainInfoResponse.js';
import type { ReadMemoryResponse as _hmx_argo_v1_ReadMemoryResponse, ReadMemoryResponse__Output as _hmx_argo_v1_ReadMemoryResponse__Output } from '../../../hmx/argo/v1/ReadMemoryResponse.js';
import type { WriteMemoryResponse as _hmx_argo_v1_WriteMemoryResponse, WriteMemoryResponse__Output as _hmx_argo_v1_WriteMemoryResponse__Output } from '../../../hmx/argo/v1/WriteMemoryResponse.js';
import type { RegisterRingResponse as _hmx_argo_v1_RegisterRingResponse, RegisterRingResponse__Output as _hmx_argo_v1_RegisterRingResponse__Output } from '../../../hmx/argo/v1/RegisterRingResponse.js';
import type { UnregisterRingResponse as _hmx_argo_v1_UnregisterRingResponse, UnregisterRingResponse__Output as _hmx_argo_v1_UnregisterRingResponse__Output } from '../../../hmx/argo/v1/UnregisterRingResponse.js';
import type { SendvResponse as _hmx_argo_v1_SendvResponse, SendvResponse__Output as _hmx_argo_v1_SendvResponse__Output } from '../../../hmx/argo/v1/SendvResponse.js';
import type { NotifyResponse as _hmx_argo_v1_NotifyResponse, NotifyResponse__Output as _hmx_argo_v1_NotifyResponse__Output } from '../../../hmx/argo/v1/NotifyResponse.js';
import type { Long } from '@grpc/proto-loader';

export interface HypercallResult {
  'requestId'?: (number | string | Long);
  'status'?: (_hmx_argo_v1_CallStatus | null);
  'getDomainInfo'?: (_hmx_argo_v1_GetDomainInfoResponse | null);
  'readMemory'?: (_hmx_argo_v1_ReadMemoryResponse | null);
  'writeMemory'?: (_hmx_argo_v1_WriteMemoryResponse | null);
  'registerRing'?: (_hmx_argo_v1_RegisterRingResponse | null);
  'unregisterRing'?: (_hmx_argo_v1_UnregisterRingResponse | null);
  'sendv'?: (_hmx_argo_v1_SendvResponse | null);
  'notify'?: (_hmx_argo_v1_NotifyResponse | null);
  'outcome'?: "status"|"getDomainInfo"|"readMemory"|"writeMemory"|"registerRing"|"unregisterRing"|"sendv"|"notify";
}

export interface HypercallResult__Output {
  'requestId': (string);
  'status'?: (_hmx_argo_v1_CallStatus__Output | null);
  'getDomainInfo'?: (_hmx_argo_v1_GetDomainInfoResponse__Output | null);
  'readMemory'?: (_hmx_argo_v1_ReadMemoryResponse__Output | null);
  'writeMemory'?: (_hmx_argo_v1_WriteMemoryResponse__Output | null);
  'registerRing'?: (_hmx_argo_v1_RegisterRingResponse__Output | null);
  'unregisterRing'?: (_hmx_argo_v1_UnregisterRingResponse__Output | null);
  'sendv'?: (_hmx_argo_v1_SendvResponse__Output | null);
  'notify'?: (_hmx_argo_v1_NotifyResponse__Output | null);
  'outcome'?: "status"|"getDomainInfo"|"readMemory"|"writeMemory"|"registerRing"|"unregisterRing"|"sendv"|"notify";
}
