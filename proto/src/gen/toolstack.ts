import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { AccessStep as _hmx_toolstack_v1_AccessStep, AccessStep__Output as _hmx_toolstack_v1_AccessStep__Output } from './hmx/toolstack/v1/AccessStep.js';
import type { AddFirewallRuleRequest as _hmx_toolstack_v1_AddFirewallRuleRequest, AddFirewallRuleRequest__Output as _hmx_toolstack_v1_AddFirewallRuleRequest__Output } from './hmx/toolstack/v1/AddFirewallRuleRequest.js';
import type { AddFirewallRuleResponse as _hmx_toolstack_v1_AddFirewallRuleResponse, AddFirewallRuleResponse__Output as _hmx_toolstack_v1_AddFirewallRuleResponse__Output } from './hmx/toolstack/v1/AddFirewallRuleResponse.js';
import type { ApplyFaultRequest as _hmx_toolstack_v1_ApplyFaultRequest, ApplyFaultRequest__Output as _hmx_toolstack_v1_ApplyFaultRequest__Output } from './hmx/toolstack/v1/ApplyFaultRequest.js';
import type { ApplyFaultResponse as _hmx_toolstack_v1_ApplyFaultResponse, ApplyFaultResponse__Output as _hmx_toolstack_v1_ApplyFaultResponse__Output } from './hmx/toolstack/v1/ApplyFaultResponse.js';
import type { ArgoFault as _hmx_toolstack_v1_ArgoFault, ArgoFault__Output as _hmx_toolstack_v1_ArgoFault__Output } from './hmx/toolstack/v1/ArgoFault.js';
import type { AttachDeviceRequest as _hmx_toolstack_v1_AttachDeviceRequest, AttachDeviceRequest__Output as _hmx_toolstack_v1_AttachDeviceRequest__Output } from './hmx/toolstack/v1/AttachDeviceRequest.js';
import type { AttachDeviceResponse as _hmx_toolstack_v1_AttachDeviceResponse, AttachDeviceResponse__Output as _hmx_toolstack_v1_AttachDeviceResponse__Output } from './hmx/toolstack/v1/AttachDeviceResponse.js';
import type { AuditCounter as _hmx_toolstack_v1_AuditCounter, AuditCounter__Output as _hmx_toolstack_v1_AuditCounter__Output } from './hmx/toolstack/v1/AuditCounter.js';
import type { AuditRecord as _hmx_toolstack_v1_AuditRecord, AuditRecord__Output as _hmx_toolstack_v1_AuditRecord__Output } from './hmx/toolstack/v1/AuditRecord.js';
import type { CheckAccessRequest as _hmx_toolstack_v1_CheckAccessRequest, CheckAccessRequest__Output as _hmx_toolstack_v1_CheckAccessRequest__Output } from './hmx/toolstack/v1/CheckAccessRequest.js';
import type { CheckAccessResponse as _hmx_toolstack_v1_CheckAccessResponse, CheckAccessResponse__Output as _hmx_toolstack_v1_CheckAccessResponse__Output } from './hmx/toolstack/v1/CheckAccessResponse.js';
import type { ClearFaultsRequest as _hmx_toolstack_v1_ClearFaultsRequest, ClearFaultsRequest__Output as _hmx_toolstack_v1_ClearFaultsRequest__Output } from './hmx/toolstack/v1/ClearFaultsRequest.js';
import type { ClearFaultsResponse as _hmx_toolstack_v1_ClearFaultsResponse, ClearFaultsResponse__Output as _hmx_toolstack_v1_ClearFaultsResponse__Output } from './hmx/toolstack/v1/ClearFaultsResponse.js';
import type { CreateDomainRequest as _hmx_toolstack_v1_CreateDomainRequest, CreateDomainRequest__Output as _hmx_toolstack_v1_CreateDomainRequest__Output } from './hmx/toolstack/v1/CreateDomainRequest.js';
import type { CreateDomainResponse as _hmx_toolstack_v1_CreateDomainResponse, CreateDomainResponse__Output as _hmx_toolstack_v1_CreateDomainResponse__Output } from './hmx/toolstack/v1/CreateDomainResponse.js';
import type { DeleteFirewallRuleRequest as _hmx_toolstack_v1_DeleteFirewallRuleRequest, DeleteFirewallRuleRequest__Output as _hmx_toolstack_v1_DeleteFirewallRuleRequest__Output } from './hmx/toolstack/v1/DeleteFirewallRuleRequest.js';
import type { DeleteFirewallRuleResponse as _hmx_toolstack_v1_DeleteFirewallRuleResponse, DeleteFirewallRuleResponse__Output as _hmx_toolstack_v1_DeleteFirewallRuleResponse__Output } from './hmx/toolstack/v1/DeleteFirewallRuleResponse.js';
import type { DestroyDomainRequest as _hmx_toolstack_v1_DestroyDomainRequest, DestroyDomainRequest__Output as _hmx_toolstack_v1_DestroyDomainRequest__Output } from './hmx/toolstack/v1/DestroyDomainRequest.js';
import type { DestroyDomainResponse as _hmx_toolstack_v1_DestroyDomainResponse, DestroyDomainResponse__Output as _hmx_toolstack_v1_DestroyDomainResponse__Output } from './hmx/toolstack/v1/DestroyDomainResponse.js';
import type { DetachDeviceRequest as _hmx_toolstack_v1_DetachDeviceRequest, DetachDeviceRequest__Output as _hmx_toolstack_v1_DetachDeviceRequest__Output } from './hmx/toolstack/v1/DetachDeviceRequest.js';
import type { DetachDeviceResponse as _hmx_toolstack_v1_DetachDeviceResponse, DetachDeviceResponse__Output as _hmx_toolstack_v1_DetachDeviceResponse__Output } from './hmx/toolstack/v1/DetachDeviceResponse.js';
import type { DeviceInfo as _hmx_toolstack_v1_DeviceInfo, DeviceInfo__Output as _hmx_toolstack_v1_DeviceInfo__Output } from './hmx/toolstack/v1/DeviceInfo.js';
import type { DeviceSpec as _hmx_toolstack_v1_DeviceSpec, DeviceSpec__Output as _hmx_toolstack_v1_DeviceSpec__Output } from './hmx/toolstack/v1/DeviceSpec.js';
import type { DomainCounters as _hmx_toolstack_v1_DomainCounters, DomainCounters__Output as _hmx_toolstack_v1_DomainCounters__Output } from './hmx/toolstack/v1/DomainCounters.js';
import type { DomainSummary as _hmx_toolstack_v1_DomainSummary, DomainSummary__Output as _hmx_toolstack_v1_DomainSummary__Output } from './hmx/toolstack/v1/DomainSummary.js';
import type { FaultEvent as _hmx_toolstack_v1_FaultEvent, FaultEvent__Output as _hmx_toolstack_v1_FaultEvent__Output } from './hmx/toolstack/v1/FaultEvent.js';
import type { FaultInfo as _hmx_toolstack_v1_FaultInfo, FaultInfo__Output as _hmx_toolstack_v1_FaultInfo__Output } from './hmx/toolstack/v1/FaultInfo.js';
import type { FaultSpec as _hmx_toolstack_v1_FaultSpec, FaultSpec__Output as _hmx_toolstack_v1_FaultSpec__Output } from './hmx/toolstack/v1/FaultSpec.js';
import type { FirewallMatch as _hmx_toolstack_v1_FirewallMatch, FirewallMatch__Output as _hmx_toolstack_v1_FirewallMatch__Output } from './hmx/toolstack/v1/FirewallMatch.js';
import type { FirewallRule as _hmx_toolstack_v1_FirewallRule, FirewallRule__Output as _hmx_toolstack_v1_FirewallRule__Output } from './hmx/toolstack/v1/FirewallRule.js';
import type { FirewallRulePattern as _hmx_toolstack_v1_FirewallRulePattern, FirewallRulePattern__Output as _hmx_toolstack_v1_FirewallRulePattern__Output } from './hmx/toolstack/v1/FirewallRulePattern.js';
import type { FlushFirewallRequest as _hmx_toolstack_v1_FlushFirewallRequest, FlushFirewallRequest__Output as _hmx_toolstack_v1_FlushFirewallRequest__Output } from './hmx/toolstack/v1/FlushFirewallRequest.js';
import type { FlushFirewallResponse as _hmx_toolstack_v1_FlushFirewallResponse, FlushFirewallResponse__Output as _hmx_toolstack_v1_FlushFirewallResponse__Output } from './hmx/toolstack/v1/FlushFirewallResponse.js';
import type { GetAuditCountersRequest as _hmx_toolstack_v1_GetAuditCountersRequest, GetAuditCountersRequest__Output as _hmx_toolstack_v1_GetAuditCountersRequest__Output } from './hmx/toolstack/v1/GetAuditCountersRequest.js';
import type { GetAuditCountersResponse as _hmx_toolstack_v1_GetAuditCountersResponse, GetAuditCountersResponse__Output as _hmx_toolstack_v1_GetAuditCountersResponse__Output } from './hmx/toolstack/v1/GetAuditCountersResponse.js';
import type { GetPolicyRequest as _hmx_toolstack_v1_GetPolicyRequest, GetPolicyRequest__Output as _hmx_toolstack_v1_GetPolicyRequest__Output } from './hmx/toolstack/v1/GetPolicyRequest.js';
import type { GetPolicyResponse as _hmx_toolstack_v1_GetPolicyResponse, GetPolicyResponse__Output as _hmx_toolstack_v1_GetPolicyResponse__Output } from './hmx/toolstack/v1/GetPolicyResponse.js';
import type { LinkFault as _hmx_toolstack_v1_LinkFault, LinkFault__Output as _hmx_toolstack_v1_LinkFault__Output } from './hmx/toolstack/v1/LinkFault.js';
import type { ListDevicesRequest as _hmx_toolstack_v1_ListDevicesRequest, ListDevicesRequest__Output as _hmx_toolstack_v1_ListDevicesRequest__Output } from './hmx/toolstack/v1/ListDevicesRequest.js';
import type { ListDevicesResponse as _hmx_toolstack_v1_ListDevicesResponse, ListDevicesResponse__Output as _hmx_toolstack_v1_ListDevicesResponse__Output } from './hmx/toolstack/v1/ListDevicesResponse.js';
import type { ListDomainsRequest as _hmx_toolstack_v1_ListDomainsRequest, ListDomainsRequest__Output as _hmx_toolstack_v1_ListDomainsRequest__Output } from './hmx/toolstack/v1/ListDomainsRequest.js';
import type { ListDomainsResponse as _hmx_toolstack_v1_ListDomainsResponse, ListDomainsResponse__Output as _hmx_toolstack_v1_ListDomainsResponse__Output } from './hmx/toolstack/v1/ListDomainsResponse.js';
import type { ListFaultsRequest as _hmx_toolstack_v1_ListFaultsRequest, ListFaultsRequest__Output as _hmx_toolstack_v1_ListFaultsRequest__Output } from './hmx/toolstack/v1/ListFaultsRequest.js';
import type { ListFaultsResponse as _hmx_toolstack_v1_ListFaultsResponse, ListFaultsResponse__Output as _hmx_toolstack_v1_ListFaultsResponse__Output } from './hmx/toolstack/v1/ListFaultsResponse.js';
import type { ListFirewallRulesRequest as _hmx_toolstack_v1_ListFirewallRulesRequest, ListFirewallRulesRequest__Output as _hmx_toolstack_v1_ListFirewallRulesRequest__Output } from './hmx/toolstack/v1/ListFirewallRulesRequest.js';
import type { ListFirewallRulesResponse as _hmx_toolstack_v1_ListFirewallRulesResponse, ListFirewallRulesResponse__Output as _hmx_toolstack_v1_ListFirewallRulesResponse__Output } from './hmx/toolstack/v1/ListFirewallRulesResponse.js';
import type { LoadPolicyRequest as _hmx_toolstack_v1_LoadPolicyRequest, LoadPolicyRequest__Output as _hmx_toolstack_v1_LoadPolicyRequest__Output } from './hmx/toolstack/v1/LoadPolicyRequest.js';
import type { LoadPolicyResponse as _hmx_toolstack_v1_LoadPolicyResponse, LoadPolicyResponse__Output as _hmx_toolstack_v1_LoadPolicyResponse__Output } from './hmx/toolstack/v1/LoadPolicyResponse.js';
import type { MacSubject as _hmx_toolstack_v1_MacSubject, MacSubject__Output as _hmx_toolstack_v1_MacSubject__Output } from './hmx/toolstack/v1/MacSubject.js';
import type { PolicyDiagnostic as _hmx_toolstack_v1_PolicyDiagnostic, PolicyDiagnostic__Output as _hmx_toolstack_v1_PolicyDiagnostic__Output } from './hmx/toolstack/v1/PolicyDiagnostic.js';
import type { PolicyInfo as _hmx_toolstack_v1_PolicyInfo, PolicyInfo__Output as _hmx_toolstack_v1_PolicyInfo__Output } from './hmx/toolstack/v1/PolicyInfo.js';
import type { SetFirewallDefaultRequest as _hmx_toolstack_v1_SetFirewallDefaultRequest, SetFirewallDefaultRequest__Output as _hmx_toolstack_v1_SetFirewallDefaultRequest__Output } from './hmx/toolstack/v1/SetFirewallDefaultRequest.js';
import type { SetFirewallDefaultResponse as _hmx_toolstack_v1_SetFirewallDefaultResponse, SetFirewallDefaultResponse__Output as _hmx_toolstack_v1_SetFirewallDefaultResponse__Output } from './hmx/toolstack/v1/SetFirewallDefaultResponse.js';
import type { SetFlaskModeRequest as _hmx_toolstack_v1_SetFlaskModeRequest, SetFlaskModeRequest__Output as _hmx_toolstack_v1_SetFlaskModeRequest__Output } from './hmx/toolstack/v1/SetFlaskModeRequest.js';
import type { SetFlaskModeResponse as _hmx_toolstack_v1_SetFlaskModeResponse, SetFlaskModeResponse__Output as _hmx_toolstack_v1_SetFlaskModeResponse__Output } from './hmx/toolstack/v1/SetFlaskModeResponse.js';
import type { ToolstackClient as _hmx_toolstack_v1_ToolstackClient, ToolstackDefinition as _hmx_toolstack_v1_ToolstackDefinition } from './hmx/toolstack/v1/Toolstack.js';
import type { ValidatePolicyRequest as _hmx_toolstack_v1_ValidatePolicyRequest, ValidatePolicyRequest__Output as _hmx_toolstack_v1_ValidatePolicyRequest__Output } from './hmx/toolstack/v1/ValidatePolicyRequest.js';
import type { ValidatePolicyResponse as _hmx_toolstack_v1_ValidatePolicyResponse, ValidatePolicyResponse__Output as _hmx_toolstack_v1_ValidatePolicyResponse__Output } from './hmx/toolstack/v1/ValidatePolicyResponse.js';
import type { WatchAuditRequest as _hmx_toolstack_v1_WatchAuditRequest, WatchAuditRequest__Output as _hmx_toolstack_v1_WatchAuditRequest__Output } from './hmx/toolstack/v1/WatchAuditRequest.js';
import type { WatchFaultsRequest as _hmx_toolstack_v1_WatchFaultsRequest, WatchFaultsRequest__Output as _hmx_toolstack_v1_WatchFaultsRequest__Output } from './hmx/toolstack/v1/WatchFaultsRequest.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  hmx: {
    toolstack: {
      v1: {
        AccessStep: MessageTypeDefinition<_hmx_toolstack_v1_AccessStep, _hmx_toolstack_v1_AccessStep__Output>
        AddFirewallRuleRequest: MessageTypeDefinition<_hmx_toolstack_v1_AddFirewallRuleRequest, _hmx_toolstack_v1_AddFirewallRuleRequest__Output>
        AddFirewallRuleResponse: MessageTypeDefinition<_hmx_toolstack_v1_AddFirewallRuleResponse, _hmx_toolstack_v1_AddFirewallRuleResponse__Output>
        ApplyFaultRequest: MessageTypeDefinition<_hmx_toolstack_v1_ApplyFaultRequest, _hmx_toolstack_v1_ApplyFaultRequest__Output>
        ApplyFaultResponse: MessageTypeDefinition<_hmx_toolstack_v1_ApplyFaultResponse, _hmx_toolstack_v1_ApplyFaultResponse__Output>
        ArgoFault: MessageTypeDefinition<_hmx_toolstack_v1_ArgoFault, _hmx_toolstack_v1_ArgoFault__Output>
        ArgoPermission: EnumTypeDefinition
        AttachDeviceRequest: MessageTypeDefinition<_hmx_toolstack_v1_AttachDeviceRequest, _hmx_toolstack_v1_AttachDeviceRequest__Output>
        AttachDeviceResponse: MessageTypeDefinition<_hmx_toolstack_v1_AttachDeviceResponse, _hmx_toolstack_v1_AttachDeviceResponse__Output>
        AuditCounter: MessageTypeDefinition<_hmx_toolstack_v1_AuditCounter, _hmx_toolstack_v1_AuditCounter__Output>
        AuditRecord: MessageTypeDefinition<_hmx_toolstack_v1_AuditRecord, _hmx_toolstack_v1_AuditRecord__Output>
        CheckAccessRequest: MessageTypeDefinition<_hmx_toolstack_v1_CheckAccessRequest, _hmx_toolstack_v1_CheckAccessRequest__Output>
        CheckAccessResponse: MessageTypeDefinition<_hmx_toolstack_v1_CheckAccessResponse, _hmx_toolstack_v1_CheckAccessResponse__Output>
        ClearFaultsRequest: MessageTypeDefinition<_hmx_toolstack_v1_ClearFaultsRequest, _hmx_toolstack_v1_ClearFaultsRequest__Output>
        ClearFaultsResponse: MessageTypeDefinition<_hmx_toolstack_v1_ClearFaultsResponse, _hmx_toolstack_v1_ClearFaultsResponse__Output>
        CreateDomainRequest: MessageTypeDefinition<_hmx_toolstack_v1_CreateDomainRequest, _hmx_toolstack_v1_CreateDomainRequest__Output>
        CreateDomainResponse: MessageTypeDefinition<_hmx_toolstack_v1_CreateDomainResponse, _hmx_toolstack_v1_CreateDomainResponse__Output>
        DeleteFirewallRuleRequest: MessageTypeDefinition<_hmx_toolstack_v1_DeleteFirewallRuleRequest, _hmx_toolstack_v1_DeleteFirewallRuleRequest__Output>
        DeleteFirewallRuleResponse: MessageTypeDefinition<_hmx_toolstack_v1_DeleteFirewallRuleResponse, _hmx_toolstack_v1_DeleteFirewallRuleResponse__Output>
        DestroyDomainRequest: MessageTypeDefinition<_hmx_toolstack_v1_DestroyDomainRequest, _hmx_toolstack_v1_DestroyDomainRequest__Output>
        DestroyDomainResponse: MessageTypeDefinition<_hmx_toolstack_v1_DestroyDomainResponse, _hmx_toolstack_v1_DestroyDomainResponse__Output>
        DetachDeviceRequest: MessageTypeDefinition<_hmx_toolstack_v1_DetachDeviceRequest, _hmx_toolstack_v1_DetachDeviceRequest__Output>
        DetachDeviceResponse: MessageTypeDefinition<_hmx_toolstack_v1_DetachDeviceResponse, _hmx_toolstack_v1_DetachDeviceResponse__Output>
        DeviceInfo: MessageTypeDefinition<_hmx_toolstack_v1_DeviceInfo, _hmx_toolstack_v1_DeviceInfo__Output>
        DeviceSpec: MessageTypeDefinition<_hmx_toolstack_v1_DeviceSpec, _hmx_toolstack_v1_DeviceSpec__Output>
        DeviceType: EnumTypeDefinition
        DomainCounters: MessageTypeDefinition<_hmx_toolstack_v1_DomainCounters, _hmx_toolstack_v1_DomainCounters__Output>
        DomainSummary: MessageTypeDefinition<_hmx_toolstack_v1_DomainSummary, _hmx_toolstack_v1_DomainSummary__Output>
        FaultEvent: MessageTypeDefinition<_hmx_toolstack_v1_FaultEvent, _hmx_toolstack_v1_FaultEvent__Output>
        FaultInfo: MessageTypeDefinition<_hmx_toolstack_v1_FaultInfo, _hmx_toolstack_v1_FaultInfo__Output>
        FaultSpec: MessageTypeDefinition<_hmx_toolstack_v1_FaultSpec, _hmx_toolstack_v1_FaultSpec__Output>
        FirewallMatch: MessageTypeDefinition<_hmx_toolstack_v1_FirewallMatch, _hmx_toolstack_v1_FirewallMatch__Output>
        FirewallRule: MessageTypeDefinition<_hmx_toolstack_v1_FirewallRule, _hmx_toolstack_v1_FirewallRule__Output>
        FirewallRulePattern: MessageTypeDefinition<_hmx_toolstack_v1_FirewallRulePattern, _hmx_toolstack_v1_FirewallRulePattern__Output>
        FirewallVerdict: EnumTypeDefinition
        FlaskMode: EnumTypeDefinition
        FlushFirewallRequest: MessageTypeDefinition<_hmx_toolstack_v1_FlushFirewallRequest, _hmx_toolstack_v1_FlushFirewallRequest__Output>
        FlushFirewallResponse: MessageTypeDefinition<_hmx_toolstack_v1_FlushFirewallResponse, _hmx_toolstack_v1_FlushFirewallResponse__Output>
        GetAuditCountersRequest: MessageTypeDefinition<_hmx_toolstack_v1_GetAuditCountersRequest, _hmx_toolstack_v1_GetAuditCountersRequest__Output>
        GetAuditCountersResponse: MessageTypeDefinition<_hmx_toolstack_v1_GetAuditCountersResponse, _hmx_toolstack_v1_GetAuditCountersResponse__Output>
        GetPolicyRequest: MessageTypeDefinition<_hmx_toolstack_v1_GetPolicyRequest, _hmx_toolstack_v1_GetPolicyRequest__Output>
        GetPolicyResponse: MessageTypeDefinition<_hmx_toolstack_v1_GetPolicyResponse, _hmx_toolstack_v1_GetPolicyResponse__Output>
        LinkFault: MessageTypeDefinition<_hmx_toolstack_v1_LinkFault, _hmx_toolstack_v1_LinkFault__Output>
        ListDevicesRequest: MessageTypeDefinition<_hmx_toolstack_v1_ListDevicesRequest, _hmx_toolstack_v1_ListDevicesRequest__Output>
        ListDevicesResponse: MessageTypeDefinition<_hmx_toolstack_v1_ListDevicesResponse, _hmx_toolstack_v1_ListDevicesResponse__Output>
        ListDomainsRequest: MessageTypeDefinition<_hmx_toolstack_v1_ListDomainsRequest, _hmx_toolstack_v1_ListDomainsRequest__Output>
        ListDomainsResponse: MessageTypeDefinition<_hmx_toolstack_v1_ListDomainsResponse, _hmx_toolstack_v1_ListDomainsResponse__Output>
        ListFaultsRequest: MessageTypeDefinition<_hmx_toolstack_v1_ListFaultsRequest, _hmx_toolstack_v1_ListFaultsRequest__Output>
        ListFaultsResponse: MessageTypeDefinition<_hmx_toolstack_v1_ListFaultsResponse, _hmx_toolstack_v1_ListFaultsResponse__Output>
        ListFirewallRulesRequest: MessageTypeDefinition<_hmx_toolstack_v1_ListFirewallRulesRequest, _hmx_toolstack_v1_ListFirewallRulesRequest__Output>
        ListFirewallRulesResponse: MessageTypeDefinition<_hmx_toolstack_v1_ListFirewallRulesResponse, _hmx_toolstack_v1_ListFirewallRulesResponse__Output>
        LoadPolicyRequest: MessageTypeDefinition<_hmx_toolstack_v1_LoadPolicyRequest, _hmx_toolstack_v1_LoadPolicyRequest__Output>
        LoadPolicyResponse: MessageTypeDefinition<_hmx_toolstack_v1_LoadPolicyResponse, _hmx_toolstack_v1_LoadPolicyResponse__Output>
        MacSubject: MessageTypeDefinition<_hmx_toolstack_v1_MacSubject, _hmx_toolstack_v1_MacSubject__Output>
        PolicyDiagnostic: MessageTypeDefinition<_hmx_toolstack_v1_PolicyDiagnostic, _hmx_toolstack_v1_PolicyDiagnostic__Output>
        PolicyInfo: MessageTypeDefinition<_hmx_toolstack_v1_PolicyInfo, _hmx_toolstack_v1_PolicyInfo__Output>
        SetFirewallDefaultRequest: MessageTypeDefinition<_hmx_toolstack_v1_SetFirewallDefaultRequest, _hmx_toolstack_v1_SetFirewallDefaultRequest__Output>
        SetFirewallDefaultResponse: MessageTypeDefinition<_hmx_toolstack_v1_SetFirewallDefaultResponse, _hmx_toolstack_v1_SetFirewallDefaultResponse__Output>
        SetFlaskModeRequest: MessageTypeDefinition<_hmx_toolstack_v1_SetFlaskModeRequest, _hmx_toolstack_v1_SetFlaskModeRequest__Output>
        SetFlaskModeResponse: MessageTypeDefinition<_hmx_toolstack_v1_SetFlaskModeResponse, _hmx_toolstack_v1_SetFlaskModeResponse__Output>
        Toolstack: SubtypeConstructor<typeof grpc.Client, _hmx_toolstack_v1_ToolstackClient> & { service: _hmx_toolstack_v1_ToolstackDefinition }
        ValidatePolicyRequest: MessageTypeDefinition<_hmx_toolstack_v1_ValidatePolicyRequest, _hmx_toolstack_v1_ValidatePolicyRequest__Output>
        ValidatePolicyResponse: MessageTypeDefinition<_hmx_toolstack_v1_ValidatePolicyResponse, _hmx_toolstack_v1_ValidatePolicyResponse__Output>
        WatchAuditRequest: MessageTypeDefinition<_hmx_toolstack_v1_WatchAuditRequest, _hmx_toolstack_v1_WatchAuditRequest__Output>
        WatchFaultsRequest: MessageTypeDefinition<_hmx_toolstack_v1_WatchFaultsRequest, _hmx_toolstack_v1_WatchFaultsRequest__Output>
      }
    }
  }
}

