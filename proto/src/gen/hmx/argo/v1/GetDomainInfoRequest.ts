// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface GetDomainInfoRequest {
}

export interface GetDomainInfoRequest__Output {
}
