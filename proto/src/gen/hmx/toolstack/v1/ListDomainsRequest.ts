// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface ListDomainsRequest {
}

export interface ListDomainsRequest__Output {
}
