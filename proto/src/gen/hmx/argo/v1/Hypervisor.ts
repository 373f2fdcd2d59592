// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { EnrolRequest as _hmx_argo_v1_EnrolRequest, EnrolRequest__Output as _hmx_argo_v1_EnrolRequest__Output } from '../../../hmx/argo/v1/EnrolRequest.js';
import type { EnrolResponse as _hmx_argo_v1_EnrolResponse, EnrolResponse__Output as _hmx_argo_v1_EnrolResponse__Output } from '../../../hmx/argo/v1/EnrolResponse.js';
import type { Event as _hmx_argo_v1_Event, Event__Output as _hmx_argo_v1_Event__Output } from '../../../hmx/argo/v1/Event.js';
import type { GetDomainInfoRequest as _hmx_argo_v1_GetDomainInfoRequest, GetDomainInfoRequest__Output as _hmx_argo_v1_GetDomainInfoRequest__Output } from '../../../hmx/argo/v1/GetDomainInfoRequest.js';
import type { GetDomainInfoResponse as _hmx_argo_v1_GetDomainInfoResponse, GetDomainInfoResponse__Output as _hmx_argo_v1_GetDomainInfoResponse__Output } from '../../../hmx/argo/v1/GetDomainInfoResponse.js';
import type { ListPeersRequest as _hmx_argo_v1_ListPeersRequest, ListPeersRequest__Output as _hmx_argo_v1_ListPeersRequest__Output } from '../../../hmx/argo/v1/ListPeersRequest.js';
import type { ListPeersResponse as _hmx_argo_v1_ListPeersResponse, ListPeersResponse__Output as _hmx_argo_v1_ListPeersResponse__Output } from '../../../hmx/argo/v1/ListPeersResponse.js';
import type { NotifyRequest as _hmx_argo_v1_NotifyRequest, NotifyRequest__Output as _hmx_argo_v1_NotifyRequest__Output } from '../../../hmx/argo/v1/NotifyRequest.js';
import type { NotifyResponse as _hmx_argo_v1_NotifyResponse, NotifyResponse__Output as _hmx_argo_v1_NotifyResponse__Output } from '../../../hmx/argo/v1/NotifyResponse.js';
import type { ReadMemoryRequest as _hmx_argo_v1_ReadMemoryRequest, ReadMemoryRequest__Output as _hmx_argo_v1_ReadMemoryRequest__Output } from '../../../hmx/argo/v1/ReadMemoryRequest.js';
import type { ReadMemoryResponse as _hmx_argo_v1_ReadMemoryResponse, ReadMemoryResponse__Output as _hmx_argo_v1_ReadMemoryResponse__Output } from '../../../hmx/argo/v1/ReadMemoryResponse.js';
import type { RegisterRingRequest as _hmx_argo_v1_RegisterRingRequest, RegisterRingRequest__Output as _hmx_argo_v1_RegisterRingRequest__Output } from '../../../hmx/argo/v1/RegisterRingRequest.js';
import type { RegisterRingResponse as _hmx_argo_v1_RegisterRingResponse, RegisterRingResponse__Output as _hmx_argo_v1_RegisterRingResponse__Output } from '../../../hmx/argo/v1/RegisterRingResponse.js';
import type { SendvRequest as _hmx_argo_v1_SendvRequest, SendvRequest__Output as _hmx_argo_v1_SendvRequest__Output } from '../../../hmx/argo/v1/SendvRequest.js';
import type { SendvResponse as _hmx_argo_v1_SendvResponse, SendvResponse__Output as _hmx_argo_v1_SendvResponse__Output } from '../../../hmx/argo/v1/SendvResponse.js';
import type { SessionRequest as _hmx_argo_v1_SessionRequest, SessionRequest__Output as _hmx_argo_v1_SessionRequest__Output } from '../../../hmx/argo/v1/SessionRequest.js';
import type { SessionResponse as _hmx_argo_v1_SessionResponse, SessionResponse__Output as _hmx_argo_v1_SessionResponse__Output } from '../../../hmx/argo/v1/SessionResponse.js';
import type { UnregisterRingRequest as _hmx_argo_v1_UnregisterRingRequest, UnregisterRingRequest__Output as _hmx_argo_v1_UnregisterRingRequest__Output } from '../../../hmx/argo/v1/UnregisterRingRequest.js';
import type { UnregisterRingResponse as _hmx_argo_v1_UnregisterRingResponse, UnregisterRingResponse__Output as _hmx_argo_v1_UnregisterRingResponse__Output } from '../../../hmx/argo/v1/UnregisterRingResponse.js';
import type { WatchEventsRequest as _hmx_argo_v1_WatchEventsRequest, WatchEventsRequest__Output as _hmx_argo_v1_WatchEventsRequest__Output } from '../../../hmx/argo/v1/WatchEventsRequest.js';
import type { WriteMemoryRequest as _hmx_argo_v1_WriteMemoryRequest, WriteMemoryRequest__Output as _hmx_argo_v1_WriteMemoryRequest__Output } from '../../../hmx/argo/v1/WriteMemoryRequest.js';
import type { WriteMemoryResponse as _hmx_argo_v1_WriteMemoryResponse, WriteMemoryResponse__Output as _hmx_argo_v1_WriteMemoryResponse__Output } from '../../../hmx/argo/v1/WriteMemoryResponse.js';

export interface HypervisorClient extends grpc.Client {
  /**
   * Enrolment: how a guest with no pre-issued credential gets a domain. The call carries
   * `authorization: Bearer <enrolment token>` (not a domain credential). The token is bound to
   * a domain template (label, memory, maximum count) configured on the hypervisor.
   * instance  the guest's stable name (e.g. its container or pod name); 1..48 characters of
   * [A-Za-z0-9._-]. The domain is named "<template>-<instance>".
   * instance_secret  empty on a first enrolment; to resume, the secret that enrolment returned.
   * Reply: domid and a fresh credential; a first enrolment also returns `instance_secret`, which
   * the guest keeps with its state. If a live domain of the same template already has this
   * instance name, that domain is resumed only for the caller presenting its instance secret:
   * same domid, rings and memory intact, its old credential is revoked and the domain's open
   * Session and WatchEvents streams end (UNAUTHENTICATED). Every guest of a template holds the
   * same token, so the token alone never hands over a live domain.
   * Errors: UNAUTHENTICATED unknown token, a domain credential, or a wrong instance secret;
   * ALREADY_EXISTS the instance is live and no instance secret was given, or the domain name is
   * taken by a domain that is not this template's; RESOURCE_EXHAUSTED the template's maximum
   * count is reached; INVALID_ARGUMENT a bad instance name (named in the message). An enrolled domain whose guest stays disconnected longer than the hypervisor's
   * grace period is destroyed with full Argo teardown.
   */
  Enrol(argument: _hmx_argo_v1_EnrolRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_EnrolResponse__Output>): grpc.ClientUnaryCall;
  Enrol(argument: _hmx_argo_v1_EnrolRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_EnrolResponse__Output>): grpc.ClientUnaryCall;
  Enrol(argument: _hmx_argo_v1_EnrolRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_EnrolResponse__Output>): grpc.ClientUnaryCall;
  Enrol(argument: _hmx_argo_v1_EnrolRequest, callback: grpc.requestCallback<_hmx_argo_v1_EnrolResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Enrolment: how a guest with no pre-issued credential gets a domain. The call carries
   * `authorization: Bearer <enrolment token>` (not a domain credential). The token is bound to
   * a domain template (label, memory, maximum count) configured on the hypervisor.
   * instance  the guest's stable name (e.g. its container or pod name); 1..48 characters of
   * [A-Za-z0-9._-]. The domain is named "<template>-<instance>".
   * instance_secret  empty on a first enrolment; to resume, the secret that enrolment returned.
   * Reply: domid and a fresh credential; a first enrolment also returns `instance_secret`, which
   * the guest keeps with its state. If a live domain of the same template already has this
   * instance name, that domain is resumed only for the caller presenting its instance secret:
   * same domid, rings and memory intact, its old credential is revoked and the domain's open
   * Session and WatchEvents streams end (UNAUTHENTICATED). Every guest of a template holds the
   * same token, so the token alone never hands over a live domain.
   * Errors: UNAUTHENTICATED unknown token, a domain credential, or a wrong instance secret;
   * ALREADY_EXISTS the instance is live and no instance secret was given, or the domain name is
   * taken by a domain that is not this template's; RESOURCE_EXHAUSTED the template's maximum
   * count is reached; INVALID_ARGUMENT a bad instance name (named in the message). An enrolled domain whose guest stays disconnected longer than the hypervisor's
   * grace period is destroyed with full Argo teardown.
   */
  enrol(argument: _hmx_argo_v1_EnrolRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_EnrolResponse__Output>): grpc.ClientUnaryCall;
  enrol(argument: _hmx_argo_v1_EnrolRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_EnrolResponse__Output>): grpc.ClientUnaryCall;
  enrol(argument: _hmx_argo_v1_EnrolRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_EnrolResponse__Output>): grpc.ClientUnaryCall;
  enrol(argument: _hmx_argo_v1_EnrolRequest, callback: grpc.requestCallback<_hmx_argo_v1_EnrolResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Describes the calling domain.
   * Reply: domid (1..0x7FEF), memory_bytes (multiple of page_size), page_size (4096), label.
   */
  GetDomainInfo(argument: _hmx_argo_v1_GetDomainInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_GetDomainInfoResponse__Output>): grpc.ClientUnaryCall;
  GetDomainInfo(argument: _hmx_argo_v1_GetDomainInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_GetDomainInfoResponse__Output>): grpc.ClientUnaryCall;
  GetDomainInfo(argument: _hmx_argo_v1_GetDomainInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_GetDomainInfoResponse__Output>): grpc.ClientUnaryCall;
  GetDomainInfo(argument: _hmx_argo_v1_GetDomainInfoRequest, callback: grpc.requestCallback<_hmx_argo_v1_GetDomainInfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Describes the calling domain.
   * Reply: domid (1..0x7FEF), memory_bytes (multiple of page_size), page_size (4096), label.
   */
  getDomainInfo(argument: _hmx_argo_v1_GetDomainInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_GetDomainInfoResponse__Output>): grpc.ClientUnaryCall;
  getDomainInfo(argument: _hmx_argo_v1_GetDomainInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_GetDomainInfoResponse__Output>): grpc.ClientUnaryCall;
  getDomainInfo(argument: _hmx_argo_v1_GetDomainInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_GetDomainInfoResponse__Output>): grpc.ClientUnaryCall;
  getDomainInfo(argument: _hmx_argo_v1_GetDomainInfoRequest, callback: grpc.requestCallback<_hmx_argo_v1_GetDomainInfoResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The peers the caller may see: every other live domain, with its domid, name and label.
   * Whether the caller may actually send to one is for MAC to decide at sendv.
   */
  ListPeers(argument: _hmx_argo_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _hmx_argo_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _hmx_argo_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  ListPeers(argument: _hmx_argo_v1_ListPeersRequest, callback: grpc.requestCallback<_hmx_argo_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The peers the caller may see: every other live domain, with its domid, name and label.
   * Whether the caller may actually send to one is for MAC to decide at sendv.
   */
  listPeers(argument: _hmx_argo_v1_ListPeersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _hmx_argo_v1_ListPeersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _hmx_argo_v1_ListPeersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  listPeers(argument: _hmx_argo_v1_ListPeersRequest, callback: grpc.requestCallback<_hmx_argo_v1_ListPeersResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * XEN_ARGO_OP_notify (4). First, for every ring the CALLER owns, fires each pending space
   * waiter whose request now fits (VIRQ_ARGO on the waiting domain). Then, when `ring_data` is
   * present, describes each entry's ring from the caller's point of view, in order:
   * flags: EXISTS=1 SHARED=2 EMPTY=4 SUFFICIENT=8 EMSGSIZE=16 EBUSY=32
   * max_message_size: ring.len - 32 for an existing ring, else 0
   * SUFFICIENT cancels the caller's waiter on that ring; insufficient space queues one (EBUSY
   * flag when 32 are already queued).
   * -EACCES  more than 256 entries (Xen's choice of errno)
   * MAC denial of `send` toward an entry's ring owner stops processing with that error;
   * `entries` then holds the entries processed before it.
   * An entry naming a missing domain or ring gets flags 0 and max_message_size 0; so does a
   * domain_id > 0xFFFF (Xen does not check the pad of a notify entry's address).
   */
  Notify(argument: _hmx_argo_v1_NotifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_NotifyResponse__Output>): grpc.ClientUnaryCall;
  Notify(argument: _hmx_argo_v1_NotifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_NotifyResponse__Output>): grpc.ClientUnaryCall;
  Notify(argument: _hmx_argo_v1_NotifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_NotifyResponse__Output>): grpc.ClientUnaryCall;
  Notify(argument: _hmx_argo_v1_NotifyRequest, callback: grpc.requestCallback<_hmx_argo_v1_NotifyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * XEN_ARGO_OP_notify (4). First, for every ring the CALLER owns, fires each pending space
   * waiter whose request now fits (VIRQ_ARGO on the waiting domain). Then, when `ring_data` is
   * present, describes each entry's ring from the caller's point of view, in order:
   * flags: EXISTS=1 SHARED=2 EMPTY=4 SUFFICIENT=8 EMSGSIZE=16 EBUSY=32
   * max_message_size: ring.len - 32 for an existing ring, else 0
   * SUFFICIENT cancels the caller's waiter on that ring; insufficient space queues one (EBUSY
   * flag when 32 are already queued).
   * -EACCES  more than 256 entries (Xen's choice of errno)
   * MAC denial of `send` toward an entry's ring owner stops processing with that error;
   * `entries` then holds the entries processed before it.
   * An entry naming a missing domain or ring gets flags 0 and max_message_size 0; so does a
   * domain_id > 0xFFFF (Xen does not check the pad of a notify entry's address).
   */
  notify(argument: _hmx_argo_v1_NotifyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_NotifyResponse__Output>): grpc.ClientUnaryCall;
  notify(argument: _hmx_argo_v1_NotifyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_NotifyResponse__Output>): grpc.ClientUnaryCall;
  notify(argument: _hmx_argo_v1_NotifyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_NotifyResponse__Output>): grpc.ClientUnaryCall;
  notify(argument: _hmx_argo_v1_NotifyRequest, callback: grpc.requestCallback<_hmx_argo_v1_NotifyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Reads `length` bytes of the caller's own guest-physical memory starting at `gpa`.
   * ret:  0 on success, `data` holds the bytes (never-written memory reads as zeros).
   * -EFAULT any byte of [gpa, gpa+length) lies outside the caller's memory.
   * -EINVAL length > 16 MiB (16777216).
   * gfn 0, the virtual ACPI device table, is readable like any other page.
   */
  ReadMemory(argument: _hmx_argo_v1_ReadMemoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_ReadMemoryResponse__Output>): grpc.ClientUnaryCall;
  ReadMemory(argument: _hmx_argo_v1_ReadMemoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_ReadMemoryResponse__Output>): grpc.ClientUnaryCall;
  ReadMemory(argument: _hmx_argo_v1_ReadMemoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_ReadMemoryResponse__Output>): grpc.ClientUnaryCall;
  ReadMemory(argument: _hmx_argo_v1_ReadMemoryRequest, callback: grpc.requestCallback<_hmx_argo_v1_ReadMemoryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Reads `length` bytes of the caller's own guest-physical memory starting at `gpa`.
   * ret:  0 on success, `data` holds the bytes (never-written memory reads as zeros).
   * -EFAULT any byte of [gpa, gpa+length) lies outside the caller's memory.
   * -EINVAL length > 16 MiB (16777216).
   * gfn 0, the virtual ACPI device table, is readable like any other page.
   */
  readMemory(argument: _hmx_argo_v1_ReadMemoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_ReadMemoryResponse__Output>): grpc.ClientUnaryCall;
  readMemory(argument: _hmx_argo_v1_ReadMemoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_ReadMemoryResponse__Output>): grpc.ClientUnaryCall;
  readMemory(argument: _hmx_argo_v1_ReadMemoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_ReadMemoryResponse__Output>): grpc.ClientUnaryCall;
  readMemory(argument: _hmx_argo_v1_ReadMemoryRequest, callback: grpc.requestCallback<_hmx_argo_v1_ReadMemoryResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * XEN_ARGO_OP_register_ring (1). Registers a receive ring owned by the caller.
   * aport       ring port (u32)
   * partner_id  the only domain allowed to send to it, or 0x7FF4 (XEN_ARGO_DOMID_ANY) for a
   * wildcard ring
   * len         ring data bytes, excluding the 64-byte ring header; multiple of 16, >= 48
   * gfns        the ring's pages in order (arg2/arg3 of the hypercall; npage = gfns.length)
   * flags       XEN_ARGO_REGISTER_FLAG_FAIL_EXIST (1) or 0
   * Errors, in Xen's check order:
   * -EINVAL  more than 4096 gfns; flags other than 0/1; len < 48, len > 0x1000000, len not a
   * multiple of 16, or NPAGES_RING(len) != npage; partner_id > 0xFFFF
   * -EPERM   wildcard ring while the hypervisor runs without --argo-mac-permissive
   * -ESRCH   the partner domain does not exist
   * -EACCES / -EPERM   denied by the MAC module (Flask / SILO)
   * -ENOSPC  the caller already owns 128 rings (re-registration does not count twice)
   * -EEXIST  the ring exists and FAIL_EXIST was given, or the existing ring's len differs
   * -EINVAL  a gfn is outside the caller's memory or is a platform-reserved gfn (0..15; gfn 0
   * is the read-only device table), as Xen refuses a page that is not p2m_ram_rw
   * (argo-spec §3.2 step 9); no ring exists afterwards
   * -ENOMEM  the pages cannot be materialised within the hypervisor's memory quota
   * Side effects: the pages are pinned for the ring's life. tx_ptr is initialised from the
   * guest's header when valid (< len and 16-aligned), else to ROUNDUP16(rx_ptr) (0 if >= len)
   * and written back. Re-registering an existing ring with the same len swaps its pages and
   * keeps tx_ptr; if re-registration fails the existing ring is left untouched.
   */
  RegisterRing(argument: _hmx_argo_v1_RegisterRingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_RegisterRingResponse__Output>): grpc.ClientUnaryCall;
  RegisterRing(argument: _hmx_argo_v1_RegisterRingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_RegisterRingResponse__Output>): grpc.ClientUnaryCall;
  RegisterRing(argument: _hmx_argo_v1_RegisterRingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_RegisterRingResponse__Output>): grpc.ClientUnaryCall;
  RegisterRing(argument: _hmx_argo_v1_RegisterRingRequest, callback: grpc.requestCallback<_hmx_argo_v1_RegisterRingResponse__Output>): grpc.ClientUnaryCall;
  /**
   * XEN_ARGO_OP_register_ring (1). Registers a receive ring owned by the caller.
   * aport       ring port (u32)
   * partner_id  the only domain allowed to send to it, or 0x7FF4 (XEN_ARGO_DOMID_ANY) for a
   * wildcard ring
   * len         ring data bytes, excluding the 64-byte ring header; multiple of 16, >= 48
   * gfns        the ring's pages in order (arg2/arg3 of the hypercall; npage = gfns.length)
   * flags       XEN_ARGO_REGISTER_FLAG_FAIL_EXIST (1) or 0
   * Errors, in Xen's check order:
   * -EINVAL  more than 4096 gfns; flags other than 0/1; len < 48, len > 0x1000000, len not a
   * multiple of 16, or NPAGES_RING(len) != npage; partner_id > 0xFFFF
   * -EPERM   wildcard ring while the hypervisor runs without --argo-mac-permissive
   * -ESRCH   the partner domain does not exist
   * -EACCES / -EPERM   denied by the MAC module (Flask / SILO)
   * -ENOSPC  the caller already owns 128 rings (re-registration does not count twice)
   * -EEXIST  the ring exists and FAIL_EXIST was given, or the existing ring's len differs
   * -EINVAL  a gfn is outside the caller's memory or is a platform-reserved gfn (0..15; gfn 0
   * is the read-only device table), as Xen refuses a page that is not p2m_ram_rw
   * (argo-spec §3.2 step 9); no ring exists afterwards
   * -ENOMEM  the pages cannot be materialised within the hypervisor's memory quota
   * Side effects: the pages are pinned for the ring's life. tx_ptr is initialised from the
   * guest's header when valid (< len and 16-aligned), else to ROUNDUP16(rx_ptr) (0 if >= len)
   * and written back. Re-registering an existing ring with the same len swaps its pages and
   * keeps tx_ptr; if re-registration fails the existing ring is left untouched.
   */
  registerRing(argument: _hmx_argo_v1_RegisterRingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_RegisterRingResponse__Output>): grpc.ClientUnaryCall;
  registerRing(argument: _hmx_argo_v1_RegisterRingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_RegisterRingResponse__Output>): grpc.ClientUnaryCall;
  registerRing(argument: _hmx_argo_v1_RegisterRingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_RegisterRingResponse__Output>): grpc.ClientUnaryCall;
  registerRing(argument: _hmx_argo_v1_RegisterRingRequest, callback: grpc.requestCallback<_hmx_argo_v1_RegisterRingResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * XEN_ARGO_OP_sendv (3). The hypervisor copies a 16-byte message header and the payload
   * gathered from `iovs` (in the caller's memory) into the destination ring.
   * src.domain_id  0x7FF4 (meaning: the caller) or the caller's own domid
   * src.aport      copied into the header verbatim; NOT authenticated (as in Xen)
   * dst            destination (domain_id, aport)
   * iovs           at most 8 {gpa, len}
   * message_type   opaque u32 stored in the header
   * ret: payload bytes sent (header excluded), or
   * -EINVAL  more than 8 iovs; a domain_id > 0xFFFF; an iov len > 16777184
   * -EPERM   src.domain_id names another domain (0 included)
   * -ESRCH   the destination domain does not exist (this includes 0x7FF4)
   * -EACCES / -EPERM   denied by MAC (Flask / SILO or firewall)
   * -ECONNREFUSED  no ring matches: first (dst, aport, partner=caller), then (dst, aport, ANY)
   * -EMSGSIZE  total payload > 16777184, or the message can never fit this ring
   * (ring.len <= 16 + ROUNDUP16(payload))
   * -EAGAIN  the ring is full right now; a space waiter for this caller is queued and
   * VIRQ_ARGO will be raised when the ring owner's notify finds enough space
   * -EBUSY   the ring is full and 32 other domains are already waiting on it
   * -EFAULT  an iov lies outside the caller's memory (nothing is published)
   * Side effects on success: tx_ptr advances; VIRQ_ARGO is raised on the destination domain.
   */
  Sendv(argument: _hmx_argo_v1_SendvRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_SendvResponse__Output>): grpc.ClientUnaryCall;
  Sendv(argument: _hmx_argo_v1_SendvRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_SendvResponse__Output>): grpc.ClientUnaryCall;
  Sendv(argument: _hmx_argo_v1_SendvRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_SendvResponse__Output>): grpc.ClientUnaryCall;
  Sendv(argument: _hmx_argo_v1_SendvRequest, callback: grpc.requestCallback<_hmx_argo_v1_SendvResponse__Output>): grpc.ClientUnaryCall;
  /**
   * XEN_ARGO_OP_sendv (3). The hypervisor copies a 16-byte message header and the payload
   * gathered from `iovs` (in the caller's memory) into the destination ring.
   * src.domain_id  0x7FF4 (meaning: the caller) or the caller's own domid
   * src.aport      copied into the header verbatim; NOT authenticated (as in Xen)
   * dst            destination (domain_id, aport)
   * iovs           at most 8 {gpa, len}
   * message_type   opaque u32 stored in the header
   * ret: payload bytes sent (header excluded), or
   * -EINVAL  more than 8 iovs; a domain_id > 0xFFFF; an iov len > 16777184
   * -EPERM   src.domain_id names another domain (0 included)
   * -ESRCH   the destination domain does not exist (this includes 0x7FF4)
   * -EACCES / -EPERM   denied by MAC (Flask / SILO or firewall)
   * -ECONNREFUSED  no ring matches: first (dst, aport, partner=caller), then (dst, aport, ANY)
   * -EMSGSIZE  total payload > 16777184, or the message can never fit this ring
   * (ring.len <= 16 + ROUNDUP16(payload))
   * -EAGAIN  the ring is full right now; a space waiter for this caller is queued and
   * VIRQ_ARGO will be raised when the ring owner's notify finds enough space
   * -EBUSY   the ring is full and 32 other domains are already waiting on it
   * -EFAULT  an iov lies outside the caller's memory (nothing is published)
   * Side effects on success: tx_ptr advances; VIRQ_ARGO is raised on the destination domain.
   */
  sendv(argument: _hmx_argo_v1_SendvRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_SendvResponse__Output>): grpc.ClientUnaryCall;
  sendv(argument: _hmx_argo_v1_SendvRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_SendvResponse__Output>): grpc.ClientUnaryCall;
  sendv(argument: _hmx_argo_v1_SendvRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_SendvResponse__Output>): grpc.ClientUnaryCall;
  sendv(argument: _hmx_argo_v1_SendvRequest, callback: grpc.requestCallback<_hmx_argo_v1_SendvResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The guest agent's fast path: a bidirectional stream of hypercall batches.
   * Rules:
   * * The first client frame must be `open`. The server answers `ready` with the domain's
   * highest executed request id. The newest session of a domain takes over: an older
   * session is ended with status ABORTED.
   * * Every hypercall carries a request_id. Ids are per domain and strictly increasing.
   * * A batch is executed strictly in order, like a Xen multicall. With stop_on_error, the
   * first result whose ret < 0 (or that fails with a status) ends the batch; the remaining
   * calls are answered with status ABORTED and are NOT executed (a retry needs new ids).
   * * A request id that was already executed is answered from the resume log, not run again.
   * The log keeps every result not yet acknowledged (`ack_through`), up to a bounded count;
   * results older than that are FAILED_PRECONDITION.
   * * Dependent batches (only where `ready.dependent_batches` is set): a batch with `after`
   * = id runs only if the call with request id `id` was executed by this domain and its
   * result is a `ret >= 0` (not a status). Otherwise every call of the batch that has not
   * run yet is answered with status ABORTED and is NOT executed (its id is consumed: a retry
   * needs new ids), exactly like the calls after a stop_on_error failure. So a guest may
   * keep several stop_on_error batches of one ordered stream in flight, each `after` the
   * last id of the one before: when one stops, every batch behind it is skipped whole and
   * nothing overtakes the calls it left unsent.
   * The id is looked up in the resume log when the batch's first not-yet-executed call is
   * reached (a domain's batches run in arrival order, so the batch before has finished):
   * an id never executed, or whose result has left the log (acknowledged or evicted),
   * aborts. A client therefore does not acknowledge `after` until the batch that names it is
   * answered. A call already executed is still answered from the log whatever `after` says
   * (a batch resent after a reconnect reads as it did the first time).
   * * VIRQ events are pushed on the stream as `event`.
   */
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_hmx_argo_v1_SessionRequest, _hmx_argo_v1_SessionResponse__Output>;
  Session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_hmx_argo_v1_SessionRequest, _hmx_argo_v1_SessionResponse__Output>;
  /**
   * The guest agent's fast path: a bidirectional stream of hypercall batches.
   * Rules:
   * * The first client frame must be `open`. The server answers `ready` with the domain's
   * highest executed request id. The newest session of a domain takes over: an older
   * session is ended with status ABORTED.
   * * Every hypercall carries a request_id. Ids are per domain and strictly increasing.
   * * A batch is executed strictly in order, like a Xen multicall. With stop_on_error, the
   * first result whose ret < 0 (or that fails with a status) ends the batch; the remaining
   * calls are answered with status ABORTED and are NOT executed (a retry needs new ids).
   * * A request id that was already executed is answered from the resume log, not run again.
   * The log keeps every result not yet acknowledged (`ack_through`), up to a bounded count;
   * results older than that are FAILED_PRECONDITION.
   * * Dependent batches (only where `ready.dependent_batches` is set): a batch with `after`
   * = id runs only if the call with request id `id` was executed by this domain and its
   * result is a `ret >= 0` (not a status). Otherwise every call of the batch that has not
   * run yet is answered with status ABORTED and is NOT executed (its id is consumed: a retry
   * needs new ids), exactly like the calls after a stop_on_error failure. So a guest may
   * keep several stop_on_error batches of one ordered stream in flight, each `after` the
   * last id of the one before: when one stops, every batch behind it is skipped whole and
   * nothing overtakes the calls it left unsent.
   * The id is looked up in the resume log when the batch's first not-yet-executed call is
   * reached (a domain's batches run in arrival order, so the batch before has finished):
   * an id never executed, or whose result has left the log (acknowledged or evicted),
   * aborts. A client therefore does not acknowledge `after` until the batch that names it is
   * answered. A call already executed is still answered from the log whatever `after` says
   * (a batch resent after a reconnect reads as it did the first time).
   * * VIRQ events are pushed on the stream as `event`.
   */
  session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_hmx_argo_v1_SessionRequest, _hmx_argo_v1_SessionResponse__Output>;
  session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_hmx_argo_v1_SessionRequest, _hmx_argo_v1_SessionResponse__Output>;
  
  /**
   * XEN_ARGO_OP_unregister_ring (2). Removes the caller's ring (aport, partner_id); the match is
   * exact on partner_id (a wildcard ring needs 0x7FF4).
   * -EINVAL  partner_id > 0xFFFF
   * -ENOENT  no such ring
   * Side effects: pending space waiters on the ring are dropped without a signal.
   */
  UnregisterRing(argument: _hmx_argo_v1_UnregisterRingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_UnregisterRingResponse__Output>): grpc.ClientUnaryCall;
  UnregisterRing(argument: _hmx_argo_v1_UnregisterRingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_UnregisterRingResponse__Output>): grpc.ClientUnaryCall;
  UnregisterRing(argument: _hmx_argo_v1_UnregisterRingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_UnregisterRingResponse__Output>): grpc.ClientUnaryCall;
  UnregisterRing(argument: _hmx_argo_v1_UnregisterRingRequest, callback: grpc.requestCallback<_hmx_argo_v1_UnregisterRingResponse__Output>): grpc.ClientUnaryCall;
  /**
   * XEN_ARGO_OP_unregister_ring (2). Removes the caller's ring (aport, partner_id); the match is
   * exact on partner_id (a wildcard ring needs 0x7FF4).
   * -EINVAL  partner_id > 0xFFFF
   * -ENOENT  no such ring
   * Side effects: pending space waiters on the ring are dropped without a signal.
   */
  unregisterRing(argument: _hmx_argo_v1_UnregisterRingRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_UnregisterRingResponse__Output>): grpc.ClientUnaryCall;
  unregisterRing(argument: _hmx_argo_v1_UnregisterRingRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_UnregisterRingResponse__Output>): grpc.ClientUnaryCall;
  unregisterRing(argument: _hmx_argo_v1_UnregisterRingRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_UnregisterRingResponse__Output>): grpc.ClientUnaryCall;
  unregisterRing(argument: _hmx_argo_v1_UnregisterRingRequest, callback: grpc.requestCallback<_hmx_argo_v1_UnregisterRingResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The caller's event channel: a stream of coalesced events. VIRQ_ARGO (11) is raised when a
   * message is delivered to one of the caller's rings, or when space the caller waited for
   * became available. A VIRQ raised while no watcher is attached stays pending and is delivered
   * when one attaches. A domain may hold at most 8 WatchEvents streams at once; another one is
   * RESOURCE_EXHAUSTED.
   */
  WatchEvents(argument: _hmx_argo_v1_WatchEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_argo_v1_Event__Output>;
  WatchEvents(argument: _hmx_argo_v1_WatchEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_argo_v1_Event__Output>;
  /**
   * The caller's event channel: a stream of coalesced events. VIRQ_ARGO (11) is raised when a
   * message is delivered to one of the caller's rings, or when space the caller waited for
   * became available. A VIRQ raised while no watcher is attached stays pending and is delivered
   * when one attaches. A domain may hold at most 8 WatchEvents streams at once; another one is
   * RESOURCE_EXHAUSTED.
   */
  watchEvents(argument: _hmx_argo_v1_WatchEventsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_argo_v1_Event__Output>;
  watchEvents(argument: _hmx_argo_v1_WatchEventsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_argo_v1_Event__Output>;
  
  /**
   * Writes `data` into the caller's own guest-physical memory at `gpa`.
   * ret:  0 on success.
   * -EFAULT any byte lies outside the caller's memory, or any byte lies in gfn 0 (the
   * virtual ACPI device table the toolstack writes, read-only to its guest like a
   * firmware table; docs/virtio-argo.md "Discovery"); nothing is written.
   * -EINVAL data longer than 16 MiB (checked first).
   * Side effect: pages are materialised on first write. If the hypervisor's total memory quota
   * would be exceeded the call fails with gRPC RESOURCE_EXHAUSTED and nothing is written.
   */
  WriteMemory(argument: _hmx_argo_v1_WriteMemoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_WriteMemoryResponse__Output>): grpc.ClientUnaryCall;
  WriteMemory(argument: _hmx_argo_v1_WriteMemoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_WriteMemoryResponse__Output>): grpc.ClientUnaryCall;
  WriteMemory(argument: _hmx_argo_v1_WriteMemoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_WriteMemoryResponse__Output>): grpc.ClientUnaryCall;
  WriteMemory(argument: _hmx_argo_v1_WriteMemoryRequest, callback: grpc.requestCallback<_hmx_argo_v1_WriteMemoryResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Writes `data` into the caller's own guest-physical memory at `gpa`.
   * ret:  0 on success.
   * -EFAULT any byte lies outside the caller's memory, or any byte lies in gfn 0 (the
   * virtual ACPI device table the toolstack writes, read-only to its guest like a
   * firmware table; docs/virtio-argo.md "Discovery"); nothing is written.
   * -EINVAL data longer than 16 MiB (checked first).
   * Side effect: pages are materialised on first write. If the hypervisor's total memory quota
   * would be exceeded the call fails with gRPC RESOURCE_EXHAUSTED and nothing is written.
   */
  writeMemory(argument: _hmx_argo_v1_WriteMemoryRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_WriteMemoryResponse__Output>): grpc.ClientUnaryCall;
  writeMemory(argument: _hmx_argo_v1_WriteMemoryRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_argo_v1_WriteMemoryResponse__Output>): grpc.ClientUnaryCall;
  writeMemory(argument: _hmx_argo_v1_WriteMemoryRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_argo_v1_WriteMemoryResponse__Output>): grpc.ClientUnaryCall;
  writeMemory(argument: _hmx_argo_v1_WriteMemoryRequest, callback: grpc.requestCallback<_hmx_argo_v1_WriteMemoryResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface HypervisorHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Enrolment: how a guest with no pre-issued credential gets a domain. The call carries
   * `authorization: Bearer <enrolment token>` (not a domain credential). The token is bound to
   * a domain template (label, memory, maximum count) configured on the hypervisor.
   * instance  the guest's stable name (e.g. its container or pod name); 1..48 characters of
   * [A-Za-z0-9._-]. The domain is named "<template>-<instance>".
   * instance_secret  empty on a first enrolment; to resume, the secret that enrolment returned.
   * Reply: domid and a fresh credential; a first enrolment also returns `instance_secret`, which
   * the guest keeps with its state. If a live domain of the same template already has this
   * instance name, that domain is resumed only for the caller presenting its instance secret:
   * same domid, rings and memory intact, its old credential is revoked and the domain's open
   * Session and WatchEvents streams end (UNAUTHENTICATED). Every guest of a template holds the
   * same token, so the token alone never hands over a live domain.
   * Errors: UNAUTHENTICATED unknown token, a domain credential, or a wrong instance secret;
   * ALREADY_EXISTS the instance is live and no instance secret was given, or the domain name is
   * taken by a domain that is not this template's; RESOURCE_EXHAUSTED the template's maximum
   * count is reached; INVALID_ARGUMENT a bad instance name (named in the message). An enrolled domain whose guest stays disconnected longer than the hypervisor's
   * grace period is destroyed with full Argo teardown.
   */
  Enrol: grpc.handleUnaryCall<_hmx_argo_v1_EnrolRequest__Output, _hmx_argo_v1_EnrolResponse>;
  
  /**
   * Describes the calling domain.
   * Reply: domid (1..0x7FEF), memory_bytes (multiple of page_size), page_size (4096), label.
   */
  GetDomainInfo: grpc.handleUnaryCall<_hmx_argo_v1_GetDomainInfoRequest__Output, _hmx_argo_v1_GetDomainInfoResponse>;
  
  /**
   * The peers the caller may see: every other live domain, with its domid, name and label.
   * Whether the caller may actually send to one is for MAC to decide at sendv.
   */
  ListPeers: grpc.handleUnaryCall<_hmx_argo_v1_ListPeersRequest__Output, _hmx_argo_v1_ListPeersResponse>;
  
  /**
   * XEN_ARGO_OP_notify (4). First, for every ring the CALLER owns, fires each pending space
   * waiter whose request now fits (VIRQ_ARGO on the waiting domain). Then, when `ring_data` is
   * present, describes each entry's ring from the caller's point of view, in order:
   * flags: EXISTS=1 SHARED=2 EMPTY=4 SUFFICIENT=8 EMSGSIZE=16 EBUSY=32
   * max_message_size: ring.len - 32 for an existing ring, else 0
   * SUFFICIENT cancels the caller's waiter on that ring; insufficient space queues one (EBUSY
   * flag when 32 are already queued).
   * -EACCES  more than 256 entries (Xen's choice of errno)
   * MAC denial of `send` toward an entry's ring owner stops processing with that error;
   * `entries` then holds the entries processed before it.
   * An entry naming a missing domain or ring gets flags 0 and max_message_size 0; so does a
   * domain_id > 0xFFFF (Xen does not check the pad of a notify entry's address).
   */
  Notify: grpc.handleUnaryCall<_hmx_argo_v1_NotifyRequest__Output, _hmx_argo_v1_NotifyResponse>;
  
  /**
   * Reads `length` bytes of the caller's own guest-physical memory starting at `gpa`.
   * ret:  0 on success, `data` holds the bytes (never-written memory reads as zeros).
   * -EFAULT any byte of [gpa, gpa+length) lies outside the caller's memory.
   * -EINVAL length > 16 MiB (16777216).
   * gfn 0, the virtual ACPI device table, is readable like any other page.
   */
  ReadMemory: grpc.handleUnaryCall<_hmx_argo_v1_ReadMemoryRequest__Output, _hmx_argo_v1_ReadMemoryResponse>;
  
  /**
   * XEN_ARGO_OP_register_ring (1). Registers a receive ring owned by the caller.
   * aport       ring port (u32)
   * partner_id  the only domain allowed to send to it, or 0x7FF4 (XEN_ARGO_DOMID_ANY) for a
   * wildcard ring
   * len         ring data bytes, excluding the 64-byte ring header; multiple of 16, >= 48
   * gfns        the ring's pages in order (arg2/arg3 of the hypercall; npage = gfns.length)
   * flags       XEN_ARGO_REGISTER_FLAG_FAIL_EXIST (1) or 0
   * Errors, in Xen's check order:
   * -EINVAL  more than 4096 gfns; flags other than 0/1; len < 48, len > 0x1000000, len not a
   * multiple of 16, or NPAGES_RING(len) != npage; partner_id > 0xFFFF
   * -EPERM   wildcard ring while the hypervisor runs without --argo-mac-permissive
   * -ESRCH   the partner domain does not exist
   * -EACCES / -EPERM   denied by the MAC module (Flask / SILO)
   * -ENOSPC  the caller already owns 128 rings (re-registration does not count twice)
   * -EEXIST  the ring exists and FAIL_EXIST was given, or the existing ring's len differs
   * -EINVAL  a gfn is outside the caller's memory or is a platform-reserved gfn (0..15; gfn 0
   * is the read-only device table), as Xen refuses a page that is not p2m_ram_rw
   * (argo-spec §3.2 step 9); no ring exists afterwards
   * -ENOMEM  the pages cannot be materialised within the hypervisor's memory quota
   * Side effects: the pages are pinned for the ring's life. tx_ptr is initialised from the
   * guest's header when valid (< len and 16-aligned), else to ROUNDUP16(rx_ptr) (0 if >= len)
   * and written back. Re-registering an existing ring with the same len swaps its pages and
   * keeps tx_ptr; if re-registration fails the existing ring is left untouched.
   */
  RegisterRing: grpc.handleUnaryCall<_hmx_argo_v1_RegisterRingRequest__Output, _hmx_argo_v1_RegisterRingResponse>;
  
  /**
   * XEN_ARGO_OP_sendv (3). The hypervisor copies a 16-byte message header and the payload
   * gathered from `iovs` (in the caller's memory) into the destination ring.
   * src.domain_id  0x7FF4 (meaning: the caller) or the caller's own domid
   * src.aport      copied into the header verbatim; NOT authenticated (as in Xen)
   * dst            destination (domain_id, aport)
   * iovs           at most 8 {gpa, len}
   * message_type   opaque u32 stored in the header
   * ret: payload bytes sent (header excluded), or
   * -EINVAL  more than 8 iovs; a domain_id > 0xFFFF; an iov len > 16777184
   * -EPERM   src.domain_id names another domain (0 included)
   * -ESRCH   the destination domain does not exist (this includes 0x7FF4)
   * -EACCES / -EPERM   denied by MAC (Flask / SILO or firewall)
   * -ECONNREFUSED  no ring matches: first (dst, aport, partner=caller), then (dst, aport, ANY)
   * -EMSGSIZE  total payload > 16777184, or the message can never fit this ring
   * (ring.len <= 16 + ROUNDUP16(payload))
   * -EAGAIN  the ring is full right now; a space waiter for this caller is queued and
   * VIRQ_ARGO will be raised when the ring owner's notify finds enough space
   * -EBUSY   the ring is full and 32 other domains are already waiting on it
   * -EFAULT  an iov lies outside the caller's memory (nothing is published)
   * Side effects on success: tx_ptr advances; VIRQ_ARGO is raised on the destination domain.
   */
  Sendv: grpc.handleUnaryCall<_hmx_argo_v1_SendvRequest__Output, _hmx_argo_v1_SendvResponse>;
  
  /**
   * The guest agent's fast path: a bidirectional stream of hypercall batches.
   * Rules:
   * * The first client frame must be `open`. The server answers `ready` with the domain's
   * highest executed request id. The newest session of a domain takes over: an older
   * session is ended with status ABORTED.
   * * Every hypercall carries a request_id. Ids are per domain and strictly increasing.
   * * A batch is executed strictly in order, like a Xen multicall. With stop_on_error, the
   * first result whose ret < 0 (or that fails with a status) ends the batch; the remaining
   * calls are answered with status ABORTED and are NOT executed (a retry needs new ids).
   * * A request id that was already executed is answered from the resume log, not run again.
   * The log keeps every result not yet acknowledged (`ack_through`), up to a bounded count;
   * results older than that are FAILED_PRECONDITION.
   * * Dependent batches (only where `ready.dependent_batches` is set): a batch with `after`
   * = id runs only if the call with request id `id` was executed by this domain and its
   * result is a `ret >= 0` (not a status). Otherwise every call of the batch that has not
   * run yet is answered with status ABORTED and is NOT executed (its id is consumed: a retry
   * needs new ids), exactly like the calls after a stop_on_error failure. So a guest may
   * keep several stop_on_error batches of one ordered stream in flight, each `after` the
   * last id of the one before: when one stops, every batch behind it is skipped whole and
   * nothing overtakes the calls it left unsent.
   * The id is looked up in the resume log when the batch's first not-yet-executed call is
   * reached (a domain's batches run in arrival order, so the batch before has finished):
   * an id never executed, or whose result has left the log (acknowledged or evicted),
   * aborts. A client therefore does not acknowledge `after` until the batch that names it is
   * answered. A call already executed is still answered from the log whatever `after` says
   * (a batch resent after a reconnect reads as it did the first time).
   * * VIRQ events are pushed on the stream as `event`.
   */
  Session: grpc.handleBidiStreamingCall<_hmx_argo_v1_SessionRequest__Output, _hmx_argo_v1_SessionResponse>;
  
  /**
   * XEN_ARGO_OP_unregister_ring (2). Removes the caller's ring (aport, partner_id); the match is
   * exact on partner_id (a wildcard ring needs 0x7FF4).
   * -EINVAL  partner_id > 0xFFFF
   * -ENOENT  no such ring
   * Side effects: pending space waiters on the ring are dropped without a signal.
   */
  UnregisterRing: grpc.handleUnaryCall<_hmx_argo_v1_UnregisterRingRequest__Output, _hmx_argo_v1_UnregisterRingResponse>;
  
  /**
   * The caller's event channel: a stream of coalesced events. VIRQ_ARGO (11) is raised when a
   * message is delivered to one of the caller's rings, or when space the caller waited for
   * became available. A VIRQ raised while no watcher is attached stays pending and is delivered
   * when one attaches. A domain may hold at most 8 WatchEvents streams at once; another one is
   * RESOURCE_EXHAUSTED.
   */
  WatchEvents: grpc.handleServerStreamingCall<_hmx_argo_v1_WatchEventsRequest__Output, _hmx_argo_v1_Event>;
  
  /**
   * Writes `data` into the caller's own guest-physical memory at `gpa`.
   * ret:  0 on success.
   * -EFAULT any byte lies outside the caller's memory, or any byte lies in gfn 0 (the
   * virtual ACPI device table the toolstack writes, read-only to its guest like a
   * firmware table; docs/virtio-argo.md "Discovery"); nothing is written.
   * -EINVAL data longer than 16 MiB (checked first).
   * Side effect: pages are materialised on first write. If the hypervisor's total memory quota
   * would be exceeded the call fails with gRPC RESOURCE_EXHAUSTED and nothing is written.
   */
  WriteMemory: grpc.handleUnaryCall<_hmx_argo_v1_WriteMemoryRequest__Output, _hmx_argo_v1_WriteMemoryResponse>;
  
}

export interface HypervisorDefinition extends grpc.ServiceDefinition {
  Enrol: MethodDefinition<_hmx_argo_v1_EnrolRequest, _hmx_argo_v1_EnrolResponse, _hmx_argo_v1_EnrolRequest__Output, _hmx_argo_v1_EnrolResponse__Output>
  GetDomainInfo: MethodDefinition<_hmx_argo_v1_GetDomainInfoRequest, _hmx_argo_v1_GetDomainInfoResponse, _hmx_argo_v1_GetDomainInfoRequest__Output, _hmx_argo_v1_GetDomainInfoResponse__Output>
  ListPeers: MethodDefinition<_hmx_argo_v1_ListPeersRequest, _hmx_argo_v1_ListPeersResponse, _hmx_argo_v1_ListPeersRequest__Output, _hmx_argo_v1_ListPeersResponse__Output>
  Notify: MethodDefinition<_hmx_argo_v1_NotifyRequest, _hmx_argo_v1_NotifyResponse, _hmx_argo_v1_NotifyRequest__Output, _hmx_argo_v1_NotifyResponse__Output>
  ReadMemory: MethodDefinition<_hmx_argo_v1_ReadMemoryRequest, _hmx_argo_v1_ReadMemoryResponse, _hmx_argo_v1_ReadMemoryRequest__Output, _hmx_argo_v1_ReadMemoryResponse__Output>
  RegisterRing: MethodDefinition<_hmx_argo_v1_RegisterRingRequest, _hmx_argo_v1_RegisterRingResponse, _hmx_argo_v1_RegisterRingRequest__Output, _hmx_argo_v1_RegisterRingResponse__Output>
  Sendv: MethodDefinition<_hmx_argo_v1_SendvRequest, _hmx_argo_v1_SendvResponse, _hmx_argo_v1_SendvRequest__Output, _hmx_argo_v1_SendvResponse__Output>
  Session: MethodDefinition<_hmx_argo_v1_SessionRequest, _hmx_argo_v1_SessionResponse, _hmx_argo_v1_SessionRequest__Output, _hmx_argo_v1_SessionResponse__Output>
  UnregisterRing: MethodDefinition<_hmx_argo_v1_UnregisterRingRequest, _hmx_argo_v1_UnregisterRingResponse, _hmx_argo_v1_UnregisterRingRequest__Output, _hmx_argo_v1_UnregisterRingResponse__Output>
  WatchEvents: MethodDefinition<_hmx_argo_v1_WatchEventsRequest, _hmx_argo_v1_Event, _hmx_argo_v1_WatchEventsRequest__Output, _hmx_argo_v1_Event__Output>
  WriteMemory: MethodDefinition<_hmx_argo_v1_WriteMemoryRequest, _hmx_argo_v1_WriteMemoryResponse, _hmx_argo_v1_WriteMemoryRequest__Output, _hmx_argo_v1_WriteMemoryResponse__Output>
}
