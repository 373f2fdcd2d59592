// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface WatchEventsRequest {
}

export interface WatchEventsRequest__Output {
}
