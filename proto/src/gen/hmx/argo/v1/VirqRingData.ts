// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


/**
 * Bytes [at, at + len(data)) of one ring's data area (never wrapping), read after `tx_ptr`:
 * every byte of it is in [rx, tx_ptr) as the hypervisor saw the ring's rx_ptr then.
 */
export interface VirqRingData {
  'aport'?: (number);
  'partnerId'?: (number);
  /**
   * The ring's data length: a guest uses the hint only for its ring of this length.
   */
  'len'?: (number);
  'txPtr'?: (number);
  'at'?: (number);
  'data'?: (Buffer | Uint8Array | string);
}

/**
 * Bytes [at, at + len(data)) of one ring's data area (never wrapping), read after `tx_ptr`:
 * every byte of it is in [rx, tx_ptr) as the hypervisor saw the ring's rx_ptr then.
 */
export interface VirqRingData__Output {
  'aport': (number);
  'partnerId': (number);
  /**
   * The ring's data length: a guest uses the hint only for its ring of this length.
   */
  'len': (number);
  'txPtr': (number);
  'at': (number);
  'data': (Buffer);
}
