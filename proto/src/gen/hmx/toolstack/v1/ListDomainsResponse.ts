// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto

import type { DomainSummary as _hmx_toolstack_v1_DomainSummary, DomainSummary__Output as _hmx_toolstack_v1_DomainSummary__Output } from '../../../hmx/toolstack/v1/DomainSummary.js';

export interface ListDomainsResponse {
  'domains'?: (_hmx_toolstack_v1_DomainSummary)[];
}

export interface ListDomainsResponse__Output {
  'domains': (_hmx_toolstack_v1_DomainSummary__Output)[];
}
