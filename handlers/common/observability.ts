/** Logger and metrics of the Lambdas (Powertools), and the per-invocation tally the handlers publish once. */
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { DEFAULT_CONFIG } from '../../contracts/config';

/** A Powertools metric unit (`MetricUnit.Count`, ...). */
export type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** The metric names of docs/architecture.md ("Metrics"); the alarms and the dashboard read exactly these. */
export const METRIC = {
  filesAccepted: 'FilesAccepted',
  duplicatesSkipped: 'DuplicatesSkipped',
  filesRejected: 'FilesRejected',
  filesSkipped: 'FilesSkipped',
  manifestsSealedFull: 'ManifestsSealedFull',
  manifestsSealedTimeout: 'ManifestsSealedTimeout',
  sealToStartMs: 'SealToStartMs',
  oldestOpenManifestAgeSeconds: 'OldestOpenManifestAgeSeconds',
  executionNameConflicts: 'ExecutionNameConflicts',
  endedExecutionsRecorded: 'EndedExecutionsRecorded',
  manifestsQueued: 'ManifestsQueued',
  oldestQueuedAgeSeconds: 'OldestQueuedAgeSeconds',
} as const;

/**
 * The canary's metrics (docs/architecture.md, "Canary"): emitted only when it is on, so `pipeline cost` bills them
 * in the canary's own lines, not with the pipeline's.
 */
export const CANARY_METRIC = {
  freshnessSeconds: 'CanaryFreshnessSeconds',
  pendingAgeSeconds: 'CanaryPendingAgeSeconds',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC] | (typeof CANARY_METRIC)[keyof typeof CANARY_METRIC];

/** The part of Powertools Metrics the handlers use; tests pass a recorder. */
export interface MetricsSink {
  addMetric(name: string, unit: Unit, value: number): void;
  publishStoredMetrics(): void;
}

/** Powertools logger; service name and level come from `POWERTOOLS_SERVICE_NAME` and `POWERTOOLS_LOG_LEVEL`. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** Powertools metrics in the configured namespace, dimension `service` set from the service name. */
export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ serviceName, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || DEFAULT_CONFIG.metricsNamespace });
}

/**
 * Counts one invocation's events and publishes each count once, so a batch of 100 records emits one
 * `FilesAccepted` datum, not 100.
 */
export class MetricTally {
  #counts = new Map<MetricName, number>();
  #samples: Array<{ name: MetricName; unit: Unit; value: number }> = [];

  /** Adds `n` to a count metric. */
  count(name: MetricName, n = 1): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 0) + n);
  }

  /** Records one sample of a distribution metric (a latency, an age). */
  sample(name: MetricName, unit: Unit, value: number): void {
    this.#samples.push({ name, unit, value });
  }

  /** The count of `name` so far. */
  countOf(name: MetricName): number {
    return this.#counts.get(name) ?? 0;
  }

  /** Hands everything to `sink`, publishes, and starts over. */
  flush(sink: MetricsSink): void {
    for (const [name, value] of this.#counts) sink.addMetric(name, MetricUnit.Count, value);
    for (const s of this.#samples) sink.addMetric(s.name, s.unit, s.value);
    this.#counts.clear();
    this.#samples = [];
    sink.publishStoredMetrics();
  }
}
