// SPDX-License-Identifier: Apache-2.0
/**
 * SIGINT/SIGTERM handling shared by the long-running commands: the first signal starts a
 * graceful stop, a second one exits at once (the user asked twice). A child of `hmx up` also
 * stops when its parent disappears.
 */
export function onShutdownSignal(stop: (signal: NodeJS.Signals) => void): () => void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) {
      console.error(`hmx: second ${signal}, exiting now`);
      process.exit(1);
    }
    signalled = true;
    stop(signal);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  exitWithParent(() => {
    if (!signalled) handler("SIGTERM");
  });
  return () => {
    process.off("SIGINT", handler);
    process.off("SIGTERM", handler);
  };
}

/**
 * When `HMX_EXIT_WITH_PARENT` is set (by `hmx up`), stop gracefully as soon as the parent
 * process is gone: children run in their own process group, so nothing else would stop them.
 */
export function exitWithParent(stop: () => void): void {
  if (process.env["HMX_EXIT_WITH_PARENT"] !== "1") return;
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 500).unref();
}
