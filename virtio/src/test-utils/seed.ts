// SPDX-License-Identifier: Apache-2.0
/**
 * The fast-check seed for a property test file: `HMX_TEST_SEED` when set (to replay a failure),
 * random otherwise; printed either way, as every hmx property test does. Test code.
 */
export function propertySeed(what: string): number {
  const env = process.env["HMX_TEST_SEED"];
  const seed = env === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(env);
  // eslint-disable-next-line no-console -- test output: the replay instruction
  console.log(`${what}: fast-check seed ${seed} (replay with HMX_TEST_SEED=${seed})`);
  return seed;
}
