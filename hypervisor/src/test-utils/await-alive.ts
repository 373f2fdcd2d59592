// SPDX-License-Identifier: Apache-2.0
/**
 * Awaiting what only an unref'd timer will settle. The engines unref their timers (a fault or a
 * late VIRQ must never keep a hypervisor from exiting), so a test whose only pending work is such
 * a timer can see node's event loop empty first: the runner then cancels the test and the rest of
 * its file with "Promise resolution is still pending but the event loop has already resolved".
 * `awaitAlive` holds a ref'd timer for as long as the promise is pending, and fails after `ms`
 * naming what never happened.
 */
export async function awaitAlive<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what}: not within ${String(ms)} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
