import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { ArgoAddr as _hmx_argo_v1_ArgoAddr, ArgoAddr__Output as _hmx_argo_v1_ArgoAddr__Output } from './hmx/argo/v1/ArgoAddr.js';
import type { CallStatus as _hmx_argo_v1_CallStatus, CallStatus__Output as _hmx_argo_v1_CallStatus__Output } from './hmx/argo/v1/CallStatus.js';
import type { DeviceEvent as _hmx_argo_v1_DeviceEvent, DeviceEvent__Output as _hmx_argo_v1_DeviceEvent__Output } from './hmx/argo/v1/DeviceEvent.js';
import type { EnrolRequest as _hmx_argo_v1_EnrolRequest, EnrolRequest__Output as _hmx_argo_v1_EnrolRequest__Output } from './hmx/argo/v1/EnrolRequest.js';
import type { EnrolResponse as _hmx_argo_v1_EnrolResponse, EnrolResponse__Output as _hmx_argo_v1_EnrolResponse__Output } from './hmx/argo/v1/EnrolResponse.js';
import type { Event as _hmx_argo_v1_Event, Event__Output as _hmx_argo_v1_Event__Output } from './hmx/argo/v1/Event.js';
import type { GetDomainInfoRequest as _hmx_argo_v1_GetDomainInfoRequest, GetDomainInfoRequest__Output as _hmx_argo_v1_GetDomainInfoRequest__Output } from './hmx/argo/v1/GetDomainInfoRequest.js';
import type { GetDomainInfoResponse as _hmx_argo_v1_GetDomainInfoResponse, GetDomainInfoResponse__Output as _hmx_argo_v1_GetDomainInfoResponse__Output } from './hmx/argo/v1/GetDomainInfoResponse.js';
import type { Hypercall as _hmx_argo_v1_Hypercall, Hypercall__Output as _hmx_argo_v1_Hypercall__Output } from './hmx/argo/v1/Hypercall.js';
import type { HypercallBatch as _hmx_argo_v1_HypercallBatch, HypercallBatch__Output as _hmx_argo_v1_HypercallBatch__Output } from './hmx/argo/v1/HypercallBatch.js';
import type { HypercallResult as _hmx_argo_v1_HypercallResult, HypercallResult__Output as _hmx_argo_v1_HypercallResult__Output } from './hmx/argo/v1/HypercallResult.js';
import type { HypercallResults as _hmx_argo_v1_HypercallResults, HypercallResults__Output as _hmx_argo_v1_HypercallResults__Output } from './hmx/argo/v1/HypercallResults.js';
import type { HypervisorClient as _hmx_argo_v1_HypervisorClient, HypervisorDefinition as _hmx_argo_v1_HypervisorDefinition } from './hmx/argo/v1/Hypervisor.js';
import type { Iov as _hmx_argo_v1_Iov, Iov__Output as _hmx_argo_v1_Iov__Output } from './hmx/argo/v1/Iov.js';
import type { ListPeersRequest as _hmx_argo_v1_ListPeersRequest, ListPeersRequest__Output as _hmx_argo_v1_ListPeersRequest__Output } from './hmx/argo/v1/ListPeersRequest.js';
import type { ListPeersResponse as _hmx_argo_v1_ListPeersResponse, ListPeersResponse__Output as _hmx_argo_v1_ListPeersResponse__Output } from './hmx/argo/v1/ListPeersResponse.js';
import type { NotifyRequest as _hmx_argo_v1_NotifyRequest, NotifyRequest__Output as _hmx_argo_v1_NotifyRequest__Output } from './hmx/argo/v1/NotifyRequest.js';
import type { NotifyResponse as _hmx_argo_v1_NotifyResponse, NotifyResponse__Output as _hmx_argo_v1_NotifyResponse__Output } from './hmx/argo/v1/NotifyResponse.js';
import type { Peer as _hmx_argo_v1_Peer, Peer__Output as _hmx_argo_v1_Peer__Output } from './hmx/argo/v1/Peer.js';
import type { ReadMemoryRequest as _hmx_argo_v1_ReadMemoryRequest, ReadMemoryRequest__Output as _hmx_argo_v1_ReadMemoryRequest__Output } from './hmx/argo/v1/ReadMemoryRequest.js';
import type { ReadMemoryResponse as _hmx_argo_v1_ReadMemoryResponse, ReadMemoryResponse__Output as _hmx_argo_v1_ReadMemoryResponse__Output } from './hmx/argo/v1/ReadMemoryResponse.js';
import type { RegisterRingRequest as _hmx_argo_v1_RegisterRingRequest, RegisterRingRequest__Output as _hmx_argo_v1_RegisterRingRequest__Output } from './hmx/argo/v1/RegisterRingRequest.js';
import type { RegisterRingResponse as _hmx_argo_v1_RegisterRingResponse, RegisterRingResponse__Output as _hmx_argo_v1_RegisterRingResponse__Output } from './hmx/argo/v1/RegisterRingResponse.js';
import type { RingData as _hmx_argo_v1_RingData, RingData__Output as _hmx_argo_v1_RingData__Output } from './hmx/argo/v1/RingData.js';
import type { RingDataEntry as _hmx_argo_v1_RingDataEntry, RingDataEntry__Output as _hmx_argo_v1_RingDataEntry__Output } from './hmx/argo/v1/RingDataEntry.js';
import type { RingDataResult as _hmx_argo_v1_RingDataResult, RingDataResult__Output as _hmx_argo_v1_RingDataResult__Output } from './hmx/argo/v1/RingDataResult.js';
import type { SendvRequest as _hmx_argo_v1_SendvRequest, SendvRequest__Output as _hmx_argo_v1_SendvRequest__Output } from './hmx/argo/v1/SendvRequest.js';
import type { SendvResponse as _hmx_argo_v1_SendvResponse, SendvResponse__Output as _hmx_argo_v1_SendvResponse__Output } from './hmx/argo/v1/SendvResponse.js';
import type { SessionOpen as _hmx_argo_v1_SessionOpen, SessionOpen__Output as _hmx_argo_v1_SessionOpen__Output } from './hmx/argo/v1/SessionOpen.js';
import type { SessionReady as _hmx_argo_v1_SessionReady, SessionReady__Output as _hmx_argo_v1_SessionReady__Output } from './hmx/argo/v1/SessionReady.js';
import type { SessionRequest as _hmx_argo_v1_SessionRequest, SessionRequest__Output as _hmx_argo_v1_SessionRequest__Output } from './hmx/argo/v1/SessionRequest.js';
import type { SessionResponse as _hmx_argo_v1_SessionResponse, SessionResponse__Output as _hmx_argo_v1_SessionResponse__Output } from './hmx/argo/v1/SessionResponse.js';
import type { UnregisterRingRequest as _hmx_argo_v1_UnregisterRingRequest, UnregisterRingRequest__Output as _hmx_argo_v1_UnregisterRingRequest__Output } from './hmx/argo/v1/UnregisterRingRequest.js';
import type { UnregisterRingResponse as _hmx_argo_v1_UnregisterRingResponse, UnregisterRingResponse__Output as _hmx_argo_v1_UnregisterRingResponse__Output } from './hmx/argo/v1/UnregisterRingResponse.js';
import type { Virq as _hmx_argo_v1_Virq, Virq__Output as _hmx_argo_v1_Virq__Output } from './hmx/argo/v1/Virq.js';
import type { VirqRingData as _hmx_argo_v1_VirqRingData, VirqRingData__Output as _hmx_argo_v1_VirqRingData__Output } from './hmx/argo/v1/VirqRingData.js';
import type { WatchEventsRequest as _hmx_argo_v1_WatchEventsRequest, WatchEventsRequest__Output as _hmx_argo_v1_WatchEventsRequest__Output } from './hmx/argo/v1/WatchEventsRequest.js';
import type { WriteMemoryRequest as _hmx_argo_v1_WriteMemoryRequest, WriteMemoryRequest__Output as _hmx_argo_v1_WriteMemoryRequest__Output } from './hmx/argo/v1/WriteMemoryRequest.js';
import type { WriteMemoryResponse as _hmx_argo_v1_WriteMemoryResponse, WriteMemoryResponse__Output as _hmx_argo_v1_WriteMemoryResponse__Output } from './hmx/argo/v1/WriteMemoryResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  hmx: {
    argo: {
      v1: {
        ArgoAddr: MessageTypeDefinition<_hmx_argo_v1_ArgoAddr, _hmx_argo_v1_ArgoAddr__Output>
        CallStatus: MessageTypeDefinition<_hmx_argo_v1_CallStatus, _hmx_argo_v1_CallStatus__Output>
        DeviceEvent: MessageTypeDefinition<_hmx_argo_v1_DeviceEvent, _hmx_argo_v1_DeviceEvent__Output>
        EnrolRequest: MessageTypeDefinition<_hmx_argo_v1_EnrolRequest, _hmx_argo_v1_EnrolRequest__Output>
        EnrolResponse: MessageTypeDefinition<_hmx_argo_v1_EnrolResponse, _hmx_argo_v1_EnrolResponse__Output>
        Event: MessageTypeDefinition<_hmx_argo_v1_Event, _hmx_argo_v1_Event__Output>
        GetDomainInfoRequest: MessageTypeDefinition<_hmx_argo_v1_GetDomainInfoRequest, _hmx_argo_v1_GetDomainInfoRequest__Output>
        GetDomainInfoResponse: MessageTypeDefinition<_hmx_argo_v1_GetDomainInfoResponse, _hmx_argo_v1_GetDomainInfoResponse__Output>
        Hypercall: MessageTypeDefinition<_hmx_argo_v1_Hypercall, _hmx_argo_v1_Hypercall__Output>
        HypercallBatch: MessageTypeDefinition<_hmx_argo_v1_HypercallBatch, _hmx_argo_v1_HypercallBatch__Output>
        HypercallResult: MessageTypeDefinition<_hmx_argo_v1_HypercallResult, _hmx_argo_v1_HypercallResult__Output>
        HypercallResults: MessageTypeDefinition<_hmx_argo_v1_HypercallResults, _hmx_argo_v1_HypercallResults__Output>
        Hypervisor: SubtypeConstructor<typeof grpc.Client, _hmx_argo_v1_HypervisorClient> & { service: _hmx_argo_v1_HypervisorDefinition }
        Iov: MessageTypeDefinition<_hmx_argo_v1_Iov, _hmx_argo_v1_Iov__Output>
        ListPeersRequest: MessageTypeDefinition<_hmx_argo_v1_ListPeersRequest, _hmx_argo_v1_ListPeersRequest__Output>
        ListPeersResponse: MessageTypeDefinition<_hmx_argo_v1_ListPeersResponse, _hmx_argo_v1_ListPeersResponse__Output>
        NotifyRequest: MessageTypeDefinition<_hmx_argo_v1_NotifyRequest, _hmx_argo_v1_NotifyRequest__Output>
        NotifyResponse: MessageTypeDefinition<_hmx_argo_v1_NotifyResponse, _hmx_argo_v1_NotifyResponse__Output>
        Peer: MessageTypeDefinition<_hmx_argo_v1_Peer, _hmx_argo_v1_Peer__Output>
        ReadMemoryRequest: MessageTypeDefinition<_hmx_argo_v1_ReadMemoryRequest, _hmx_argo_v1_ReadMemoryRequest__Output>
        ReadMemoryResponse: MessageTypeDefinition<_hmx_argo_v1_ReadMemoryResponse, _hmx_argo_v1_ReadMemoryResponse__Output>
        RegisterRingRequest: MessageTypeDefinition<_hmx_argo_v1_RegisterRingRequest, _hmx_argo_v1_RegisterRingRequest__Output>
        RegisterRingResponse: MessageTypeDefinition<_hmx_argo_v1_RegisterRingResponse, _hmx_argo_v1_RegisterRingResponse__Output>
        RingData: MessageTypeDefinition<_hmx_argo_v1_RingData, _hmx_argo_v1_RingData__Output>
        RingDataEntry: MessageTypeDefinition<_hmx_argo_v1_RingDataEntry, _hmx_argo_v1_RingDataEntry__Output>
        RingDataResult: MessageTypeDefinition<_hmx_argo_v1_RingDataResult, _hmx_argo_v1_RingDataResult__Output>
        SendvRequest: MessageTypeDefinition<_hmx_argo_v1_SendvRequest, _hmx_argo_v1_SendvRequest__Output>
        SendvResponse: MessageTypeDefinition<_hmx_argo_v1_SendvResponse, _hmx_argo_v1_SendvResponse__Output>
        SessionOpen: MessageTypeDefinition<_hmx_argo_v1_SessionOpen, _hmx_argo_v1_SessionOpen__Output>
        SessionReady: MessageTypeDefinition<_hmx_argo_v1_SessionReady, _hmx_argo_v1_SessionReady__Output>
        SessionRequest: MessageTypeDefinition<_hmx_argo_v1_SessionRequest, _hmx_argo_v1_SessionRequest__Output>
        SessionResponse: MessageTypeDefinition<_hmx_argo_v1_SessionResponse, _hmx_argo_v1_SessionResponse__Output>
        UnregisterRingRequest: MessageTypeDefinition<_hmx_argo_v1_UnregisterRingRequest, _hmx_argo_v1_UnregisterRingRequest__Output>
        UnregisterRingResponse: MessageTypeDefinition<_hmx_argo_v1_UnregisterRingResponse, _hmx_argo_v1_UnregisterRingResponse__Output>
        Virq: MessageTypeDefinition<_hmx_argo_v1_Virq, _hmx_argo_v1_Virq__Output>
        VirqRingData: MessageTypeDefinition<_hmx_argo_v1_VirqRingData, _hmx_argo_v1_VirqRingData__Output>
        WatchEventsRequest: MessageTypeDefinition<_hmx_argo_v1_WatchEventsRequest, _hmx_argo_v1_WatchEventsRequest__Output>
        WriteMemoryRequest: MessageTypeDefinition<_hmx_argo_v1_WriteMemoryRequest, _hmx_argo_v1_WriteMemoryRequest__Output>
        WriteMemoryResponse: MessageTypeDefinition<_hmx_argo_v1_WriteMemoryResponse, _hmx_argo_v1_WriteMemoryResponse__Output>
      }
    }
  }
}

