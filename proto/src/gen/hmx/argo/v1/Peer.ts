// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


export interface Peer {
  'domid'?: (number);
  'name'?: (string);
  'label'?: (string);
}

export interface Peer__Output {
  'domid': (number);
  'name': (string);
  'label': (string);
}
