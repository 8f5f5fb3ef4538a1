/**
 * The local mode's stand-in for Lambda's SQS event source mapping: receives S3 notifications from the ingest
 * queue in batches, calls the manifest builder's handler in-process with Lambda's SQS event shape, deletes the
 * records it processed and leaves those in `batchItemFailures` to come back after the visibility timeout (and
 * reach the DLQ after `maxReceiveCount` receives, through the queue's redrive policy).
 *
 * Run as its own process by the local mode: `tsx local/poller.ts --state-dir .local`.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { resolveConfig } from '../contracts/config';
import { lambdaContext, loadHandler, type LambdaHandler } from './lambda-host';
import { clientConfig, componentCredentials, localPaths, type LocalStack } from '../contracts/local-stack';
import { readStack } from './layout';
import { logLine, parseArgs, sleep } from './process-utils';

/** Options of {@link SqsPoller}. */
export interface PollerOptions {
  /** Most records in one invocation (SQS returns at most 10 per receive; more are gathered). @default 10; the local mode passes the stack's */
  readonly batchSize?: number;
  /** How long to gather records for one invocation once the first arrived, in ms. @default 1000; the local mode passes the stack's */
  readonly batchingWindowMs?: number;
  /** Long-poll wait of an idle receive, in seconds. @default 2 */
  readonly waitTimeSeconds?: number;
}

/** One invocation's outcome, as written to the log. */
export interface InvocationSummary {
  readonly records: number;
  readonly failed: number;
  readonly deleted: number;
  readonly durationMs: number;
  readonly error?: string;
}

/** Turns received SQS messages into the event Lambda delivers to an SQS-triggered function. */
export function toSqsEvent(messages: readonly Message[], queueArn: string, region: string): SQSEvent {
  return {
    Records: messages.map((m): SQSRecord => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body ?? '',
      attributes: {
        ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
        SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
        SenderId: m.Attributes?.SenderId ?? 'AIDAIENQZJOLO23YVJ4VO',
        ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
        ...(m.Attributes?.AWSTraceHeader ? { AWSTraceHeader: m.Attributes.AWSTraceHeader } : {}),
      },
      messageAttributes: toLambdaAttributes(m.MessageAttributes),
      md5OfBody: m.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: queueArn,
      awsRegion: region,
    })),
  };
}

function toLambdaAttributes(attrs: Record<string, MessageAttributeValue> | undefined): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attrs ?? {})) {
    out[name] = {
      dataType: value.DataType ?? 'String',
      stringValue: value.StringValue,
      binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString('base64') : undefined,
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return out;
}

/** Receipt handles to delete after an invocation: every record except those reported in `batchItemFailures`. */
export function processedReceipts(event: SQSEvent, response: SQSBatchResponse | void | undefined): SQSRecord[] {
  const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  return event.Records.filter((r) => !failed.has(r.messageId));
}

/** Polls the ingest queue and invokes the manifest builder's handler with each batch. */
export class SqsPoller {
  private stopping = false;
  private readonly batchSize: number;
  private readonly batchingWindowMs: number;
  private readonly waitTimeSeconds: number;

  constructor(
    private readonly sqs: SQSClient,
    private readonly stack: LocalStack,
    private readonly handler: LambdaHandler<SQSEvent, SQSBatchResponse | void>,
    options: PollerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 10;
    this.batchingWindowMs = options.batchingWindowMs ?? 1000;
    this.waitTimeSeconds = options.waitTimeSeconds ?? 2;
  }

  /** Asks the loop to end after the invocation in flight. */
  stop(): void {
    this.stopping = true;
  }

  /** Runs until {@link stop}; each invocation's summary goes to `onInvocation`. */
  async run(onInvocation: (summary: InvocationSummary) => void): Promise<void> {
    const queueArn = await this.queueArn();
    while (!this.stopping) {
      let messages: Message[];
      try {
        messages = await this.gather();
      } catch (err) {
        // The emulator restarting or busy: try again, as the event source mapping does.
        onInvocation({ records: 0, failed: 0, deleted: 0, durationMs: 0, error: errorName(err) });
        await sleep(1000);
        continue;
      }
      if (messages.length === 0) continue;
      onInvocation(await this.invoke(toSqsEvent(messages, queueArn, this.stack.region)));
    }
  }

  /** Gathers up to `batchSize` messages: waits for the first, then for the batching window at most. */
  async gather(): Promise<Message[]> {
    const batch: Message[] = [];
    let windowEnd = Infinity;
    while (batch.length < this.batchSize && !this.stopping) {
      const idle = batch.length === 0;
      const out = await this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.stack.ingestQueueUrl,
          MaxNumberOfMessages: Math.min(10, this.batchSize - batch.length),
          WaitTimeSeconds: idle ? this.waitTimeSeconds : 0,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
        }),
      );
      const received = out.Messages ?? [];
      batch.push(...received);
      if (batch.length === 0) return batch;
      if (windowEnd === Infinity) windowEnd = Date.now() + this.batchingWindowMs;
      if (Date.now() >= windowEnd) break;
      if (received.length === 0) await sleep(Math.min(200, windowEnd - Date.now()));
    }
    return batch;
  }

  /** One invocation: call the handler, delete what it processed, leave its failures for redelivery. */
  async invoke(event: SQSEvent): Promise<InvocationSummary> {
    const started = Date.now();
    let response: SQSBatchResponse | void;
    try {
      response = await this.handler(event, lambdaContext('manifest-builder', this.stack.region));
    } catch (err) {
      // As in Lambda: a handler that throws fails the whole batch; every record comes back.
      return {
        records: event.Records.length,
        failed: event.Records.length,
        deleted: 0,
        durationMs: Date.now() - started,
        error: errorName(err),
      };
    }
    const done = processedReceipts(event, response);
    for (let i = 0; i < done.length; i += 10) {
      const chunk = done.slice(i, i + 10);
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.stack.ingestQueueUrl,
          Entries: chunk.map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })),
        }),
      );
    }
    return {
      records: event.Records.length,
      failed: event.Records.length - done.length,
      deleted: done.length,
      durationMs: Date.now() - started,
    };
  }

  private async queueArn(): Promise<string> {
    const out = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: this.stack.ingestQueueUrl, AttributeNames: ['QueueArn'] }));
    return out.Attributes!.QueueArn!;
  }
}

function errorName(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const paths = localPaths(args['state-dir']);
  const stack = readStack(paths.stateDir);
  const config = resolveConfig({ batchSize: stack.batchSize });
  const handler = await loadHandler<SQSEvent, SQSBatchResponse | void>('manifest-builder', stack, config);
  // The event source mapping's settings, from the stack's construct (loaded here only: it pulls in the CDK).
  const mapping = await import('../pipeline/constructs/manifest-builder');
  // Lambda's event source mapping reads and deletes the queue's messages with the function's role
  // (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, "Execution role permissions"): the builder's key.
  const sqs = new SQSClient(clientConfig({ ...stack, ...componentCredentials(stack, 'manifest-builder') }));
  const poller = new SqsPoller(sqs, stack, handler, {
    batchSize: args['batch-size'] ? Number(args['batch-size']) : mapping.BUILDER_BATCH_SIZE,
    batchingWindowMs: args['window-ms'] ? Number(args['window-ms']) : mapping.BUILDER_BATCHING_WINDOW.toMilliseconds(),
  });
  process.on('SIGTERM', () => poller.stop());
  process.on('SIGINT', () => poller.stop());
  writeFileSync(path.join(paths.pidDir, 'poller.ready'), String(process.pid));
  logLine({ message: 'poller started', queueUrl: stack.ingestQueueUrl });
  await poller.run((summary) => logLine({ message: 'invocation', ...summary }));
  sqs.destroy();
  logLine({ message: 'poller stopped' });
}

if (require.main === module) {
  main().catch((err) => {
    logLine({ message: 'poller failed', error: errorName(err) });
    process.exit(1);
  });
}
