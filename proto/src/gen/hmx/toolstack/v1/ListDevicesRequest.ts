// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


export interface ListDevicesRequest {
  'domid'?: (number);
}

export interface ListDevicesRequest__Output {
  'domid': (number);
}
