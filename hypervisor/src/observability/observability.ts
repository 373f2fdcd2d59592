// SPDX-License-Identifier: Apache-2.0
/**
 * Builds what `--http-listen` and `--history-file` ask for: the history (if either is given),
 * the metrics (with the listener), the `Observer` the core calls, and the listener itself. With
 * neither flag the observer is the no-op one and nothing else exists.
 */
import type { Logger } from "pino";
import type { HypervisorConfig } from "../config.js";
import type { AdminAuth } from "../grpc/auth.js";
import { startHttpListener, type RunningHttpListener } from "../http/http-listener.js";
import type { StateSources } from "../http/dashboard/state.js";
import { History } from "./history.js";
import { HistoryFile } from "./history-file.js";
import { HistorySeqFile } from "./history-seq.js";
import { HmxMetrics, type MetricSources } from "./metrics.js";
import { NOOP_OBSERVER, type Observer } from "./observer.js";
import { RecordingObserver } from "./recording-observer.js";

/** What one subscriber (or the file) may hold unsent before it is skipped for a pump. */
export const MAX_SUBSCRIBER_BUFFERED_BYTES = 1024 * 1024;
/** Times a WebSocket subscriber may be overtaken by the window before it is closed. */
export const MAX_LAG_EPISODES = 3;
export const DEFAULT_HISTORY_WINDOW = 65536;

export interface Observability {
  readonly observer: Observer;
  /** The recording observer (history and metrics), when any was asked for. */
  readonly recorder: RecordingObserver | undefined;
  /** The Prometheus metrics, with `--http-listen` (other parts register their own on it). */
  readonly metrics: HmxMetrics | undefined;
  /** Starts the listener and the file; returns the listener's bound address, if any. */
  start(auth: AdminAuth, isServing: () => boolean): Promise<string | undefined>;
  stop(): Promise<void>;
}

export function createObservability(
  config: HypervisorConfig,
  sources: MetricSources & StateSources,
  log: Logger,
): Observability {
  const wanted = config.httpListen !== undefined || config.historyFile !== undefined;
  const history = wanted
    ? new History({
        capacity: config.historyWindow ?? DEFAULT_HISTORY_WINDOW,
        maxBufferedBytes: MAX_SUBSCRIBER_BUFFERED_BYTES,
        maxLagEpisodes: MAX_LAG_EPISODES,
      })
    : undefined;
  const metrics =
    config.httpListen === undefined || history === undefined
      ? undefined
      : new HmxMetrics({
          ...sources,
          history: () => ({
            events: history.nextSeq - 1,
            subscribers: history.subscriberCount,
            dropped: history.droppedForSubscribers,
            closed: history.closedSubscribers,
            queueBytes: history.bufferedBytesNow(),
            peakQueueBytes: history.peakBufferedBytes,
          }),
        });
  const recorder = wanted ? new RecordingObserver(history, metrics) : undefined;
  let listener: RunningHttpListener | undefined;
  let file: HistoryFile | undefined;
  let seqFile: HistorySeqFile | undefined;
  return {
    observer: recorder ?? NOOP_OBSERVER,
    recorder,
    metrics,
    async start(auth, isServing) {
      // With a state dir (whose lock the hypervisor holds by now) the seq continues across a
      // restart: a harness resuming with `since` is told what the restart lost (history-seq.ts).
      if (history !== undefined && config.stateDir !== undefined) {
        seqFile = new HistorySeqFile(config.stateDir, {
          fsync: config.stateFsync ?? false,
          onWriteError: (err) => {
            log.warn({ err: err.message }, "history seq reservation could not be written");
          },
        });
        history.continueFrom(seqFile);
        if (seqFile.previous !== undefined)
          log.info(
            { firstSeq: seqFile.firstSeq, previousStopClean: seqFile.previous.clean },
            "history continues the earlier run's seq (its retained events are not kept)",
          );
      }
      // `hmx up` asks for this: a harness attaching later still finds the run from its start.
      if (config.historyFromBoot === true) history?.startRecording();
      if (history !== undefined && config.historyFile !== undefined) {
        file = new HistoryFile(config.historyFile);
        file.follow(history);
      }
      if (config.httpListen === undefined || history === undefined || metrics === undefined)
        return undefined;
      listener = await startHttpListener({
        address: config.httpListen,
        auth,
        metrics,
        history,
        log: log.child({ component: "http" }),
        isServing,
        state: sources,
      });
      return listener.address;
    },
    async stop() {
      await Promise.all([listener?.close(), file?.end()]);
      // A clean stop: the next run starts exactly where this one ended.
      if (history !== undefined) seqFile?.close(history.nextSeq);
    },
  };
}
