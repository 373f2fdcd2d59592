// SPDX-License-Identifier: Apache-2.0
/**
 * The "host:port" address syntax every hmx endpoint flag accepts (the hypervisor's listeners,
 * `hmx guest --hypervisor`, the CLI's `--control`): one parser, here, for the service and its
 * clients alike.
 */

/** "host:port" with port 0..65535; IPv6 hosts in brackets. */
export function parseHostPort(value: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  if (match === null) return undefined;
  const port = Number(match[2]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? "", port };
}
