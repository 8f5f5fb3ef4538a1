import type { LambdaService } from '../../../../contracts/lambda-environment';
import { METRIC } from '../../../../handlers/common/observability';

/**
 * The custom metrics the Lambdas emit (name and `service` dimension: one billed metric each), per
 * docs/architecture.md "Metrics"; a unit test holds every name of METRIC to appear here.
 */
export const EMITTED_METRICS: readonly { readonly name: string; readonly services: readonly LambdaService[] }[] = [
  { name: METRIC.filesAccepted, services: ['manifest-builder'] },
  { name: METRIC.duplicatesSkipped, services: ['manifest-builder'] },
  { name: METRIC.filesRejected, services: ['manifest-builder'] },
  { name: METRIC.filesSkipped, services: ['manifest-builder'] },
  { name: METRIC.manifestsSealedFull, services: ['manifest-builder', 'sweeper'] },
  { name: METRIC.manifestsSealedTimeout, services: ['sweeper'] },
  { name: METRIC.sealToStartMs, services: ['manifest-builder', 'sweeper'] },
  { name: METRIC.oldestOpenManifestAgeSeconds, services: ['sweeper'] },
  { name: METRIC.executionNameConflicts, services: ['manifest-builder', 'sweeper'] },
  { name: METRIC.endedExecutionsRecorded, services: ['sweeper'] },
  { name: METRIC.manifestsQueued, services: ['sweeper'] },
  { name: METRIC.oldestQueuedAgeSeconds, services: ['sweeper'] },
];
