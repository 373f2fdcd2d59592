import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { CreateDomainRequest as _hmx_toolstack_v1_CreateDomainRequest, CreateDomainRequest__Output as _hmx_toolstack_v1_CreateDomainRequest__Output } from './hmx/toolstack/v1/CreateDomainRequest.js';
import type { CreateDomainResponse as _hmx_toolstack_v1_CreateDomainResponse, CreateDomainResponse__Output as _hmx_toolstack_v1_CreateDomainResponse__Output } from './hmx/toolstack/v1/CreateDomainResponse.js';
import type { DestroyDomainRequest as _hmx_toolstack_v1_DestroyDomainRequest, DestroyDomainRequest__Output as _hmx_toolstack_v1_DestroyDomainRequest__Output } from './hmx/toolstack/v1/DestroyDomainRequest.js';
import type { DestroyDomainResponse as _hmx_toolstack_v1_DestroyDomainResponse, DestroyDomainResponse__Output as _hmx_toolstack_v1_DestroyDomainResponse__Output } from './hmx/toolstack/v1/DestroyDomainResponse.js';
import type { DomainCounters as _hmx_toolstack_v1_DomainCounters, DomainCounters__Output as _hmx_toolstack_v1_DomainCounters__Output } from './hmx/toolstack/v1/DomainCounters.js';
import type { DomainSummary as _hmx_toolstack_v1_DomainSummary, DomainSummary__Output as _hmx_toolstack_v1_DomainSummary__Output } from './hmx/toolstack/v1/DomainSummary.js';
import type { ListDomainsRequest as _hmx_toolstack_v1_ListDomainsRequest, ListDomainsRequest__Output as _hmx_toolstack_v1_ListDomainsRequest__Output } from './hmx/toolstack/v1/ListDomainsRequest.js';
import type { ListDomainsResponse as _hmx_toolstack_v1_ListDomainsResponse, ListDomainsResponse__Output as _hmx_toolstack_v1_ListDomainsResponse__Output } from './hmx/toolstack/v1/ListDomainsResponse.js';
import type { ToolstackClient as _hmx_toolstack_v1_ToolstackClient, ToolstackDefinition as _hmx_toolstack_v1_ToolstackDefinition } from './hmx/toolstack/v1/Toolstack.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  hmx: {
    toolstack: {
      v1: {
        CreateDomainRequest: MessageTypeDefinition<_hmx_toolstack_v1_CreateDomainRequest, _hmx_toolstack_v1_CreateDomainRequest__Output>
        CreateDomainResponse: MessageTypeDefinition<_hmx_toolstack_v1_CreateDomainResponse, _hmx_toolstack_v1_CreateDomainResponse__Output>
        DestroyDomainRequest: MessageTypeDefinition<_hmx_toolstack_v1_DestroyDomainRequest, _hmx_toolstack_v1_DestroyDomainRequest__Output>
        DestroyDomainResponse: MessageTypeDefinition<_hmx_toolstack_v1_DestroyDomainResponse, _hmx_toolstack_v1_DestroyDomainResponse__Output>
        DomainCounters: MessageTypeDefinition<_hmx_toolstack_v1_DomainCounters, _hmx_toolstack_v1_DomainCounters__Output>
        DomainSummary: MessageTypeDefinition<_hmx_toolstack_v1_DomainSummary, _hmx_toolstack_v1_DomainSummary__Output>
        ListDomainsRequest: MessageTypeDefinition<_hmx_toolstack_v1_ListDomainsRequest, _hmx_toolstack_v1_ListDomainsRequest__Output>
        ListDomainsResponse: MessageTypeDefinition<_hmx_toolstack_v1_ListDomainsResponse, _hmx_toolstack_v1_ListDomainsResponse__Output>
        Toolstack: SubtypeConstructor<typeof grpc.Client, _hmx_toolstack_v1_ToolstackClient> & { service: _hmx_toolstack_v1_ToolstackDefinition }
      }
    }
  }
}

