/**
 * What the canary adds to the monthly bill (docs/cost.md, "The canary"), beside the load's bill: its checks every five
 * minutes (Lambda, the listing and HeadObjects of its files, the reads of their records, logs, traces), its files'
 * way through the pipeline (a builder invocation each, a manifest every `max(everyMinutes, maxWaitMinutes)` at most,
 * each one execution and one Glue run of the smallest size at Glue's one-minute minimum), its two metrics and two
 * alarms. Storage is left out: a file of 60 bytes and its records a tick.
 */
import { CANARY_CHECK_MINUTES } from '../../../contracts/config';
import { formatNumber as n } from '../../format';
import type { StackInventory } from './inputs/template';
import { glueRun, type BillLine, type GlueRun, type Measured } from './model';
import { ASSUMPTIONS, DAYS_PER_MONTH, GB, PRICES } from './prices';

/** What the canary's bill depends on. */
export interface CanaryCostInput {
  /** `canary.everyMinutes`. */
  readonly everyMinutes: number;
  readonly maxWaitMinutes: number;
  /** How far back a check looks (`canaryLookbackMinutes`). */
  readonly lookbackMinutes: number;
  readonly inventory: StackInventory;
  readonly measured: Measured;
  readonly executionClass: 'FLEX' | 'STANDARD';
}

/** Assumptions of the canary's lines (it has no benchmark of its own). */
export const CANARY_ASSUMPTIONS = {
  /** Bytes of one canary file: one JSON line. */
  fileBytes: 60,
  /** A check's time beyond its files (the listing, the metrics flush), and per file looked at (a HeadObject, two GetItems), ms. */
  checkBaseMs: 150,
  checkMsPerFile: 25,
  /** Its custom metrics (one `service` dimension each) and its alarms (each reading one metric). */
  metrics: 2,
  alarms: 2,
} as const;

/** The canary's month. */
export interface CanaryCost {
  readonly everyMinutes: number;
  readonly checksPerMonth: number;
  readonly filesPerMonth: number;
  /** Manifests its files make: one every `ceil(maxWaitMinutes / everyMinutes) * everyMinutes` minutes. */
  readonly manifestsPerMonth: number;
  readonly filesPerManifest: number;
  readonly run: GlueRun;
  readonly lines: readonly BillLine[];
  readonly monthlyUsd: number;
}

/** The canary's monthly bill. */
export function canaryCost(input: CanaryCostInput): CanaryCost {
  const { everyMinutes, inventory, measured } = input;
  const minutes = DAYS_PER_MONTH * 1440;
  const checksPerMonth = minutes / CANARY_CHECK_MINUTES;
  const filesPerMonth = minutes / everyMinutes;
  // A manifest opens with a file and is sealed maxWaitMinutes later; the files of the ticks until then join it.
  const filesPerManifest = Math.ceil(input.maxWaitMinutes / everyMinutes);
  const manifestsPerMonth = filesPerMonth / filesPerManifest;
  const filesLookedAt = Math.ceil(input.lookbackMinutes / everyMinutes);
  const run = glueRun(filesPerManifest, (filesPerManifest * CANARY_ASSUMPTIONS.fileBytes) / 1e6, inventory.glue, measured.glue);
  const cls = input.executionClass;

  const checkSeconds = (CANARY_ASSUMPTIONS.checkBaseMs + filesLookedAt * CANARY_ASSUMPTIONS.checkMsPerFile) / 1000;
  const builderSeconds = ASSUMPTIONS.builderInvocationOverheadMs / 1000 + measured.builder.handlerSecondsPerFile;
  const gbSeconds =
    checksPerMonth * checkSeconds * (inventory.sweeper.memoryMb / 1024) +
    filesPerMonth * builderSeconds * (inventory.builder.memoryMb / 1024);
  const lambdaUsd =
    ((checksPerMonth + filesPerMonth) / 1e6) * PRICES.lambdaPerMillionRequests + gbSeconds * PRICES.lambdaGbSecond[inventory.sweeper.arch];

  // A check lists its day prefix (a LIST, priced as a PUT) and heads each file of the look-back (a GET).
  const puts = checksPerMonth + filesPerMonth + manifestsPerMonth * (1 + ASSUMPTIONS.glueS3PutsPerRun + 1);
  const gets =
    checksPerMonth * filesLookedAt +
    filesPerMonth * (1 + ASSUMPTIONS.glueS3GetsPerFile) +
    manifestsPerMonth * (ASSUMPTIONS.glueS3GetsPerRun + (measured.successPath.tasksByService.s3 ?? 0));
  const s3Usd = (puts / 1000) * PRICES.s3PutPerThousand + (gets / 1000) * PRICES.s3GetPerThousand;

  const reads = checksPerMonth * filesLookedAt * 2 + filesPerMonth * measured.builder.readUnitsPerFile;
  const metaWrites = ASSUMPTIONS.metaWritesByHandlers + (measured.successPath.tasksByService.dynamodb ?? 0);
  const writes =
    filesPerMonth * measured.builder.writeUnitsPerFile.withSweep +
    manifestsPerMonth * metaWrites * ASSUMPTIONS.metaItemWriteUnits * (1 + ASSUMPTIONS.gsisPerMetaWrite);
  const dynamoUsd = (reads / 1e6) * PRICES.dynamoPerMillionReads + (writes / 1e6) * PRICES.dynamoPerMillionWrites;

  const logsGb =
    ((checksPerMonth + filesPerMonth) * ASSUMPTIONS.lambdaLogBytesPerInvocation +
      (inventory.glue.continuousLogging ? manifestsPerMonth * ASSUMPTIONS.glueLogBytesPerRun : 0)) /
    GB;
  const cloudWatchUsd =
    CANARY_ASSUMPTIONS.metrics * PRICES.metricMonth + CANARY_ASSUMPTIONS.alarms * PRICES.alarmMetricMonth + logsGb * PRICES.logsIngestGb;
  const sfnUsd = ((manifestsPerMonth * measured.successPath.transitions) / 1000) * PRICES.stepFunctionsPerThousandTransitions;
  // X-Ray samples the first request of each second: every check is traced.
  const xrayUsd = (checksPerMonth / 1e6) * PRICES.xrayPerMillionTraces;

  const lines: BillLine[] = [
    {
      service: 'Glue',
      usd: manifestsPerMonth * run.usd[cls],
      detail:
        `${n(manifestsPerMonth)} runs (${filesPerManifest} file${filesPerManifest === 1 ? '' : 's'} each) x ${run.workers} ${inventory.glue.workerType} ` +
        `x ${run.billedSeconds} s billed (1-min minimum) at $${PRICES.glueDpuHour[cls]}/DPU-h ${cls}`,
    },
    {
      service: 'Step Functions',
      usd: sfnUsd,
      detail: `${n(manifestsPerMonth)} executions x ${measured.successPath.transitions} transitions`,
    },
    {
      service: 'Lambda',
      usd: lambdaUsd,
      detail: `${n(checksPerMonth)} checks x ${n(checkSeconds * 1000)} ms (${filesLookedAt} files looked at) + ${n(filesPerMonth)} builder invocations`,
    },
    { service: 'S3 requests', usd: s3Usd, detail: `${n(puts)} PUT and LIST, ${n(gets)} GET and HEAD` },
    { service: 'DynamoDB', usd: dynamoUsd, detail: `${n(reads)} read units (the checks' GetItems), ${n(writes)} write units` },
    {
      service: 'CloudWatch',
      usd: cloudWatchUsd,
      detail: `${CANARY_ASSUMPTIONS.metrics} custom metrics, ${CANARY_ASSUMPTIONS.alarms} alarms, ${n(logsGb, 3)} GB of logs`,
    },
    { service: 'X-Ray', usd: xrayUsd, detail: `${n(checksPerMonth)} traces` },
  ];
  return {
    everyMinutes,
    checksPerMonth,
    filesPerMonth,
    manifestsPerMonth,
    filesPerManifest,
    run,
    lines,
    monthlyUsd: lines.reduce((sum, l) => sum + l.usd, 0),
  };
}

/** The canary's block of `pipeline cost`'s text output. */
export function renderCanaryCost(cost: CanaryCost): string {
  const rows = cost.lines.map((l) => `  ${l.service.padEnd(16)} $${n(l.usd, 2).padStart(8)}  ${l.detail}`);
  return [
    `Canary (canary.everyMinutes=${cost.everyMinutes}): $${n(cost.monthlyUsd, 2)} a month`,
    `  ${n(cost.filesPerMonth)} files, ${n(cost.manifestsPerMonth)} manifests, ${n(cost.checksPerMonth)} checks a month`,
    ...rows,
  ].join('\n');
}
