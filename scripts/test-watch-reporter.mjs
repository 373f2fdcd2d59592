// SPDX-License-Identifier: Apache-2.0
// A node:test reporter that prints nothing while the run goes well and, at the end, one line per
// test or test file that hit its time limit (and was killed, for a file), so that a hang is named
// on the last screen of a long CI log instead of somewhere in the middle of it.
export default async function* testWatchReporter(source) {
  const timedOut = [];
  for await (const event of source) {
    if (event.type !== "test:fail") continue;
    const error = event.data.details?.error;
    const failureType = error?.failureType ?? error?.cause?.failureType;
    if (failureType !== "testTimeoutFailure") continue;
    const where =
      event.data.file !== undefined && event.data.file !== event.data.name
        ? ` (${event.data.file})`
        : "";
    timedOut.push(`${event.data.name}${where}: ${error?.message ?? "timed out"}`);
  }
  if (timedOut.length === 0) return;
  yield `\n${timedOut.length} test${timedOut.length === 1 ? "" : "s"} or file${timedOut.length === 1 ? "" : "s"} hit the time limit and ${timedOut.length === 1 ? "was" : "were"} stopped:\n`;
  for (const line of timedOut) yield `  TIMED OUT ${line}\n`;
}
