// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface DetachDeviceRequest {
  'domid'?: (number);
  'devIndex'?: (number);
}

export interface DetachDeviceRequest__Output {
  'domid': (number);
  'devIndex': (number);
}
