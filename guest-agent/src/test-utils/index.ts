// SPDX-License-Identifier: Apache-2.0
/**
 * `@hmx/guest-agent/test-utils`: the virtio-argo end-to-end harness (a real hypervisor, a
 * driver domain and front-end guests in one process) for the package's own tests and the bench.
 * Never imported by the agent (the image build drops every test-utils/ folder).
 */
export {
  startWorld,
  type World,
  type WorldOptions,
  type TestGuestHandle,
} from "../virtio-argo/test-utils/virtio-argo-harness.js";
