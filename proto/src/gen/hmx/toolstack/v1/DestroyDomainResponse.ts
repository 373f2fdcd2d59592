// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface DestroyDomainResponse {
}

export interface DestroyDomainResponse__Output {
}
