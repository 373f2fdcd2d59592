// Original file: /work/main/proto/hmx/toolstack/v1/toolstack.proto


/**
 * One hook on the path of the checked call, in the order the hypercall runs them.
 */
export interface AccessStep {
  /**
   * "enable", "register_single_source", "register_any_source", "send" or "firewall".
   */
  'hook'?: (string);
  /**
   * The module that answered: "dummy", "flask", "silo" or "firewall".
   */
  'module'?: (string);
  /**
   * What the hook returns to the hypercall: 0 or a negative errno.
   */
  'ret'?: (number);
  /**
   * Flask permissive mode turned a denial into ret 0.
   */
  'permissiveOverride'?: (boolean);
  /**
   * The deciding rule in source form, with its location ("default.te:12:1"), or a reason
   * such as "no allow rule" or "firewall default ACCEPT".
   */
  'rule'?: (string);
  'reason'?: (string);
}

/**
 * One hook on the path of the checked call, in the order the hypercall runs them.
 */
export interface AccessStep__Output {
  /**
   * "enable", "register_single_source", "register_any_source", "send" or "firewall".
   */
  'hook': (string);
  /**
   * The module that answered: "dummy", "flask", "silo" or "firewall".
   */
  'module': (string);
  /**
   * What the hook returns to the hypercall: 0 or a negative errno.
   */
  'ret': (number);
  /**
   * Flask permissive mode turned a denial into ret 0.
   */
  'permissiveOverride': (boolean);
  /**
   * The deciding rule in source form, with its location ("default.te:12:1"), or a reason
   * such as "no allow rule" or "firewall default ACCEPT".
   */
  'rule': (string);
  'reason': (string);
}
