// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddFirewallRuleRequest as _hmx_toolstack_v1_AddFirewallRuleRequest, AddFirewallRuleRequest__Output as _hmx_toolstack_v1_AddFirewallRuleRequest__Output } from '../../../hmx/toolstack/v1/AddFirewallRuleRequest.js';
import type { AddFirewallRuleResponse as _hmx_toolstack_v1_AddFirewallRuleResponse, AddFirewallRuleResponse__Output as _hmx_toolstack_v1_AddFirewallRuleResponse__Output } from '../../../hmx/toolstack/v1/AddFirewallRuleResponse.js';
import type { ApplyFaultRequest as _hmx_toolstack_v1_ApplyFaultRequest, ApplyFaultRequest__Output as _hmx_toolstack_v1_ApplyFaultRequest__Output } from '../../../hmx/toolstack/v1/ApplyFaultRequest.js';
import type { ApplyFaultResponse as _hmx_toolstack_v1_ApplyFaultResponse, ApplyFaultResponse__Output as _hmx_toolstack_v1_ApplyFaultResponse__Output } from '../../../hmx/toolstack/v1/ApplyFaultResponse.js';
import type { AttachDeviceRequest as _hmx_toolstack_v1_AttachDeviceRequest, AttachDeviceRequest__Output as _hmx_toolstack_v1_AttachDeviceRequest__Output } from '../../../hmx/toolstack/v1/AttachDeviceRequest.js';
import type { AttachDeviceResponse as _hmx_toolstack_v1_AttachDeviceResponse, AttachDeviceResponse__Output as _hmx_toolstack_v1_AttachDeviceResponse__Output } from '../../../hmx/toolstack/v1/AttachDeviceResponse.js';
import type { AuditRecord as _hmx_toolstack_v1_AuditRecord, AuditRecord__Output as _hmx_toolstack_v1_AuditRecord__Output } from '../../../hmx/toolstack/v1/AuditRecord.js';
import type { CheckAccessRequest as _hmx_toolstack_v1_CheckAccessRequest, CheckAccessRequest__Output as _hmx_toolstack_v1_CheckAccessRequest__Output } from '../../../hmx/toolstack/v1/CheckAccessRequest.js';
import type { CheckAccessResponse as _hmx_toolstack_v1_CheckAccessResponse, CheckAccessResponse__Output as _hmx_toolstack_v1_CheckAccessResponse__Output } from '../../../hmx/toolstack/v1/CheckAccessResponse.js';
import type { ClearFaultsRequest as _hmx_toolstack_v1_ClearFaultsRequest, ClearFaultsRequest__Output as _hmx_toolstack_v1_ClearFaultsRequest__Output } from '../../../hmx/toolstack/v1/ClearFaultsRequest.js';
import type { ClearFaultsResponse as _hmx_toolstack_v1_ClearFaultsResponse, ClearFaultsResponse__Output as _hmx_toolstack_v1_ClearFaultsResponse__Output } from '../../../hmx/toolstack/v1/ClearFaultsResponse.js';
import type { CreateDomainRequest as _hmx_toolstack_v1_CreateDomainRequest, CreateDomainRequest__Output as _hmx_toolstack_v1_CreateDomainRequest__Output } from '../../../hmx/toolstack/v1/CreateDomainRequest.js';
import type { CreateDomainResponse as _hmx_toolstack_v1_CreateDomainResponse, CreateDomainResponse__Output as _hmx_toolstack_v1_CreateDomainResponse__Output } from '../../../hmx/toolstack/v1/CreateDomainResponse.js';
import type { DeleteFirewallRuleRequest as _hmx_toolstack_v1_DeleteFirewallRuleRequest, DeleteFirewallRuleRequest__Output as _hmx_toolstack_v1_DeleteFirewallRuleRequest__Output } from '../../../hmx/toolstack/v1/DeleteFirewallRuleRequest.js';
import type { DeleteFirewallRuleResponse as _hmx_toolstack_v1_DeleteFirewallRuleResponse, DeleteFirewallRuleResponse__Output as _hmx_toolstack_v1_DeleteFirewallRuleResponse__Output } from '../../../hmx/toolstack/v1/DeleteFirewallRuleResponse.js';
import type { DestroyDomainRequest as _hmx_toolstack_v1_DestroyDomainRequest, DestroyDomainRequest__Output as _hmx_toolstack_v1_DestroyDomainRequest__Output } from '../../../hmx/toolstack/v1/DestroyDomainRequest.js';
import type { DestroyDomainResponse as _hmx_toolstack_v1_DestroyDomainResponse, DestroyDomainResponse__Output as _hmx_toolstack_v1_DestroyDomainResponse__Output } from '../../../hmx/toolstack/v1/DestroyDomainResponse.js';
import type { DetachDeviceRequest as _hmx_toolstack_v1_DetachDeviceRequest, DetachDeviceRequest__Output as _hmx_toolstack_v1_DetachDeviceRequest__Output } from '../../../hmx/toolstack/v1/DetachDeviceRequest.js';
import type { DetachDeviceResponse as _hmx_toolstack_v1_DetachDeviceResponse, DetachDeviceResponse__Output as _hmx_toolstack_v1_DetachDeviceResponse__Output } from '../../../hmx/toolstack/v1/DetachDeviceResponse.js';
import type { FaultEvent as _hmx_toolstack_v1_FaultEvent, FaultEvent__Output as _hmx_toolstack_v1_FaultEvent__Output } from '../../../hmx/toolstack/v1/FaultEvent.js';
import type { FlushFirewallRequest as _hmx_toolstack_v1_FlushFirewallRequest, FlushFirewallRequest__Output as _hmx_toolstack_v1_FlushFirewallRequest__Output } from '../../../hmx/toolstack/v1/FlushFirewallRequest.js';
import type { FlushFirewallResponse as _hmx_toolstack_v1_FlushFirewallResponse, FlushFirewallResponse__Output as _hmx_toolstack_v1_FlushFirewallResponse__Output } from '../../../hmx/toolstack/v1/FlushFirewallResponse.js';
import type { GetAuditCountersRequest as _hmx_toolstack_v1_GetAuditCountersRequest, GetAuditCountersRequest__Output as _hmx_toolstack_v1_GetAuditCountersRequest__Output } from '../../../hmx/toolstack/v1/GetAuditCountersRequest.js';
import type { GetAuditCountersResponse as _hmx_toolstack_v1_GetAuditCountersResponse, GetAuditCountersResponse__Output as _hmx_toolstack_v1_GetAuditCountersResponse__Output } from '../../../hmx/toolstack/v1/GetAuditCountersResponse.js';
import type { GetPolicyRequest as _hmx_toolstack_v1_GetPolicyRequest, GetPolicyRequest__Output as _hmx_toolstack_v1_GetPolicyRequest__Output } from '../../../hmx/toolstack/v1/GetPolicyRequest.js';
import type { GetPolicyResponse as _hmx_toolstack_v1_GetPolicyResponse, GetPolicyResponse__Output as _hmx_toolstack_v1_GetPolicyResponse__Output } from '../../../hmx/toolstack/v1/GetPolicyResponse.js';
import type { ListDevicesRequest as _hmx_toolstack_v1_ListDevicesRequest, ListDevicesRequest__Output as _hmx_toolstack_v1_ListDevicesRequest__Output } from '../../../hmx/toolstack/v1/ListDevicesRequest.js';
import type { ListDevicesResponse as _hmx_toolstack_v1_ListDevicesResponse, ListDevicesResponse__Output as _hmx_toolstack_v1_ListDevicesResponse__Output } from '../../../hmx/toolstack/v1/ListDevicesResponse.js';
import type { ListDomainsRequest as _hmx_toolstack_v1_ListDomainsRequest, ListDomainsRequest__Output as _hmx_toolstack_v1_ListDomainsRequest__Output } from '../../../hmx/toolstack/v1/ListDomainsRequest.js';
import type { ListDomainsResponse as _hmx_toolstack_v1_ListDomainsResponse, ListDomainsResponse__Output as _hmx_toolstack_v1_ListDomainsResponse__Output } from '../../../hmx/toolstack/v1/ListDomainsResponse.js';
import type { ListFaultsRequest as _hmx_toolstack_v1_ListFaultsRequest, ListFaultsRequest__Output as _hmx_toolstack_v1_ListFaultsRequest__Output } from '../../../hmx/toolstack/v1/ListFaultsRequest.js';
import type { ListFaultsResponse as _hmx_toolstack_v1_ListFaultsResponse, ListFaultsResponse__Output as _hmx_toolstack_v1_ListFaultsResponse__Output } from '../../../hmx/toolstack/v1/ListFaultsResponse.js';
import type { ListFirewallRulesRequest as _hmx_toolstack_v1_ListFirewallRulesRequest, ListFirewallRulesRequest__Output as _hmx_toolstack_v1_ListFirewallRulesRequest__Output } from '../../../hmx/toolstack/v1/ListFirewallRulesRequest.js';
import type { ListFirewallRulesResponse as _hmx_toolstack_v1_ListFirewallRulesResponse, ListFirewallRulesResponse__Output as _hmx_toolstack_v1_ListFirewallRulesResponse__Output } from '../../../hmx/toolstack/v1/ListFirewallRulesResponse.js';
import type { LoadPolicyRequest as _hmx_toolstack_v1_LoadPolicyRequest, LoadPolicyRequest__Output as _hmx_toolstack_v1_LoadPolicyRequest__Output } from '../../../hmx/toolstack/v1/LoadPolicyRequest.js';
import type { LoadPolicyResponse as _hmx_toolstack_v1_LoadPolicyResponse, LoadPolicyResponse__Output as _hmx_toolstack_v1_LoadPolicyResponse__Output } from '../../../hmx/toolstack/v1/LoadPolicyResponse.js';
import type { SetFirewallDefaultRequest as _hmx_toolstack_v1_SetFirewallDefaultRequest, SetFirewallDefaultRequest__Output as _hmx_toolstack_v1_SetFirewallDefaultRequest__Output } from '../../../hmx/toolstack/v1/SetFirewallDefaultRequest.js';
import type { SetFirewallDefaultResponse as _hmx_toolstack_v1_SetFirewallDefaultResponse, SetFirewallDefaultResponse__Output as _hmx_toolstack_v1_SetFirewallDefaultResponse__Output } from '../../../hmx/toolstack/v1/SetFirewallDefaultResponse.js';
import type { SetFlaskModeRequest as _hmx_toolstack_v1_SetFlaskModeRequest, SetFlaskModeRequest__Output as _hmx_toolstack_v1_SetFlaskModeRequest__Output } from '../../../hmx/toolstack/v1/SetFlaskModeRequest.js';
import type { SetFlaskModeResponse as _hmx_toolstack_v1_SetFlaskModeResponse, SetFlaskModeResponse__Output as _hmx_toolstack_v1_SetFlaskModeResponse__Output } from '../../../hmx/toolstack/v1/SetFlaskModeResponse.js';
import type { ValidatePolicyRequest as _hmx_toolstack_v1_ValidatePolicyRequest, ValidatePolicyRequest__Output as _hmx_toolstack_v1_ValidatePolicyRequest__Output } from '../../../hmx/toolstack/v1/ValidatePolicyRequest.js';
import type { ValidatePolicyResponse as _hmx_toolstack_v1_ValidatePolicyResponse, ValidatePolicyResponse__Output as _hmx_toolstack_v1_ValidatePolicyResponse__Output } from '../../../hmx/toolstack/v1/ValidatePolicyResponse.js';
import type { WatchAuditRequest as _hmx_toolstack_v1_WatchAuditRequest, WatchAuditRequest__Output as _hmx_toolstack_v1_WatchAuditRequest__Output } from '../../../hmx/toolstack/v1/WatchAuditRequest.js';
import type { WatchFaultsRequest as _hmx_toolstack_v1_WatchFaultsRequest, WatchFaultsRequest__Output as _hmx_toolstack_v1_WatchFaultsRequest__Output } from '../../../hmx/toolstack/v1/WatchFaultsRequest.js';

export interface ToolstackClient extends grpc.Client {
  /**
   * Adds a firewall rule (OpenXT `viptables_add`): position n >= 1 makes it the n-th rule;
   * 0 or a position past the end appends. Errors: INVALID_ARGUMENT for an unspecified verdict,
   * a bad label or a port above 0xFFFFFFFE; RESOURCE_EXHAUSTED beyond 65536 rules.
   */
  AddFirewallRule(argument: _hmx_toolstack_v1_AddFirewallRuleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_AddFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  AddFirewallRule(argument: _hmx_toolstack_v1_AddFirewallRuleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_AddFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  AddFirewallRule(argument: _hmx_toolstack_v1_AddFirewallRuleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_AddFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  AddFirewallRule(argument: _hmx_toolstack_v1_AddFirewallRuleRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_AddFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Adds a firewall rule (OpenXT `viptables_add`): position n >= 1 makes it the n-th rule;
   * 0 or a position past the end appends. Errors: INVALID_ARGUMENT for an unspecified verdict,
   * a bad label or a port above 0xFFFFFFFE; RESOURCE_EXHAUSTED beyond 65536 rules.
   */
  addFirewallRule(argument: _hmx_toolstack_v1_AddFirewallRuleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_AddFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  addFirewallRule(argument: _hmx_toolstack_v1_AddFirewallRuleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_AddFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  addFirewallRule(argument: _hmx_toolstack_v1_AddFirewallRuleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_AddFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  addFirewallRule(argument: _hmx_toolstack_v1_AddFirewallRuleRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_AddFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Starts a fault: an Argo-level fault between domains or groups (partition, -EAGAIN storm,
   * delay, late VIRQ, pause) or a fault on one domain's link (down, or a Toxiproxy toxic; needs
   * the hypervisor's --link-faults or --toxiproxy-listen). Every start and end is a `fault` event
   * in the history. Errors: INVALID_ARGUMENT names the bad field, value and limit; NOT_FOUND an
   * unknown domain name; ALREADY_EXISTS a toxic name already on that link; FAILED_PRECONDITION a
   * link fault without the link layer. A refused fault changes nothing.
   */
  ApplyFault(argument: _hmx_toolstack_v1_ApplyFaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ApplyFaultResponse__Output>): grpc.ClientUnaryCall;
  ApplyFault(argument: _hmx_toolstack_v1_ApplyFaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ApplyFaultResponse__Output>): grpc.ClientUnaryCall;
  ApplyFault(argument: _hmx_toolstack_v1_ApplyFaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ApplyFaultResponse__Output>): grpc.ClientUnaryCall;
  ApplyFault(argument: _hmx_toolstack_v1_ApplyFaultRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ApplyFaultResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Starts a fault: an Argo-level fault between domains or groups (partition, -EAGAIN storm,
   * delay, late VIRQ, pause) or a fault on one domain's link (down, or a Toxiproxy toxic; needs
   * the hypervisor's --link-faults or --toxiproxy-listen). Every start and end is a `fault` event
   * in the history. Errors: INVALID_ARGUMENT names the bad field, value and limit; NOT_FOUND an
   * unknown domain name; ALREADY_EXISTS a toxic name already on that link; FAILED_PRECONDITION a
   * link fault without the link layer. A refused fault changes nothing.
   */
  applyFault(argument: _hmx_toolstack_v1_ApplyFaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ApplyFaultResponse__Output>): grpc.ClientUnaryCall;
  applyFault(argument: _hmx_toolstack_v1_ApplyFaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ApplyFaultResponse__Output>): grpc.ClientUnaryCall;
  applyFault(argument: _hmx_toolstack_v1_ApplyFaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ApplyFaultResponse__Output>): grpc.ClientUnaryCall;
  applyFault(argument: _hmx_toolstack_v1_ApplyFaultRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ApplyFaultResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Hot-adds a virtio device to a live front-end domain: rewrites the front end's and the back
   * end's virtual ACPI tables at gfn 0 and sends both a `device_added` event.
   */
  AttachDevice(argument: _hmx_toolstack_v1_AttachDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_AttachDeviceResponse__Output>): grpc.ClientUnaryCall;
  AttachDevice(argument: _hmx_toolstack_v1_AttachDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_AttachDeviceResponse__Output>): grpc.ClientUnaryCall;
  AttachDevice(argument: _hmx_toolstack_v1_AttachDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_AttachDeviceResponse__Output>): grpc.ClientUnaryCall;
  AttachDevice(argument: _hmx_toolstack_v1_AttachDeviceRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_AttachDeviceResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Hot-adds a virtio device to a live front-end domain: rewrites the front end's and the back
   * end's virtual ACPI tables at gfn 0 and sends both a `device_added` event.
   */
  attachDevice(argument: _hmx_toolstack_v1_AttachDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_AttachDeviceResponse__Output>): grpc.ClientUnaryCall;
  attachDevice(argument: _hmx_toolstack_v1_AttachDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_AttachDeviceResponse__Output>): grpc.ClientUnaryCall;
  attachDevice(argument: _hmx_toolstack_v1_AttachDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_AttachDeviceResponse__Output>): grpc.ClientUnaryCall;
  attachDevice(argument: _hmx_toolstack_v1_AttachDeviceRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_AttachDeviceResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The what-if query: would `source` be allowed `permission` on `target` (for SEND: to the
   * port `dst_port`, from `src_port`), and which module, hook and rule decided. Answered by the
   * same functions that enforce hypercalls, in sendv's order (enable, send, firewall), but
   * without auditing or counting. Errors: NOT_FOUND for a domid that names no live domain,
   * INVALID_ARGUMENT for a missing subject, a bad label or a target given for a permission
   * whose target is Xen itself (ENABLE, REGISTER_ANY_SOURCE).
   */
  CheckAccess(argument: _hmx_toolstack_v1_CheckAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_CheckAccessResponse__Output>): grpc.ClientUnaryCall;
  CheckAccess(argument: _hmx_toolstack_v1_CheckAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_CheckAccessResponse__Output>): grpc.ClientUnaryCall;
  CheckAccess(argument: _hmx_toolstack_v1_CheckAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_CheckAccessResponse__Output>): grpc.ClientUnaryCall;
  CheckAccess(argument: _hmx_toolstack_v1_CheckAccessRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_CheckAccessResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The what-if query: would `source` be allowed `permission` on `target` (for SEND: to the
   * port `dst_port`, from `src_port`), and which module, hook and rule decided. Answered by the
   * same functions that enforce hypercalls, in sendv's order (enable, send, firewall), but
   * without auditing or counting. Errors: NOT_FOUND for a domid that names no live domain,
   * INVALID_ARGUMENT for a missing subject, a bad label or a target given for a permission
   * whose target is Xen itself (ENABLE, REGISTER_ANY_SOURCE).
   */
  checkAccess(argument: _hmx_toolstack_v1_CheckAccessRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_CheckAccessResponse__Output>): grpc.ClientUnaryCall;
  checkAccess(argument: _hmx_toolstack_v1_CheckAccessRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_CheckAccessResponse__Output>): grpc.ClientUnaryCall;
  checkAccess(argument: _hmx_toolstack_v1_CheckAccessRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_CheckAccessResponse__Output>): grpc.ClientUnaryCall;
  checkAccess(argument: _hmx_toolstack_v1_CheckAccessRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_CheckAccessResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Ends the faults whose ids are given, or every fault (Argo and link) when none is. Errors:
   * NOT_FOUND for an unknown id (then nothing is cleared).
   */
  ClearFaults(argument: _hmx_toolstack_v1_ClearFaultsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ClearFaultsResponse__Output>): grpc.ClientUnaryCall;
  ClearFaults(argument: _hmx_toolstack_v1_ClearFaultsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ClearFaultsResponse__Output>): grpc.ClientUnaryCall;
  ClearFaults(argument: _hmx_toolstack_v1_ClearFaultsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ClearFaultsResponse__Output>): grpc.ClientUnaryCall;
  ClearFaults(argument: _hmx_toolstack_v1_ClearFaultsRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ClearFaultsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Ends the faults whose ids are given, or every fault (Argo and link) when none is. Errors:
   * NOT_FOUND for an unknown id (then nothing is cleared).
   */
  clearFaults(argument: _hmx_toolstack_v1_ClearFaultsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ClearFaultsResponse__Output>): grpc.ClientUnaryCall;
  clearFaults(argument: _hmx_toolstack_v1_ClearFaultsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ClearFaultsResponse__Output>): grpc.ClientUnaryCall;
  clearFaults(argument: _hmx_toolstack_v1_ClearFaultsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ClearFaultsResponse__Output>): grpc.ClientUnaryCall;
  clearFaults(argument: _hmx_toolstack_v1_ClearFaultsRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ClearFaultsResponse__Output>): grpc.ClientUnaryCall;
  
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
   * Deletes one rule (OpenXT `viptables_del`): by 1-based position, or the first rule whose
   * source and destination equal the pattern's (the verdict is ignored, as in OpenXT).
   * Errors: NOT_FOUND when no rule is at that position or matches; INVALID_ARGUMENT when
   * neither is given (flushing is FlushFirewall).
   */
  DeleteFirewallRule(argument: _hmx_toolstack_v1_DeleteFirewallRuleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DeleteFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  DeleteFirewallRule(argument: _hmx_toolstack_v1_DeleteFirewallRuleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_DeleteFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  DeleteFirewallRule(argument: _hmx_toolstack_v1_DeleteFirewallRuleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DeleteFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  DeleteFirewallRule(argument: _hmx_toolstack_v1_DeleteFirewallRuleRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_DeleteFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Deletes one rule (OpenXT `viptables_del`): by 1-based position, or the first rule whose
   * source and destination equal the pattern's (the verdict is ignored, as in OpenXT).
   * Errors: NOT_FOUND when no rule is at that position or matches; INVALID_ARGUMENT when
   * neither is given (flushing is FlushFirewall).
   */
  deleteFirewallRule(argument: _hmx_toolstack_v1_DeleteFirewallRuleRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DeleteFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  deleteFirewallRule(argument: _hmx_toolstack_v1_DeleteFirewallRuleRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_DeleteFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  deleteFirewallRule(argument: _hmx_toolstack_v1_DeleteFirewallRuleRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DeleteFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  deleteFirewallRule(argument: _hmx_toolstack_v1_DeleteFirewallRuleRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_DeleteFirewallRuleResponse__Output>): grpc.ClientUnaryCall;
  
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
   * Removes a device: rewrites both tables and sends both a `device_removed` event.
   */
  DetachDevice(argument: _hmx_toolstack_v1_DetachDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DetachDeviceResponse__Output>): grpc.ClientUnaryCall;
  DetachDevice(argument: _hmx_toolstack_v1_DetachDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_DetachDeviceResponse__Output>): grpc.ClientUnaryCall;
  DetachDevice(argument: _hmx_toolstack_v1_DetachDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DetachDeviceResponse__Output>): grpc.ClientUnaryCall;
  DetachDevice(argument: _hmx_toolstack_v1_DetachDeviceRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_DetachDeviceResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Removes a device: rewrites both tables and sends both a `device_removed` event.
   */
  detachDevice(argument: _hmx_toolstack_v1_DetachDeviceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DetachDeviceResponse__Output>): grpc.ClientUnaryCall;
  detachDevice(argument: _hmx_toolstack_v1_DetachDeviceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_DetachDeviceResponse__Output>): grpc.ClientUnaryCall;
  detachDevice(argument: _hmx_toolstack_v1_DetachDeviceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_DetachDeviceResponse__Output>): grpc.ClientUnaryCall;
  detachDevice(argument: _hmx_toolstack_v1_DetachDeviceRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_DetachDeviceResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Removes every rule (OpenXT `viptables_del` with a NULL rule and position -1). The default
   * verdict is kept.
   */
  FlushFirewall(argument: _hmx_toolstack_v1_FlushFirewallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_FlushFirewallResponse__Output>): grpc.ClientUnaryCall;
  FlushFirewall(argument: _hmx_toolstack_v1_FlushFirewallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_FlushFirewallResponse__Output>): grpc.ClientUnaryCall;
  FlushFirewall(argument: _hmx_toolstack_v1_FlushFirewallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_FlushFirewallResponse__Output>): grpc.ClientUnaryCall;
  FlushFirewall(argument: _hmx_toolstack_v1_FlushFirewallRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_FlushFirewallResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Removes every rule (OpenXT `viptables_del` with a NULL rule and position -1). The default
   * verdict is kept.
   */
  flushFirewall(argument: _hmx_toolstack_v1_FlushFirewallRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_FlushFirewallResponse__Output>): grpc.ClientUnaryCall;
  flushFirewall(argument: _hmx_toolstack_v1_FlushFirewallRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_FlushFirewallResponse__Output>): grpc.ClientUnaryCall;
  flushFirewall(argument: _hmx_toolstack_v1_FlushFirewallRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_FlushFirewallResponse__Output>): grpc.ClientUnaryCall;
  flushFirewall(argument: _hmx_toolstack_v1_FlushFirewallRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_FlushFirewallResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Denial counters since boot: per permission, per deciding rule, and the log lines the rate
   * limit suppressed.
   */
  GetAuditCounters(argument: _hmx_toolstack_v1_GetAuditCountersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_GetAuditCountersResponse__Output>): grpc.ClientUnaryCall;
  GetAuditCounters(argument: _hmx_toolstack_v1_GetAuditCountersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_GetAuditCountersResponse__Output>): grpc.ClientUnaryCall;
  GetAuditCounters(argument: _hmx_toolstack_v1_GetAuditCountersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_GetAuditCountersResponse__Output>): grpc.ClientUnaryCall;
  GetAuditCounters(argument: _hmx_toolstack_v1_GetAuditCountersRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_GetAuditCountersResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Denial counters since boot: per permission, per deciding rule, and the log lines the rate
   * limit suppressed.
   */
  getAuditCounters(argument: _hmx_toolstack_v1_GetAuditCountersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_GetAuditCountersResponse__Output>): grpc.ClientUnaryCall;
  getAuditCounters(argument: _hmx_toolstack_v1_GetAuditCountersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_GetAuditCountersResponse__Output>): grpc.ClientUnaryCall;
  getAuditCounters(argument: _hmx_toolstack_v1_GetAuditCountersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_GetAuditCountersResponse__Output>): grpc.ClientUnaryCall;
  getAuditCounters(argument: _hmx_toolstack_v1_GetAuditCountersRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_GetAuditCountersResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The policy in force: its source text, name, digest and summary, the XSM module and the
   * Flask mode. With no policy loaded, `info.loaded` is false (flask then allows everything,
   * as Xen's Flask does before its first policy load).
   */
  GetPolicy(argument: _hmx_toolstack_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _hmx_toolstack_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _hmx_toolstack_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  GetPolicy(argument: _hmx_toolstack_v1_GetPolicyRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The policy in force: its source text, name, digest and summary, the XSM module and the
   * Flask mode. With no policy loaded, `info.loaded` is false (flask then allows everything,
   * as Xen's Flask does before its first policy load).
   */
  getPolicy(argument: _hmx_toolstack_v1_GetPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _hmx_toolstack_v1_GetPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _hmx_toolstack_v1_GetPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  getPolicy(argument: _hmx_toolstack_v1_GetPolicyRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_GetPolicyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Lists the devices of one front-end domain (domid 0: of every domain).
   */
  ListDevices(argument: _hmx_toolstack_v1_ListDevicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  ListDevices(argument: _hmx_toolstack_v1_ListDevicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  ListDevices(argument: _hmx_toolstack_v1_ListDevicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  ListDevices(argument: _hmx_toolstack_v1_ListDevicesRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Lists the devices of one front-end domain (domid 0: of every domain).
   */
  listDevices(argument: _hmx_toolstack_v1_ListDevicesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  listDevices(argument: _hmx_toolstack_v1_ListDevicesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  listDevices(argument: _hmx_toolstack_v1_ListDevicesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  listDevices(argument: _hmx_toolstack_v1_ListDevicesRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ListDevicesResponse__Output>): grpc.ClientUnaryCall;
  
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
  
  /**
   * The faults in force, Argo-level first, then each link's (down first, then its toxics).
   */
  ListFaults(argument: _hmx_toolstack_v1_ListFaultsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFaultsResponse__Output>): grpc.ClientUnaryCall;
  ListFaults(argument: _hmx_toolstack_v1_ListFaultsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFaultsResponse__Output>): grpc.ClientUnaryCall;
  ListFaults(argument: _hmx_toolstack_v1_ListFaultsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFaultsResponse__Output>): grpc.ClientUnaryCall;
  ListFaults(argument: _hmx_toolstack_v1_ListFaultsRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFaultsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The faults in force, Argo-level first, then each link's (down first, then its toxics).
   */
  listFaults(argument: _hmx_toolstack_v1_ListFaultsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFaultsResponse__Output>): grpc.ClientUnaryCall;
  listFaults(argument: _hmx_toolstack_v1_ListFaultsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFaultsResponse__Output>): grpc.ClientUnaryCall;
  listFaults(argument: _hmx_toolstack_v1_ListFaultsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFaultsResponse__Output>): grpc.ClientUnaryCall;
  listFaults(argument: _hmx_toolstack_v1_ListFaultsRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFaultsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A page of the firewall (OpenXT `viptables_list`): up to `page_size` rules (default 8, at
   * most 1000) after skipping `skip`; page until a page comes back shorter than asked. Errors:
   * OUT_OF_RANGE when `skip` is beyond the end (OpenXT answers -EFAULT).
   */
  ListFirewallRules(argument: _hmx_toolstack_v1_ListFirewallRulesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFirewallRulesResponse__Output>): grpc.ClientUnaryCall;
  ListFirewallRules(argument: _hmx_toolstack_v1_ListFirewallRulesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFirewallRulesResponse__Output>): grpc.ClientUnaryCall;
  ListFirewallRules(argument: _hmx_toolstack_v1_ListFirewallRulesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFirewallRulesResponse__Output>): grpc.ClientUnaryCall;
  ListFirewallRules(argument: _hmx_toolstack_v1_ListFirewallRulesRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFirewallRulesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * A page of the firewall (OpenXT `viptables_list`): up to `page_size` rules (default 8, at
   * most 1000) after skipping `skip`; page until a page comes back shorter than asked. Errors:
   * OUT_OF_RANGE when `skip` is beyond the end (OpenXT answers -EFAULT).
   */
  listFirewallRules(argument: _hmx_toolstack_v1_ListFirewallRulesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFirewallRulesResponse__Output>): grpc.ClientUnaryCall;
  listFirewallRules(argument: _hmx_toolstack_v1_ListFirewallRulesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFirewallRulesResponse__Output>): grpc.ClientUnaryCall;
  listFirewallRules(argument: _hmx_toolstack_v1_ListFirewallRulesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFirewallRulesResponse__Output>): grpc.ClientUnaryCall;
  listFirewallRules(argument: _hmx_toolstack_v1_ListFirewallRulesRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ListFirewallRulesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Compiles a Flask-style policy (grammar in docs/mac.md) and, if it has no error, swaps it in
   * atomically and flushes the access vector cache in the same step. Errors:
   * INVALID_ARGUMENT when the policy has errors (details: one "file:line:col: message" per line;
   * the running policy stays in force), FAILED_PRECONDITION when the XSM module is not flask.
   * Side effects: a "policy loaded" log line; the policy generation increases.
   */
  LoadPolicy(argument: _hmx_toolstack_v1_LoadPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_LoadPolicyResponse__Output>): grpc.ClientUnaryCall;
  LoadPolicy(argument: _hmx_toolstack_v1_LoadPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_LoadPolicyResponse__Output>): grpc.ClientUnaryCall;
  LoadPolicy(argument: _hmx_toolstack_v1_LoadPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_LoadPolicyResponse__Output>): grpc.ClientUnaryCall;
  LoadPolicy(argument: _hmx_toolstack_v1_LoadPolicyRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_LoadPolicyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Compiles a Flask-style policy (grammar in docs/mac.md) and, if it has no error, swaps it in
   * atomically and flushes the access vector cache in the same step. Errors:
   * INVALID_ARGUMENT when the policy has errors (details: one "file:line:col: message" per line;
   * the running policy stays in force), FAILED_PRECONDITION when the XSM module is not flask.
   * Side effects: a "policy loaded" log line; the policy generation increases.
   */
  loadPolicy(argument: _hmx_toolstack_v1_LoadPolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_LoadPolicyResponse__Output>): grpc.ClientUnaryCall;
  loadPolicy(argument: _hmx_toolstack_v1_LoadPolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_LoadPolicyResponse__Output>): grpc.ClientUnaryCall;
  loadPolicy(argument: _hmx_toolstack_v1_LoadPolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_LoadPolicyResponse__Output>): grpc.ClientUnaryCall;
  loadPolicy(argument: _hmx_toolstack_v1_LoadPolicyRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_LoadPolicyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Sets the verdict for a sendv no rule matches (viptables: ACCEPT; a strict deployment:
   * REJECT). Errors: INVALID_ARGUMENT for an unspecified verdict.
   */
  SetFirewallDefault(argument: _hmx_toolstack_v1_SetFirewallDefaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFirewallDefaultResponse__Output>): grpc.ClientUnaryCall;
  SetFirewallDefault(argument: _hmx_toolstack_v1_SetFirewallDefaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFirewallDefaultResponse__Output>): grpc.ClientUnaryCall;
  SetFirewallDefault(argument: _hmx_toolstack_v1_SetFirewallDefaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFirewallDefaultResponse__Output>): grpc.ClientUnaryCall;
  SetFirewallDefault(argument: _hmx_toolstack_v1_SetFirewallDefaultRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFirewallDefaultResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Sets the verdict for a sendv no rule matches (viptables: ACCEPT; a strict deployment:
   * REJECT). Errors: INVALID_ARGUMENT for an unspecified verdict.
   */
  setFirewallDefault(argument: _hmx_toolstack_v1_SetFirewallDefaultRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFirewallDefaultResponse__Output>): grpc.ClientUnaryCall;
  setFirewallDefault(argument: _hmx_toolstack_v1_SetFirewallDefaultRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFirewallDefaultResponse__Output>): grpc.ClientUnaryCall;
  setFirewallDefault(argument: _hmx_toolstack_v1_SetFirewallDefaultRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFirewallDefaultResponse__Output>): grpc.ClientUnaryCall;
  setFirewallDefault(argument: _hmx_toolstack_v1_SetFirewallDefaultRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFirewallDefaultResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Flask's enforcing / permissive switch (Xen `xl setenforce`). Permissive logs and audits each
   * denial but allows the call; it is unrelated to `--argo-mac-permissive`. Errors:
   * INVALID_ARGUMENT for an unspecified mode, FAILED_PRECONDITION when the module is not flask.
   */
  SetFlaskMode(argument: _hmx_toolstack_v1_SetFlaskModeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFlaskModeResponse__Output>): grpc.ClientUnaryCall;
  SetFlaskMode(argument: _hmx_toolstack_v1_SetFlaskModeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFlaskModeResponse__Output>): grpc.ClientUnaryCall;
  SetFlaskMode(argument: _hmx_toolstack_v1_SetFlaskModeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFlaskModeResponse__Output>): grpc.ClientUnaryCall;
  SetFlaskMode(argument: _hmx_toolstack_v1_SetFlaskModeRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFlaskModeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Flask's enforcing / permissive switch (Xen `xl setenforce`). Permissive logs and audits each
   * denial but allows the call; it is unrelated to `--argo-mac-permissive`. Errors:
   * INVALID_ARGUMENT for an unspecified mode, FAILED_PRECONDITION when the module is not flask.
   */
  setFlaskMode(argument: _hmx_toolstack_v1_SetFlaskModeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFlaskModeResponse__Output>): grpc.ClientUnaryCall;
  setFlaskMode(argument: _hmx_toolstack_v1_SetFlaskModeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFlaskModeResponse__Output>): grpc.ClientUnaryCall;
  setFlaskMode(argument: _hmx_toolstack_v1_SetFlaskModeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFlaskModeResponse__Output>): grpc.ClientUnaryCall;
  setFlaskMode(argument: _hmx_toolstack_v1_SetFlaskModeRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_SetFlaskModeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Compiles a policy without loading it and returns every error with its position. Never
   * fails for a bad policy (that is `ok = false`); works under every XSM module. No side effects.
   */
  ValidatePolicy(argument: _hmx_toolstack_v1_ValidatePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  ValidatePolicy(argument: _hmx_toolstack_v1_ValidatePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  ValidatePolicy(argument: _hmx_toolstack_v1_ValidatePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  ValidatePolicy(argument: _hmx_toolstack_v1_ValidatePolicyRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Compiles a policy without loading it and returns every error with its position. Never
   * fails for a bad policy (that is `ok = false`); works under every XSM module. No side effects.
   */
  validatePolicy(argument: _hmx_toolstack_v1_ValidatePolicyRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  validatePolicy(argument: _hmx_toolstack_v1_ValidatePolicyRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_hmx_toolstack_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  validatePolicy(argument: _hmx_toolstack_v1_ValidatePolicyRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_hmx_toolstack_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  validatePolicy(argument: _hmx_toolstack_v1_ValidatePolicyRequest, callback: grpc.requestCallback<_hmx_toolstack_v1_ValidatePolicyResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * A stream of audit records, one per denial from now on (Flask permissive denials included,
   * with `permissive` set). Not rate-limited; a watcher that cannot keep up loses records and
   * sees the count in the next record's `dropped_before`.
   */
  WatchAudit(argument: _hmx_toolstack_v1_WatchAuditRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_toolstack_v1_AuditRecord__Output>;
  WatchAudit(argument: _hmx_toolstack_v1_WatchAuditRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_toolstack_v1_AuditRecord__Output>;
  /**
   * A stream of audit records, one per denial from now on (Flask permissive denials included,
   * with `permissive` set). Not rate-limited; a watcher that cannot keep up loses records and
   * sees the count in the next record's `dropped_before`.
   */
  watchAudit(argument: _hmx_toolstack_v1_WatchAuditRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_toolstack_v1_AuditRecord__Output>;
  watchAudit(argument: _hmx_toolstack_v1_WatchAuditRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_toolstack_v1_AuditRecord__Output>;
  
  /**
   * Every fault's start, change and end from now on, as the history records them.
   */
  WatchFaults(argument: _hmx_toolstack_v1_WatchFaultsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_toolstack_v1_FaultEvent__Output>;
  WatchFaults(argument: _hmx_toolstack_v1_WatchFaultsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_toolstack_v1_FaultEvent__Output>;
  /**
   * Every fault's start, change and end from now on, as the history records them.
   */
  watchFaults(argument: _hmx_toolstack_v1_WatchFaultsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_toolstack_v1_FaultEvent__Output>;
  watchFaults(argument: _hmx_toolstack_v1_WatchFaultsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_hmx_toolstack_v1_FaultEvent__Output>;
  
}

export interface ToolstackHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Adds a firewall rule (OpenXT `viptables_add`): position n >= 1 makes it the n-th rule;
   * 0 or a position past the end appends. Errors: INVALID_ARGUMENT for an unspecified verdict,
   * a bad label or a port above 0xFFFFFFFE; RESOURCE_EXHAUSTED beyond 65536 rules.
   */
  AddFirewallRule: grpc.handleUnaryCall<_hmx_toolstack_v1_AddFirewallRuleRequest__Output, _hmx_toolstack_v1_AddFirewallRuleResponse>;
  
  /**
   * Starts a fault: an Argo-level fault between domains or groups (partition, -EAGAIN storm,
   * delay, late VIRQ, pause) or a fault on one domain's link (down, or a Toxiproxy toxic; needs
   * the hypervisor's --link-faults or --toxiproxy-listen). Every start and end is a `fault` event
   * in the history. Errors: INVALID_ARGUMENT names the bad field, value and limit; NOT_FOUND an
   * unknown domain name; ALREADY_EXISTS a toxic name already on that link; FAILED_PRECONDITION a
   * link fault without the link layer. A refused fault changes nothing.
   */
  ApplyFault: grpc.handleUnaryCall<_hmx_toolstack_v1_ApplyFaultRequest__Output, _hmx_toolstack_v1_ApplyFaultResponse>;
  
  /**
   * Hot-adds a virtio device to a live front-end domain: rewrites the front end's and the back
   * end's virtual ACPI tables at gfn 0 and sends both a `device_added` event.
   */
  AttachDevice: grpc.handleUnaryCall<_hmx_toolstack_v1_AttachDeviceRequest__Output, _hmx_toolstack_v1_AttachDeviceResponse>;
  
  /**
   * The what-if query: would `source` be allowed `permission` on `target` (for SEND: to the
   * port `dst_port`, from `src_port`), and which module, hook and rule decided. Answered by the
   * same functions that enforce hypercalls, in sendv's order (enable, send, firewall), but
   * without auditing or counting. Errors: NOT_FOUND for a domid that names no live domain,
   * INVALID_ARGUMENT for a missing subject, a bad label or a target given for a permission
   * whose target is Xen itself (ENABLE, REGISTER_ANY_SOURCE).
   */
  CheckAccess: grpc.handleUnaryCall<_hmx_toolstack_v1_CheckAccessRequest__Output, _hmx_toolstack_v1_CheckAccessResponse>;
  
  /**
   * Ends the faults whose ids are given, or every fault (Argo and link) when none is. Errors:
   * NOT_FOUND for an unknown id (then nothing is cleared).
   */
  ClearFaults: grpc.handleUnaryCall<_hmx_toolstack_v1_ClearFaultsRequest__Output, _hmx_toolstack_v1_ClearFaultsResponse>;
  
  /**
   * Creates a domain with `memory_bytes` of guest-physical memory (a multiple of 4096, at
   * least 64 KiB, at most the hypervisor's per-domain cap). Pages are materialised lazily.
   * Returns the new domid (1..0x7FEF, never reused within a run) and the domain's credential,
   * the bearer token its guest agent presents. The credential is returned only here.
   */
  CreateDomain: grpc.handleUnaryCall<_hmx_toolstack_v1_CreateDomainRequest__Output, _hmx_toolstack_v1_CreateDomainResponse>;
  
  /**
   * Deletes one rule (OpenXT `viptables_del`): by 1-based position, or the first rule whose
   * source and destination equal the pattern's (the verdict is ignored, as in OpenXT).
   * Errors: NOT_FOUND when no rule is at that position or matches; INVALID_ARGUMENT when
   * neither is given (flushing is FlushFirewall).
   */
  DeleteFirewallRule: grpc.handleUnaryCall<_hmx_toolstack_v1_DeleteFirewallRuleRequest__Output, _hmx_toolstack_v1_DeleteFirewallRuleResponse>;
  
  /**
   * Destroys a domain: Xen's argo_destroy (its rings, every other domain's unicast ring whose
   * partner it was, and its pending waiters elsewhere), then its memory and credential. Open
   * guest connections of that domain are ended with UNAUTHENTICATED on their next call.
   */
  DestroyDomain: grpc.handleUnaryCall<_hmx_toolstack_v1_DestroyDomainRequest__Output, _hmx_toolstack_v1_DestroyDomainResponse>;
  
  /**
   * Removes a device: rewrites both tables and sends both a `device_removed` event.
   */
  DetachDevice: grpc.handleUnaryCall<_hmx_toolstack_v1_DetachDeviceRequest__Output, _hmx_toolstack_v1_DetachDeviceResponse>;
  
  /**
   * Removes every rule (OpenXT `viptables_del` with a NULL rule and position -1). The default
   * verdict is kept.
   */
  FlushFirewall: grpc.handleUnaryCall<_hmx_toolstack_v1_FlushFirewallRequest__Output, _hmx_toolstack_v1_FlushFirewallResponse>;
  
  /**
   * Denial counters since boot: per permission, per deciding rule, and the log lines the rate
   * limit suppressed.
   */
  GetAuditCounters: grpc.handleUnaryCall<_hmx_toolstack_v1_GetAuditCountersRequest__Output, _hmx_toolstack_v1_GetAuditCountersResponse>;
  
  /**
   * The policy in force: its source text, name, digest and summary, the XSM module and the
   * Flask mode. With no policy loaded, `info.loaded` is false (flask then allows everything,
   * as Xen's Flask does before its first policy load).
   */
  GetPolicy: grpc.handleUnaryCall<_hmx_toolstack_v1_GetPolicyRequest__Output, _hmx_toolstack_v1_GetPolicyResponse>;
  
  /**
   * Lists the devices of one front-end domain (domid 0: of every domain).
   */
  ListDevices: grpc.handleUnaryCall<_hmx_toolstack_v1_ListDevicesRequest__Output, _hmx_toolstack_v1_ListDevicesResponse>;
  
  /**
   * Lists live domains with their Argo state and counters.
   */
  ListDomains: grpc.handleUnaryCall<_hmx_toolstack_v1_ListDomainsRequest__Output, _hmx_toolstack_v1_ListDomainsResponse>;
  
  /**
   * The faults in force, Argo-level first, then each link's (down first, then its toxics).
   */
  ListFaults: grpc.handleUnaryCall<_hmx_toolstack_v1_ListFaultsRequest__Output, _hmx_toolstack_v1_ListFaultsResponse>;
  
  /**
   * A page of the firewall (OpenXT `viptables_list`): up to `page_size` rules (default 8, at
   * most 1000) after skipping `skip`; page until a page comes back shorter than asked. Errors:
   * OUT_OF_RANGE when `skip` is beyond the end (OpenXT answers -EFAULT).
   */
  ListFirewallRules: grpc.handleUnaryCall<_hmx_toolstack_v1_ListFirewallRulesRequest__Output, _hmx_toolstack_v1_ListFirewallRulesResponse>;
  
  /**
   * Compiles a Flask-style policy (grammar in docs/mac.md) and, if it has no error, swaps it in
   * atomically and flushes the access vector cache in the same step. Errors:
   * INVALID_ARGUMENT when the policy has errors (details: one "file:line:col: message" per line;
   * the running policy stays in force), FAILED_PRECONDITION when the XSM module is not flask.
   * Side effects: a "policy loaded" log line; the policy generation increases.
   */
  LoadPolicy: grpc.handleUnaryCall<_hmx_toolstack_v1_LoadPolicyRequest__Output, _hmx_toolstack_v1_LoadPolicyResponse>;
  
  /**
   * Sets the verdict for a sendv no rule matches (viptables: ACCEPT; a strict deployment:
   * REJECT). Errors: INVALID_ARGUMENT for an unspecified verdict.
   */
  SetFirewallDefault: grpc.handleUnaryCall<_hmx_toolstack_v1_SetFirewallDefaultRequest__Output, _hmx_toolstack_v1_SetFirewallDefaultResponse>;
  
  /**
   * Flask's enforcing / permissive switch (Xen `xl setenforce`). Permissive logs and audits each
   * denial but allows the call; it is unrelated to `--argo-mac-permissive`. Errors:
   * INVALID_ARGUMENT for an unspecified mode, FAILED_PRECONDITION when the module is not flask.
   */
  SetFlaskMode: grpc.handleUnaryCall<_hmx_toolstack_v1_SetFlaskModeRequest__Output, _hmx_toolstack_v1_SetFlaskModeResponse>;
  
  /**
   * Compiles a policy without loading it and returns every error with its position. Never
   * fails for a bad policy (that is `ok = false`); works under every XSM module. No side effects.
   */
  ValidatePolicy: grpc.handleUnaryCall<_hmx_toolstack_v1_ValidatePolicyRequest__Output, _hmx_toolstack_v1_ValidatePolicyResponse>;
  
  /**
   * A stream of audit records, one per denial from now on (Flask permissive denials included,
   * with `permissive` set). Not rate-limited; a watcher that cannot keep up loses records and
   * sees the count in the next record's `dropped_before`.
   */
  WatchAudit: grpc.handleServerStreamingCall<_hmx_toolstack_v1_WatchAuditRequest__Output, _hmx_toolstack_v1_AuditRecord>;
  
  /**
   * Every fault's start, change and end from now on, as the history records them.
   */
  WatchFaults: grpc.handleServerStreamingCall<_hmx_toolstack_v1_WatchFaultsRequest__Output, _hmx_toolstack_v1_FaultEvent>;
  
}

export interface ToolstackDefinition extends grpc.ServiceDefinition {
  AddFirewallRule: MethodDefinition<_hmx_toolstack_v1_AddFirewallRuleRequest, _hmx_toolstack_v1_AddFirewallRuleResponse, _hmx_toolstack_v1_AddFirewallRuleRequest__Output, _hmx_toolstack_v1_AddFirewallRuleResponse__Output>
  ApplyFault: MethodDefinition<_hmx_toolstack_v1_ApplyFaultRequest, _hmx_toolstack_v1_ApplyFaultResponse, _hmx_toolstack_v1_ApplyFaultRequest__Output, _hmx_toolstack_v1_ApplyFaultResponse__Output>
  AttachDevice: MethodDefinition<_hmx_toolstack_v1_AttachDeviceRequest, _hmx_toolstack_v1_AttachDeviceResponse, _hmx_toolstack_v1_AttachDeviceRequest__Output, _hmx_toolstack_v1_AttachDeviceResponse__Output>
  CheckAccess: MethodDefinition<_hmx_toolstack_v1_CheckAccessRequest, _hmx_toolstack_v1_CheckAccessResponse, _hmx_toolstack_v1_CheckAccessRequest__Output, _hmx_toolstack_v1_CheckAccessResponse__Output>
  ClearFaults: MethodDefinition<_hmx_toolstack_v1_ClearFaultsRequest, _hmx_toolstack_v1_ClearFaultsResponse, _hmx_toolstack_v1_ClearFaultsRequest__Output, _hmx_toolstack_v1_ClearFaultsResponse__Output>
  CreateDomain: MethodDefinition<_hmx_toolstack_v1_CreateDomainRequest, _hmx_toolstack_v1_CreateDomainResponse, _hmx_toolstack_v1_CreateDomainRequest__Output, _hmx_toolstack_v1_CreateDomainResponse__Output>
  DeleteFirewallRule: MethodDefinition<_hmx_toolstack_v1_DeleteFirewallRuleRequest, _hmx_toolstack_v1_DeleteFirewallRuleResponse, _hmx_toolstack_v1_DeleteFirewallRuleRequest__Output, _hmx_toolstack_v1_DeleteFirewallRuleResponse__Output>
  DestroyDomain: MethodDefinition<_hmx_toolstack_v1_DestroyDomainRequest, _hmx_toolstack_v1_DestroyDomainResponse, _hmx_toolstack_v1_DestroyDomainRequest__Output, _hmx_toolstack_v1_DestroyDomainResponse__Output>
  DetachDevice: MethodDefinition<_hmx_toolstack_v1_DetachDeviceRequest, _hmx_toolstack_v1_DetachDeviceResponse, _hmx_toolstack_v1_DetachDeviceRequest__Output, _hmx_toolstack_v1_DetachDeviceResponse__Output>
  FlushFirewall: MethodDefinition<_hmx_toolstack_v1_FlushFirewallRequest, _hmx_toolstack_v1_FlushFirewallResponse, _hmx_toolstack_v1_FlushFirewallRequest__Output, _hmx_toolstack_v1_FlushFirewallResponse__Output>
  GetAuditCounters: MethodDefinition<_hmx_toolstack_v1_GetAuditCountersRequest, _hmx_toolstack_v1_GetAuditCountersResponse, _hmx_toolstack_v1_GetAuditCountersRequest__Output, _hmx_toolstack_v1_GetAuditCountersResponse__Output>
  GetPolicy: MethodDefinition<_hmx_toolstack_v1_GetPolicyRequest, _hmx_toolstack_v1_GetPolicyResponse, _hmx_toolstack_v1_GetPolicyRequest__Output, _hmx_toolstack_v1_GetPolicyResponse__Output>
  ListDevices: MethodDefinition<_hmx_toolstack_v1_ListDevicesRequest, _hmx_toolstack_v1_ListDevicesResponse, _hmx_toolstack_v1_ListDevicesRequest__Output, _hmx_toolstack_v1_ListDevicesResponse__Output>
  ListDomains: MethodDefinition<_hmx_toolstack_v1_ListDomainsRequest, _hmx_toolstack_v1_ListDomainsResponse, _hmx_toolstack_v1_ListDomainsRequest__Output, _hmx_toolstack_v1_ListDomainsResponse__Output>
  ListFaults: MethodDefinition<_hmx_toolstack_v1_ListFaultsRequest, _hmx_toolstack_v1_ListFaultsResponse, _hmx_toolstack_v1_ListFaultsRequest__Output, _hmx_toolstack_v1_ListFaultsResponse__Output>
  ListFirewallRules: MethodDefinition<_hmx_toolstack_v1_ListFirewallRulesRequest, _hmx_toolstack_v1_ListFirewallRulesResponse, _hmx_toolstack_v1_ListFirewallRulesRequest__Output, _hmx_toolstack_v1_ListFirewallRulesResponse__Output>
  LoadPolicy: MethodDefinition<_hmx_toolstack_v1_LoadPolicyRequest, _hmx_toolstack_v1_LoadPolicyResponse, _hmx_toolstack_v1_LoadPolicyRequest__Output, _hmx_toolstack_v1_LoadPolicyResponse__Output>
  SetFirewallDefault: MethodDefinition<_hmx_toolstack_v1_SetFirewallDefaultRequest, _hmx_toolstack_v1_SetFirewallDefaultResponse, _hmx_toolstack_v1_SetFirewallDefaultRequest__Output, _hmx_toolstack_v1_SetFirewallDefaultResponse__Output>
  SetFlaskMode: MethodDefinition<_hmx_toolstack_v1_SetFlaskModeRequest, _hmx_toolstack_v1_SetFlaskModeResponse, _hmx_toolstack_v1_SetFlaskModeRequest__Output, _hmx_toolstack_v1_SetFlaskModeResponse__Output>
  ValidatePolicy: MethodDefinition<_hmx_toolstack_v1_ValidatePolicyRequest, _hmx_toolstack_v1_ValidatePolicyResponse, _hmx_toolstack_v1_ValidatePolicyRequest__Output, _hmx_toolstack_v1_ValidatePolicyResponse__Output>
  WatchAudit: MethodDefinition<_hmx_toolstack_v1_WatchAuditRequest, _hmx_toolstack_v1_AuditRecord, _hmx_toolstack_v1_WatchAuditRequest__Output, _hmx_toolstack_v1_AuditRecord__Output>
  WatchFaults: MethodDefinition<_hmx_toolstack_v1_WatchFaultsRequest, _hmx_toolstack_v1_FaultEvent, _hmx_toolstack_v1_WatchFaultsRequest__Output, _hmx_toolstack_v1_FaultEvent__Output>
}
