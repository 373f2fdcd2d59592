// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface ListPeersRequest {
}

export interface ListPeersRequest__Output {
}
