// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { CreateDomainRequest as _hmx_toolstack_v1_CreateDomainRequest, CreateDomainRequest__Output as _hmx_toolstack_v1_CreateDomainRequest__Output } from '../../../hmx/toolstack/v1/CreateDomainRequest.js';
import type { CreateDomainResponse as _hmx_toolstack_v1_CreateDomainResponse, CreateDomainResponse__Output as _hmx_toolstack_v1_CreateDomainResponse__Output } from '../../../hmx/toolstack/v1/CreateDomainResponse.js';
import type { DestroyDomainRequest as _hmx_toolstack_v1_DestroyDomainRequest, DestroyDomainRequest__Output as _hmx_toolstack_v1_DestroyDomainRequest__Output } from '../../../hmx/toolstack/v1/DestroyDomainRequest.js';
import type { DestroyDomainResponse as _hmx_toolstack_v1_DestroyDomainResponse, DestroyDomainResponse__Output as _hmx_toolstack_v1_DestroyDomainResponse__Output } from '../../../hmx/toolstack/v1/DestroyDomainResponse.js';
import type { ListDomainsRequest as _hmx_toolstack_v1_ListDomainsRequest, ListDomainsRequest__Output as _hmx_toolstack_v1_ListDomainsRequest__Output } from '../../../hmx/toolstack/v1/ListDomainsRequest.js';
import type { ListDomainsResponse as _hmx_toolstack_v1_ListDomainsResponse, ListDomainsResponse__Output as _hmx_toolstack_v1_ListDomainsResponse__Output } from '../../../hmx/toolstack/v1/ListDomainsResponse.js';

export interface ToolstackClient extends grpc.Client {
  /**
   * Creates a domain with `memory_bytes` of guest-physical memory (a multiple of 4096, at
   * least 64 KiB, at most the hypervisor's per-domain cap). Pages are materialised lazily.
   * Returns the new domid (1..0x7FEF, never reused within a run) and the domain's credential,
   * the bearer token its guest agent presents. The credential is returned only here.
   */
  CreateDomain(argument: _hmx_toolstack_v1_CreateDomainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_CreateDomainResponse__Output>): grpc.ClientUnaryCall;
  CreateDomain(argument: _hmx_toolstack_v1_CreateDomainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_CreateDomainResponse__Output>): grpc.ClientUnaryCall;
  CreateDomain(argument: _hmx_toolstack_v1_CreateDomainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_CreateDomainResponse__Output>): grpc.ClientUnaryCall;
  CreateDomain(argument: _hmx_toolstack_v1_CreateDomainRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_CreateDomainResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Creates a domain with `memory_bytes` of guest-physical memory (a multiple of 4096, at
   * least 64 KiB, at most the hypervisor's per-domain cap). Pages are materialised lazily.
   * Returns the new domid (1..0x7FEF, never reused within a run) and the domain's credential,
   * the bearer token its guest agent presents. The credential is returned only here.
   */
  createDomain(argument: _hmx_toolstack_v1_CreateDomainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_CreateDomainResponse__Output>): grpc.ClientUnaryCall;
  createDomain(argument: _hmx_toolstack_v1_CreateDomainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_CreateDomainResponse__Output>): grpc.ClientUnaryCall;
  createDomain(argument: _hmx_toolstack_v1_CreateDomainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_CreateDomainResponse__Output>): grpc.ClientUnaryCall;
  createDomain(argument: _hmx_toolstack_v1_CreateDomainRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_CreateDomainResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Destroys a domain: Xen's argo_destroy (its rings, every other domain's unicast ring whose
   * partner it was, and its pending waiters elsewhere), then its memory and credential. Open
   * guest connections of that domain are ended with UNAUTHENTICATED on their next call.
   */
  DestroyDomain(argument: _hmx_toolstack_v1_DestroyDomainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DestroyDomainResponse__Output>): grpc.ClientUnaryCall;
  DestroyDomain(argument: _hmx_toolstack_v1_DestroyDomainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_DestroyDomainResponse__Output>): grpc.ClientUnaryCall;
  DestroyDomain(argument: _hmx_toolstack_v1_DestroyDomainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DestroyDomainResponse__Output>): grpc.ClientUnaryCall;
  DestroyDomain(argument: _hmx_toolstack_v1_DestroyDomainRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_DestroyDomainResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Destroys a domain: Xen's argo_destroy (its rings, every other domain's unicast ring whose
   * partner it was, and its pending waiters elsewhere), then its memory and credential. Open
   * guest connections of that domain are ended with UNAUTHENTICATED on their next call.
   */
  destroyDomain(argument: _hmx_toolstack_v1_DestroyDomainRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DestroyDomainResponse__Output>): grpc.ClientUnaryCall;
  destroyDomain(argument: _hmx_toolstack_v1_DestroyDomainRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_DestroyDomainResponse__Output>): grpc.ClientUnaryCall;
  destroyDomain(argument: _hmx_toolstack_v1_DestroyDomainRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DestroyDomainResponse__Output>): grpc.ClientUnaryCall;
  destroyDomain(argument: _hmx_toolstack_v1_DestroyDomainRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_DestroyDomainResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Lists live domains with their Argo state and counters.
   */
  ListDomains(argument: _hmx_toolstack_v1_ListDomainsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDomainsResponse__Output>): grpc.ClientUnaryCall;
  ListDomains(argument: _hmx_toolstack_v1_ListDomainsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDomainsResponse__Output>): grpc.ClientUnaryCall;
  ListDomains(argument: _hmx_toolstack_v1_ListDomainsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDomainsResponse__Output>): grpc.ClientUnaryCall;
  ListDomains(argument: _hmx_toolstack_v1_ListDomainsRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDomainsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Lists live domains with their Argo state and counters.
   */
  listDomains(argument: _hmx_toolstack_v1_ListDomainsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDomainsResponse__Output>): grpc.ClientUnaryCall;
  listDomains(argument: _hmx_toolstack_v1_ListDomainsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDomainsResponse__Output>): grpc.ClientUnaryCall;
  listDomains(argument: _hmx_toolstack_v1_ListDomainsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDomainsResponse__Output>): grpc.ClientUnaryCall;
  listDomains(argument: _hmx_toolstack_v1_ListDomainsRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDomainsResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ToolstackHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Creates a domain with `memory_bytes` of guest-physical memory (a multiple of 4096, at
   * least 64 KiB, at most the hypervisor's per-domain cap). Pages are materialised lazily.
   * Returns the new domid (1..0x7FEF, never reused within a run) and the domain's credential,
   * the bearer token its guest agent presents. The credential is returned only here.
   */
  CreateDomain: grpc.handleUnaryCall<_hmx_toolstack_v1_CreateDomainRequest__Output, _hmx_toolstack_v1_CreateDomainResponse>;
  
  /**
   * Destroys a domain: Xen's argo_destroy (its rings, every other domain's unicast ring whose
   * partner it was, and its pending waiters elsewhere), then its memory and credential. Open
   * guest connections of that domain are ended with UNAUTHENTICATED on their next call.
   */
  DestroyDomain: grpc.handleUnaryCall<_hmx_toolstack_v1_DestroyDomainRequest__Output, _hmx_toolstack_v1_DestroyDomainResponse>;
  
  /**
   * Lists live domains with their Argo state and counters.
   */
  ListDomains: grpc.handleUnaryCall<_hmx_toolstack_v1_ListDomainsRequest__Output, _hmx_toolstack_v1_ListDomainsResponse>;
  
}

export interface ToolstackDefinition extends grpc.ServiceDefinition {
  CreateDomain: MethodDefinition<_hmx_toolstack_v1_CreateDomainRequest, _hmx_toolstack_v1_CreateDomainResponse, _hmx_toolstack_v1_CreateDomainRequest__Output, _hmx_toolstack_v1_CreateDomainResponse__Output>
  DestroyDomain: MethodDefinition<_hmx_toolstack_v1_DestroyDomainRequest, _hmx_toolstack_v1_DestroyDomainResponse, _hmx_toolstack_v1_DestroyDomainRequest__Output, _hmx_toolstack_v1_DestroyDomainResponse__Output>
  ListDomains: MethodDefinition<_hmx_toolstack_v1_ListDomainsRequest, _hmx_toolstack_v1_ListDomainsResponse, _hmx_toolstack_v1_ListDomainsRequest__Output, _hmx_toolstack_v1_ListDomainsResponse__Output>
}
