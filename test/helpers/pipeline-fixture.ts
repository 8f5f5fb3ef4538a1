/** Builders and sweepers wired to the emulator the way the Lambda entries wire them to AWS. */
import { Logger } from '@aws-lambda-powertools/logger';
import type { SQSRecord } from 'aws-lambda';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../contracts/table-schema';
import { createManifestBuilder, type ManifestBuilder } from '../../handlers/manifest-builder/builder';
import type { AwsClients } from '../../handlers/common/aws-clients';
import type { MetricsSink, Unit } from '../../handlers/common/observability';
import type { HandlerSettings } from '../../contracts/lambda-environment';
import { sweep, type SweepReport } from '../../handlers/sweeper/sweep';
import { lambdaContext, sqsEvent } from './s3-events';

/** Keeps every published metric value. */
export class RecordingMetrics implements MetricsSink {
  readonly values = new Map<string, number[]>();
  published = 0;

  addMetric(name: string, _unit: Unit, value: number): void {
    this.values.set(name, [...(this.values.get(name) ?? []), value]);
  }

  publishStoredMetrics(): void {
    this.published += 1;
  }

  /** Sum of the values of `name`. */
  total(name: string): number {
    return (this.values.get(name) ?? []).reduce((a, b) => a + b, 0);
  }
}

/** A logger that writes nothing (Powertools' SILENT level). */
export function silentLogger(): Logger {
  return new Logger({ serviceName: 'test', logLevel: 'SILENT' });
}

/** A manifest builder on `clients`. */
export function builderOn(
  clients: AwsClients,
  settings: HandlerSettings,
  metrics = new RecordingMetrics(),
  clock?: () => Date,
): ManifestBuilder {
  return createManifestBuilder({ clients, settings, logger: silentLogger(), metrics, clock });
}

/** Runs one sweep on `clients` at `now`. */
export function sweepOn(
  clients: AwsClients,
  settings: HandlerSettings,
  now: Date,
  metrics = new RecordingMetrics(),
  clock?: () => Date,
): Promise<SweepReport> {
  return sweep({ clients, settings, logger: silentLogger(), metrics, clock }, now);
}

/**
 * Delivers `records` as one Lambda invocation and returns the records SQS would deliver again (the reported
 * failures, or all of them when the invocation itself failed).
 */
export async function deliver(builder: ManifestBuilder, records: readonly SQSRecord[], remainingMs = 60_000): Promise<SQSRecord[]> {
  try {
    const response = await builder.handler(sqsEvent(records), lambdaContext(remainingMs));
    const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    return records.filter((r) => failed.has(r.messageId));
  } catch {
    return [...records];
  }
}

/** Delivers until SQS would have nothing left, as redelivery after the visibility timeout does. */
export async function deliverUntilDone(builder: ManifestBuilder, records: readonly SQSRecord[], maxRounds = 20): Promise<void> {
  let left = [...records];
  for (let round = 0; left.length > 0; round++) {
    if (round === maxRounds) throw new Error(`${left.length} messages still failing after ${maxRounds} deliveries`);
    left = await deliver(builder, left);
    if (left.length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Far enough after now for every open manifest to be due and every sealed one past the resume grace. */
export function afterMaxWait(settings: HandlerSettings): Date {
  return new Date(Date.now() + (settings.maxWaitMinutes + 5) * 60_000);
}

/**
 * Spreads `dataset`'s files over `shards` write shards from now on, as builders widening it under contention would
 * (docs/architecture.md, "Sharded open manifests"): builders made afterwards place files by key over that many.
 */
export async function spreadOver(clients: AwsClients, table: string, dataset: string, shards: number): Promise<void> {
  await DynamoDBDocumentClient.from(clients.dynamodb).send(
    new UpdateCommand({
      TableName: table,
      Key: keys.open(dataset),
      UpdateExpression: 'SET #shards = :n, #widest = :n',
      ExpressionAttributeNames: { '#shards': 'shards', '#widest': 'widest' },
      ExpressionAttributeValues: { ':n': shards },
    }),
  );
}
