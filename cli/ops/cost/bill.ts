/**
 * The monthly bill of a load, one function per service. Each takes the month's traffic ({@link Traffic}: runs,
 * files, invocations, requests, worked out once) and returns its line: the USD and how they follow.
 */
import { FILE_ITEM_TTL_SECONDS } from '../../../handlers/common/state-store';
import { formatNumber as n } from '../../format';
import { glueThroughput, type GlueThroughput } from './inputs/benchmarks';
import { EMITTED_METRICS } from './inputs/metrics';
import type { StackInventory } from './inputs/template';
import {
  batching,
  filesPerBuilderInvocation,
  glueRun,
  type Batching,
  type BillLine,
  type GlueRun,
  type Load,
  type Measured,
  type ModelInput,
  type MonthlyBill,
} from './model';
import { ASSUMPTIONS, DAYS_PER_MONTH, GB, MB, PRICES, SECONDS_PER_DAY } from './prices';

/** What a month at this load makes happen, shared by the services' lines. */
export interface Traffic {
  readonly load: Load;
  readonly inventory: StackInventory;
  readonly measured: Measured;
  readonly throughput: GlueThroughput;
  readonly month: number;
  readonly executionClass: 'FLEX' | 'STANDARD';
  readonly batching: Batching;
  readonly run: GlueRun;
  readonly runsPerMonth: number;
  readonly filesPerMonth: number;
  readonly builderFilesPerInvocation: number;
  readonly builderInvocations: number;
  readonly sweeperInvocations: number;
  /** S3 PUT and LIST requests, and GETs, of the month. */
  readonly s3Puts: number;
  readonly s3Gets: number;
}

export function traffic(input: ModelInput): Traffic {
  const { load, inventory, measured } = input;
  const b = batching(load);
  const throughput = glueThroughput(measured.glue);
  const runsPerMonth = b.manifestsPerDay * DAYS_PER_MONTH;
  const filesPerMonth = load.filesPerDay * DAYS_PER_MONTH;
  const builderFilesPerInvocation = filesPerBuilderInvocation(load.filesPerDay / SECONDS_PER_DAY, inventory);
  // The Parquet files of a run: its share of the manifest, in files of up to a share of the target size.
  const parquetFileMb = inventory.parquetTargetFileMb * ASSUMPTIONS.parquetFileShareOfTarget;
  const parquetFilesPerRun = Math.max(1, Math.ceil((b.filesPerManifest * load.mbPerFile * throughput.parquetShare) / parquetFileMb));
  return {
    load,
    inventory,
    measured,
    throughput,
    month: input.month ?? 1,
    executionClass: input.executionClass ?? inventory.glue.executionClass,
    batching: b,
    run: glueRun(b.filesPerManifest, b.filesPerManifest * load.mbPerFile, inventory.glue, measured.glue),
    runsPerMonth,
    filesPerMonth,
    builderFilesPerInvocation,
    builderInvocations: filesPerMonth / builderFilesPerInvocation,
    sweeperInvocations: (DAYS_PER_MONTH * 1440) / inventory.sweeper.everyMinutes,
    s3Puts: filesPerMonth + runsPerMonth * (1 + ASSUMPTIONS.glueS3PutsPerRun + parquetFilesPerRun),
    s3Gets:
      filesPerMonth * ASSUMPTIONS.glueS3GetsPerFile +
      runsPerMonth * (ASSUMPTIONS.glueS3GetsPerRun + (measured.successPath.tasksByService.s3 ?? 0)),
  };
}

/** Average of f(day) over the days of month `month` (day 1 = the first day of operation), f at each day's end. */
function averageOverMonth(month: number, f: (day: number) => number): number {
  let sum = 0;
  for (let d = (month - 1) * DAYS_PER_MONTH + 1; d <= month * DAYS_PER_MONTH; d++) sum += f(d - 0.5);
  return sum / DAYS_PER_MONTH;
}

/** X-Ray traces a day for invocations at `perSecond`: the reservoir, then the sampling rate. */
function tracesPerDay(perSecond: number): number {
  const sampled =
    Math.min(perSecond, ASSUMPTIONS.xrayReservoirPerSecond) +
    ASSUMPTIONS.xrayRate * Math.max(0, perSecond - ASSUMPTIONS.xrayReservoirPerSecond);
  return sampled * SECONDS_PER_DAY;
}

/** Glue: one run per manifest. */
export function glueLine(t: Traffic): BillLine {
  const { run, runsPerMonth, executionClass: cls } = t;
  const other = cls === 'FLEX' ? 'STANDARD' : 'FLEX';
  return {
    service: 'Glue',
    usd: runsPerMonth * run.usd[cls],
    detail:
      `${n(runsPerMonth)} runs x ${run.workers} ${t.inventory.glue.workerType} (${run.dpus} DPU) x ${run.billedSeconds} s billed ` +
      `(${n(run.seconds, 1)} s, 1-min minimum) at $${PRICES.glueDpuHour[cls]}/DPU-h ${cls}; ` +
      `${other} would be $${n(runsPerMonth * run.usd[other], 2)}`,
  };
}

/** The Data Catalog: requests of each run, a table per dataset and a partition per manifest, accumulating. */
export function catalogLine(t: Traffic): BillLine {
  const objects = t.load.datasets + t.batching.manifestsPerDay * DAYS_PER_MONTH * (t.month - 0.5);
  const requests = t.runsPerMonth * ASSUMPTIONS.glueCatalogRequestsPerRun;
  return {
    service: 'Glue Data Catalog',
    usd: (requests / 1e6) * PRICES.glueCatalogPerMillionRequests + (objects / 1e5) * PRICES.glueCatalogPer100kObjectMonth,
    detail: `${n(requests)} requests; ${n(objects)} objects on average (a table per dataset, a partition per manifest)`,
  };
}

/** Step Functions: the success path's transitions per execution. */
export function stepFunctionsLine(t: Traffic): BillLine {
  const path = t.measured.successPath;
  return {
    service: 'Step Functions',
    usd: ((t.runsPerMonth * path.transitions) / 1000) * PRICES.stepFunctionsPerThousandTransitions,
    detail: `${n(t.runsPerMonth)} executions x ${path.transitions} transitions (success path of the ASL)`,
  };
}

/** Lambda: the builder per batch of notifications, the sweeper on its schedule. */
export function lambdaLine(t: Traffic): BillLine {
  const { inventory, measured, builderInvocations, sweeperInvocations } = t;
  const bench = measured.builder;
  const builderSeconds = ASSUMPTIONS.builderInvocationOverheadMs / 1000 + t.builderFilesPerInvocation * bench.handlerSecondsPerFile;
  // Every sweep queries; the ones that seal a manifest (by timeout) also seal, write and start it.
  const sealSeconds = Math.max(0, bench.sweepSeconds - bench.idleSweepSeconds) / Math.max(1, bench.sweepSealedManifests);
  const sealsByTimeout = t.batching.sealedBy === 'timeout' ? t.runsPerMonth : 0;
  const sweeperSeconds = sweeperInvocations * bench.idleSweepSeconds + sealsByTimeout * sealSeconds;
  const gbSeconds = {
    builder: builderInvocations * builderSeconds * (inventory.builder.memoryMb / 1024),
    sweeper: sweeperSeconds * (inventory.sweeper.memoryMb / 1024),
  };
  return {
    service: 'Lambda',
    usd:
      ((builderInvocations + sweeperInvocations) / 1e6) * PRICES.lambdaPerMillionRequests +
      gbSeconds.builder * PRICES.lambdaGbSecond[inventory.builder.arch] +
      gbSeconds.sweeper * PRICES.lambdaGbSecond[inventory.sweeper.arch],
    detail:
      `builder ${n(builderInvocations)} invocations (${n(t.builderFilesPerInvocation, 2)} files each) x ${n(builderSeconds * 1000)} ms x ${inventory.builder.memoryMb} MB; ` +
      `sweeper ${n(sweeperInvocations)} (every ${inventory.sweeper.everyMinutes} min) x ${n(bench.idleSweepSeconds * 1000)} ms` +
      `${t.batching.sealedBy === 'timeout' ? ` + ${n(sealSeconds * 1000)} ms a manifest sealed` : ''} x ${inventory.sweeper.memoryMb} MB; ${n(gbSeconds.builder + gbSeconds.sweeper)} GB-s`,
  };
}

/** DynamoDB: measured units per file, plus the MANIFEST META writes the benchmark does not see; the items kept. */
export function dynamoLine(t: Traffic): BillLine {
  const { load, inventory, measured } = t;
  const bench = measured.builder;
  const metaWrites = ASSUMPTIONS.metaWritesByHandlers + (measured.successPath.tasksByService.dynamodb ?? 0);
  const metaUnitsPerManifest =
    metaWrites * ASSUMPTIONS.metaItemWriteUnits * (1 + ASSUMPTIONS.gsisPerMetaWrite) -
    ASSUMPTIONS.metaWritesByHandlers * ASSUMPTIONS.metaItemWriteUnits;
  const writeUnits = t.filesPerMonth * bench.writeUnitsPerFile.withSweep + t.runsPerMonth * metaUnitsPerManifest;
  const readUnits = t.filesPerMonth * bench.readUnitsPerFile + t.sweeperInvocations * ASSUMPTIONS.sweepReadUnits;
  const stored = bench.storedBytesPerFile;
  const kept = (kind: string) => (stored[kind] ?? 0) + (stored[kind] !== undefined ? ASSUMPTIONS.dynamoItemOverheadBytes : 0);
  // F# and META items are kept; FILE# items and idempotency records expire.
  const fileItemDays = FILE_ITEM_TTL_SECONDS / 86_400;
  const bytesAtDay = (day: number) =>
    load.filesPerDay *
    (day * (kept('MANIFEST# F#') + kept('MANIFEST# META') * (1 + inventory.stateTableGsis)) +
      Math.min(day, fileItemDays) * kept('FILE#') +
      Math.min(day, inventory.idempotencyTtlDays) * kept('idempotency'));
  const tableGb = averageOverMonth(t.month, bytesAtDay) / GB;
  return {
    service: 'DynamoDB',
    usd:
      (writeUnits / 1e6) * PRICES.dynamoPerMillionWrites +
      (readUnits / 1e6) * PRICES.dynamoPerMillionReads +
      tableGb * (PRICES.dynamoGbMonth + (inventory.pitrTables > 0 ? PRICES.dynamoPitrGbMonth : 0)),
    detail:
      `${n(bench.writeUnitsPerFile.withSweep, 2)} write units/file (measured) + ${n(metaUnitsPerManifest)}/manifest (META and its GSIs) = ${n(writeUnits / 1e6, 2)} M; ` +
      `${n(readUnits / 1e6, 2)} M read units; ${n(tableGb, 2)} GB stored with PITR`,
  };
}

/** SQS: S3's sends, the pollers' receives (empty ones included), the deletes. */
export function sqsLine(t: Traffic): BillLine {
  const polls = ASSUMPTIONS.sqsPollers * ((DAYS_PER_MONTH * SECONDS_PER_DAY) / ASSUMPTIONS.sqsLongPollSeconds);
  const requests = t.filesPerMonth + polls + 2 * t.builderInvocations;
  return {
    service: 'SQS',
    usd: (requests / 1e6) * PRICES.sqsPerMillionRequests,
    detail: `${n(t.filesPerMonth)} sends + ${n(polls)} long polls + ${n(2 * t.builderInvocations)} receives and deletes`,
  };
}

/** S3 requests: uploads, manifests, the job's reads and writes, the lifecycle's transitions. */
export function s3RequestsLine(t: Traffic): BillLine {
  const transitionsToIa = t.month * DAYS_PER_MONTH > t.inventory.ingestTransitionDays ? t.filesPerMonth : 0;
  return {
    service: 'S3 requests',
    usd:
      (t.s3Puts / 1000) * PRICES.s3PutPerThousand +
      (t.s3Gets / 1000) * PRICES.s3GetPerThousand +
      (transitionsToIa / 1000) * PRICES.s3TransitionPerThousand,
    detail: `${n(t.s3Puts)} PUT/LIST (uploads, manifests, Parquet, committer), ${n(t.s3Gets)} GET, ${n(transitionsToIa)} lifecycle transitions to IA`,
  };
}

/** GB a day of each kind of S3 storage. */
function storedPerDay(t: Traffic) {
  const raw = (t.load.filesPerDay * t.load.mbPerFile * MB) / GB;
  return {
    raw,
    parquet: raw * t.throughput.parquetShare,
    quarantine: raw * t.throughput.quarantinedLineShare * ASSUMPTIONS.quarantineBytesPerLineByte,
    manifests: (t.load.filesPerDay * ASSUMPTIONS.manifestBytesPerFile + t.batching.manifestsPerDay * ASSUMPTIONS.resultFileBytes) / GB,
    accessLogs: (((t.s3Puts + t.s3Gets) / DAYS_PER_MONTH) * ASSUMPTIONS.accessLogBytesPerRequest) / GB,
  };
}

/** USD of S3 storage in month `month`: raw kept (Standard, then IA), Parquet, quarantine, manifests, access logs. */
export function s3StorageUsd(t: Traffic, month: number): number {
  const g = storedPerDay(t);
  const ia = t.inventory.ingestTransitionDays;
  return averageOverMonth(
    month,
    (day) =>
      g.raw * Math.min(day, ia) * PRICES.s3StandardGbMonth +
      g.raw * Math.max(0, day - ia) * PRICES.s3InfrequentGbMonth +
      (g.parquet + g.quarantine + g.manifests) * day * PRICES.s3StandardGbMonth +
      g.accessLogs * Math.min(day, t.inventory.accessLogRetentionDays || day) * PRICES.s3StandardGbMonth,
  );
}

export function s3StorageLine(t: Traffic): BillLine {
  const g = storedPerDay(t);
  const ia = t.inventory.ingestTransitionDays;
  return {
    service: 'S3 storage',
    usd: s3StorageUsd(t, t.month),
    detail:
      `raw ${n(g.raw * DAYS_PER_MONTH)} GB a month kept (Standard ${Number.isFinite(ia) ? `${ia} days, then IA` : 'always'}), ` +
      `Parquet ${n(g.parquet * DAYS_PER_MONTH, 1)} GB, quarantine ${n(g.quarantine * DAYS_PER_MONTH, 2)} GB, manifests and access logs ${n((g.manifests + g.accessLogs) * DAYS_PER_MONTH, 2)} GB; average held in month ${t.month}`,
  };
}

/** CloudWatch Logs: the Lambdas, the state machine, Glue's continuous logging. */
export function logsLine(t: Traffic): BillLine {
  const { inventory, runsPerMonth } = t;
  const lambdaGb = ((t.builderInvocations + t.sweeperInvocations) * ASSUMPTIONS.lambdaLogBytesPerInvocation) / GB;
  const sfnGb =
    inventory.stateMachine.logLevel === 'ALL'
      ? (runsPerMonth * (2 * t.measured.successPath.transitions + 2) * ASSUMPTIONS.sfnLogBytesPerEvent) / GB
      : 0;
  const glueGb = inventory.glue.continuousLogging ? (runsPerMonth * ASSUMPTIONS.glueLogBytesPerRun) / GB : 0;
  const ingested = lambdaGb + sfnGb + glueGb;
  const held = ingested * Math.min(t.month, inventory.logRetentionDays / DAYS_PER_MONTH);
  return {
    service: 'CloudWatch Logs',
    usd: ingested * PRICES.logsIngestGb + held * PRICES.logsStoreGbMonth,
    detail: `${n(ingested, 2)} GB ingested (Lambda ${n(lambdaGb, 2)}, state machine ${n(sfnGb, 2)}, Glue ${n(glueGb, 2)}), ${n(held, 2)} GB held (${inventory.logRetentionDays}-day retention)`,
  };
}

/** CloudWatch metrics, alarms, dashboards. */
export function metricsLine(t: Traffic): BillLine {
  const { inventory } = t;
  const customMetrics = EMITTED_METRICS.reduce((sum, m) => sum + m.services.length, 0);
  return {
    service: 'CloudWatch metrics, alarms, dashboard',
    usd:
      customMetrics * PRICES.metricMonth + inventory.alarmMetrics * PRICES.alarmMetricMonth + inventory.dashboards * PRICES.dashboardMonth,
    detail: `${customMetrics} custom metrics (EMF, upper bound: each counted every hour), ${inventory.alarms} alarms reading ${inventory.alarmMetrics} metrics, ${inventory.dashboards} dashboard`,
  };
}

/** KMS: the customer managed keys and their requests. */
export function kmsLine(t: Traffic): BillLine {
  const { inventory } = t;
  const requests =
    t.runsPerMonth * ASSUMPTIONS.glueKmsRequestsPerRun + inventory.tables * ASSUMPTIONS.dynamoKmsRequestsPerTableHour * 24 * DAYS_PER_MONTH;
  return {
    service: 'KMS',
    usd: inventory.kmsKeys * PRICES.kmsKeyMonth + (requests / 1e4) * PRICES.kmsPer10kRequests,
    detail: `${inventory.kmsKeys} keys (Glue logs, alerts topic), ${n(requests)} requests`,
  };
}

/** SNS: one email per failed or partial manifest, and the alarms'. */
export function snsLine(t: Traffic): BillLine {
  const messages = t.runsPerMonth * ASSUMPTIONS.alertShare + ASSUMPTIONS.alarmMessagesPerMonth;
  return {
    service: 'SNS',
    usd: (messages / 1e6) * PRICES.snsPerMillionPublishes + (messages / 1e5) * PRICES.snsPer100kEmails,
    detail: `${n(messages)} alert emails (${ASSUMPTIONS.alertShare * 100}% of manifests fail or end partial, ${ASSUMPTIONS.alarmMessagesPerMonth} alarm changes)`,
  };
}

/** X-Ray: active tracing of both Lambdas and the state machine. */
export function xrayLine(t: Traffic): BillLine {
  const { inventory } = t;
  const perSecond = (perMonth: number) => perMonth / (DAYS_PER_MONTH * SECONDS_PER_DAY);
  const traces =
    DAYS_PER_MONTH *
    ((inventory.builder.tracing ? tracesPerDay(perSecond(t.builderInvocations)) : 0) +
      (inventory.sweeper.tracing ? tracesPerDay(perSecond(t.sweeperInvocations)) : 0) +
      (inventory.stateMachine.tracing ? tracesPerDay(perSecond(t.runsPerMonth)) : 0));
  return {
    service: 'X-Ray',
    usd: (traces / 1e6) * PRICES.xrayPerMillionTraces,
    detail: `${n(traces)} traces (default sampling: 1 a second, then 5%)`,
  };
}

/**
 * VPC endpoints (`network=private` only): each interface endpoint's hours in each of its zones, and the GB they carry
 * (the job's logs, its catalog and KMS calls, the handlers' Step Functions calls); the gateway endpoints are free.
 */
export function vpcEndpointsLine(t: Traffic): BillLine | undefined {
  const e = t.inventory.vpcEndpoints;
  // Only in the private network: the public default's bill has no such line.
  if (e.interface === 0) return undefined;
  const hours = DAYS_PER_MONTH * 24;
  const calls =
    t.runsPerMonth *
      (ASSUMPTIONS.glueCatalogRequestsPerRun + ASSUMPTIONS.glueKmsRequestsPerRun + ASSUMPTIONS.endpointCallsPerManifestStart) +
    t.sweeperInvocations * ASSUMPTIONS.endpointCallsPerSweep;
  const gb = (t.runsPerMonth * ASSUMPTIONS.glueLogBytesPerRun + calls * ASSUMPTIONS.endpointBytesPerCall) / GB;
  return {
    service: 'VPC endpoints',
    usd: e.interfaceZones * hours * PRICES.privateLinkEndpointAzHour + gb * PRICES.privateLinkPerGb,
    detail:
      `${e.interface} interface endpoints in ${n(e.interfaceZones / Math.max(1, e.interface), 1)} zones each x ${hours} h at $${PRICES.privateLinkEndpointAzHour}/h; ` +
      `${n(gb, 2)} GB through them at $${PRICES.privateLinkPerGb}/GB; ${e.gateway} gateway endpoints (S3, DynamoDB) free`,
  };
}

/** EventBridge: the sweeper's schedule. */
export function eventBridgeLine(): BillLine {
  return { service: 'EventBridge', usd: 0, detail: `the sweeper's schedule: scheduled rules are free` };
}

/** One line of the bill from the month's traffic, or undefined where the stack has nothing of the kind. */
export type BillLineOf = (t: Traffic) => BillLine | undefined;

/**
 * The bill's lines, in the order printed: a part added to the stack adds its function here (one that returns
 * undefined where the stack it prices is not deployed, e.g. in another network mode).
 */
export const BILL_LINES: readonly BillLineOf[] = [
  glueLine,
  catalogLine,
  stepFunctionsLine,
  lambdaLine,
  dynamoLine,
  sqsLine,
  s3RequestsLine,
  s3StorageLine,
  logsLine,
  metricsLine,
  kmsLine,
  snsLine,
  xrayLine,
  eventBridgeLine,
  vpcEndpointsLine,
];

/** The bill of one month at this load: every line of `lines` the stack has, in order. */
export function monthlyBill(input: ModelInput, lines: readonly BillLineOf[] = BILL_LINES): MonthlyBill {
  const t = traffic(input);
  const billed = lines.flatMap((line) => {
    const l = line(t);
    return l === undefined ? [] : [l];
  });
  return {
    load: t.load,
    month: t.month,
    batching: t.batching,
    glueRun: t.run,
    glueExecutionClass: t.executionClass,
    lines: billed,
    monthlyUsd: billed.reduce((sum, l) => sum + l.usd, 0),
    storageGrowthUsdPerMonth: s3StorageUsd(t, t.month + 1) - s3StorageUsd(t, t.month),
  };
}
