// Original file: /work/main/proto/hmx/argo/v1/hypervisor.proto


/**
 * A virtio device appeared in (or left) this domain's virtual ACPI device table at gfn 0
 * (docs/virtio-argo.md "Discovery"). The event is a hint: the table is the truth, and a guest
 * re-reads it (checksum, generation) on every device event. `role` 1 = this domain is the
 * device's front end, 2 = it hosts the device's back end.
 */
export interface DeviceEvent {
  /**
   * Index of the entry in the front end's table (the `dev_id` of its virtio-argo messages).
   */
  'devIndex'?: (number);
  /**
   * VirtIO device ID (1 net, 2 block, 3 console).
   */
  'virtioDeviceId'?: (number);
  /**
   * The other end: the back end's domid for a front end, the front end's for a back end.
   */
  'peerDomid'?: (number);
  'role'?: (number);
  /**
   * The table generation after the change.
   */
  'tableGeneration'?: (number);
}

/**
 * A virtio device appeared in (or left) this domain's virtual ACPI device table at gfn 0
 * (docs/virtio-argo.md "Discovery"). The event is a hint: the table is the truth, and a guest
 * re-reads it (checksum, generation) on every device event. `role` 1 = this domain is the
 * device's front end, 2 = it hosts the device's back end.
 */
export interface DeviceEvent__Output {
  /**
   * Index of the entry in the front end's table (the `dev_id` of its virtio-argo messages).
   */
  'devIndex': (number);
  /**
   * VirtIO device ID (1 net, 2 block, 3 console).
   */
  'virtioDeviceId': (number);
  /**
   * The other end: the back end's domid for a front end, the front end's for a back end.
   */
  'peerDomid': (number);
  'role': (number);
  /**
   * The table generation after the change.
   */
  'tableGeneration': (number);
}
