// SPDX-License-Identifier: Apache-2.0
/**
 * `@hmx/client`: what talks to the hmx services from outside them — the CLI, the bench, tests
 * and harness authors — without loading the hypervisor service: the typed toolstack client,
 * the history subscriber (resumes across reconnects), the "host:port" parser, and the V8 heap
 * tuning every byte-moving process applies at start.
 */
export { parseHostPort } from "@hmx/proto";
export {
  HistorySubscriber,
  HistorySubscriberError,
  HISTORY_KINDS,
  historyUrl,
  type HistoryEvent,
  type HistoryKind,
  type HistoryEnd,
  type HistorySubscriberOptions,
  type ConnectionChange,
} from "./history-subscriber.js";
export {
  decodeHistoryFrame,
  HistoryDecodeError,
  HISTORY_BINARY_VERSION,
} from "./history-binary.js";
export { tuneHeapForDataPath, DATA_PATH_HEAP_GROWING_PERCENT } from "./heap-tuning.js";
export {
  ToolstackClient,
  type DomainView,
  type DomainCountersView,
  type DeviceSpecView,
  type DeviceInfoView,
  type DeviceTypeName,
  type PolicyInfoView,
  type PolicyDiagnosticView,
  type ValidatePolicyView,
  type FirewallEndpoint,
  type FirewallRuleView,
  type FirewallPageView,
  type Verdict,
  type SubjectRef,
  type PermissionName,
  type CheckAccessQuery,
  type CheckAccessView,
  type AccessStepView,
  type AuditCountersView,
  type AuditRecordView,
  type AuditWatch,
} from "./toolstack-client.js";
export type {
  ArgoFaultType,
  ArgoFaultView,
  LinkFaultView,
  ToxicView,
  FaultSpecView,
  FaultView,
  FaultEventView,
} from "./fault-views.js";
