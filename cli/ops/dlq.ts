/**
 * The dead-letter queues: what is in them (a short summary of each message, never its body) and moving the
 * ingest DLQ's messages back to the ingest queue.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { decodeS3Key } from '../../handlers/domain/s3-event';
import { CliContext } from '../context';
import { CliError, UsageError } from '../errors';

/** Which DLQ: `ingest` holds S3 notifications the manifest builder failed on; `sweeper` failed sweeper runs. */
export type DlqName = 'ingest' | 'sweeper';

/** One message of a DLQ, summarised. */
export interface DlqMessage {
  readonly messageId: string;
  readonly receiveCount: number;
  readonly sentAt?: string;
  /** What the message is about (the S3 objects of a notification), without its body. */
  readonly summary: string;
  readonly bodyBytes: number;
}

/** A DLQ and the messages peeked from it. */
export interface DlqPeek {
  readonly queue: DlqName;
  readonly queueUrl: string;
  /** Approximate messages waiting (visible) and in flight, as SQS reports them. */
  readonly approximateVisible: number;
  readonly approximateInFlight: number;
  readonly messages: DlqMessage[];
}

/** The DLQs of the target: the ingest DLQ, and the sweeper's where the stack has one. */
export function dlqsOf(ctx: CliContext): { queue: DlqName; url: string }[] {
  const list: { queue: DlqName; url: string }[] = [{ queue: 'ingest', url: ctx.target.ingestDlqUrl }];
  if (ctx.target.sweeperDlqUrl) list.push({ queue: 'sweeper', url: ctx.target.sweeperDlqUrl });
  return list;
}

/** The key as S3 named it, by the builder's own decoder; a key that does not decode is shown as it came. */
function readableKey(key: string): string {
  try {
    return decodeS3Key(key);
  } catch {
    return key;
  }
}

/**
 * One line about a message body: the bucket and keys of an S3 notification, the kind of an EventBridge event,
 * or only its size and shape. The body itself is never shown: it can hold anything a producer sent.
 */
export function summariseBody(body: string | undefined, attributes: Message['MessageAttributes'] = {}): string {
  const size = Buffer.byteLength(body ?? '', 'utf8');
  const lambdaError = attributes?.ErrorCode?.StringValue ?? attributes?.ErrorMessage?.StringValue;
  const suffix = lambdaError ? ` (Lambda error: ${lambdaError.slice(0, 120)})` : '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return `not JSON (${size} bytes)${suffix}`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return `JSON ${Array.isArray(parsed) ? 'array' : typeof parsed}, not an event (${size} bytes)${suffix}`;
  }
  const obj = parsed as Record<string, unknown>;
  if (obj.Event === 's3:TestEvent') return `s3:TestEvent for ${typeof obj.Bucket === 'string' ? obj.Bucket : '?'}${suffix}`;
  if (Array.isArray(obj.Records)) {
    const objects = obj.Records.map((r) => {
      const rec = r as { eventName?: string; s3?: { bucket?: { name?: string }; object?: { key?: string } } };
      const bucket = rec.s3?.bucket?.name;
      const key = rec.s3?.object?.key;
      return bucket && key ? `${bucket}/${readableKey(key)}` : undefined;
    });
    const known = objects.filter((o): o is string => o !== undefined);
    if (known.length === 0) return `event with ${obj.Records.length} record(s), none naming an S3 object (${size} bytes)${suffix}`;
    const eventName = (obj.Records[0] as { eventName?: string }).eventName ?? 'S3 event';
    const shown = known.slice(0, 3).join(', ');
    const more = known.length > 3 ? ` and ${known.length - 3} more` : '';
    return `${eventName}: ${shown}${more}${suffix}`;
  }
  if (typeof obj['detail-type'] === 'string')
    return `${obj['detail-type']} from ${typeof obj.source === 'string' ? obj.source : '?'}${suffix}`;
  const fields = Object.keys(obj).slice(0, 5).join(', ');
  return `JSON object with fields ${fields || '(none)'} (${size} bytes)${suffix}`;
}

async function queueAttributes(ctx: CliContext, url: string): Promise<Record<string, string>> {
  const res = await ctx.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return res.Attributes ?? {};
}

/** Messages waiting (visible) and in flight in each DLQ, from the queues' attributes only (nothing received). */
export async function dlqDepths(ctx: CliContext): Promise<{ queue: DlqName; queueUrl: string; visible: number; inFlight: number }[]> {
  const out = [];
  for (const { queue, url } of dlqsOf(ctx)) {
    const attrs = await queueAttributes(ctx, url);
    out.push({
      queue,
      queueUrl: url,
      visible: Number(attrs.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(attrs.ApproximateNumberOfMessagesNotVisible ?? 0),
    });
  }
  return out;
}

/** How long peeked messages stay hidden while being read; they are released right after. */
const PEEK_VISIBILITY_SECONDS = 30;

/**
 * Reads up to `n` messages of each DLQ and releases them at once (visibility back to 0). Reading raises their
 * receive count; a DLQ has no redrive policy, so that moves nothing.
 */
export async function peekDlqs(ctx: CliContext, n: number, only?: DlqName): Promise<DlqPeek[]> {
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--peek takes a count of messages, got ${n}`);
  const out: DlqPeek[] = [];
  for (const { queue, url } of dlqsOf(ctx).filter((q) => only === undefined || q.queue === only)) {
    const attrs = await queueAttributes(ctx, url);
    const seen = new Map<string, Message>();
    const handles: { Id: string; ReceiptHandle: string }[] = [];
    while (seen.size < n) {
      const res = await ctx.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.min(10, n - seen.size),
          VisibilityTimeout: PEEK_VISIBILITY_SECONDS,
          WaitTimeSeconds: seen.size === 0 ? 1 : 0,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          MessageAttributeNames: ['All'],
        }),
      );
      const fresh = (res.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
      if (fresh.length === 0) break;
      for (const m of fresh) {
        seen.set(m.MessageId as string, m);
        if (m.ReceiptHandle) handles.push({ Id: String(handles.length), ReceiptHandle: m.ReceiptHandle });
      }
    }
    for (let i = 0; i < handles.length; i += 10) {
      await ctx.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: handles.slice(i, i + 10).map((h) => ({ ...h, VisibilityTimeout: 0 })),
        }),
      );
    }
    out.push({
      queue,
      queueUrl: url,
      approximateVisible: Number(attrs.ApproximateNumberOfMessages ?? 0),
      approximateInFlight: Number(attrs.ApproximateNumberOfMessagesNotVisible ?? 0),
      messages: [...seen.values()].map((m) => ({
        messageId: m.MessageId as string,
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 0),
        sentAt: m.Attributes?.SentTimestamp ? new Date(Number(m.Attributes.SentTimestamp)).toISOString() : undefined,
        summary: summariseBody(m.Body, m.MessageAttributes),
        bodyBytes: Buffer.byteLength(m.Body ?? '', 'utf8'),
      })),
    });
  }
  return out;
}

/** Options of {@link redriveDlq}. */
export interface RedriveDlqOptions {
  /** Move with receive/send/delete even where StartMessageMoveTask exists. @default false */
  readonly loop?: boolean;
  /** Return once the move task is started instead of waiting for it. @default false */
  readonly noWait?: boolean;
  /** How often to poll the move task, in ms. @default 2000 */
  readonly pollMs?: number;
  /** Longest wait for the move task, in ms. @default 600000 */
  readonly timeoutMs?: number;
}

/** What a DLQ redrive did. */
export interface RedriveDlqResult {
  readonly method: 'message-move-task' | 'receive-send-delete';
  /** Messages moved to the ingest queue; for a task not waited for, undefined. */
  readonly moved?: number;
  /** Messages that could not be moved (left in the DLQ). */
  readonly failed: number;
  /** Approximate messages left in the DLQ afterwards. */
  readonly remaining: number;
  readonly taskHandle?: string;
  /** Why the loop was used rather than StartMessageMoveTask. */
  readonly note?: string;
}

/** An error that means the endpoint does not implement StartMessageMoveTask (moto 5.2.5 answers HTTP 500 with HTML). */
function isNotImplemented(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return (
    ['UnsupportedOperation', 'InvalidAction', 'NotImplemented', 'UnknownOperationException'].includes(e?.name ?? '') ||
    (e?.name === 'SyntaxError' && (e.$metadata?.httpStatusCode ?? 0) >= 500)
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function moveTask(ctx: CliContext, dlqArn: string, opts: RedriveDlqOptions): Promise<RedriveDlqResult> {
  const started = await ctx.sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));
  const remainingNow = async () => Number((await queueAttributes(ctx, ctx.target.ingestDlqUrl)).ApproximateNumberOfMessages ?? 0);
  if (opts.noWait) {
    return { method: 'message-move-task', failed: 0, remaining: await remainingNow(), taskHandle: started.TaskHandle };
  }
  const deadline = Date.now() + (opts.timeoutMs ?? 600_000);
  for (;;) {
    const tasks = await ctx.sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlqArn, MaxResults: 10 }));
    const task = (tasks.Results ?? []).find((t) => t.TaskHandle === started.TaskHandle) ?? tasks.Results?.[0];
    if (task && task.Status !== 'RUNNING') {
      if (task.Status === 'FAILED') throw new CliError(`the message move task failed: ${task.FailureReason ?? 'no reason given'}`);
      return {
        method: 'message-move-task',
        moved: Number(task.ApproximateNumberOfMessagesMoved ?? 0),
        failed: 0,
        remaining: await remainingNow(),
        taskHandle: started.TaskHandle,
      };
    }
    if (Date.now() > deadline) {
      throw new CliError(
        `the message move task is still running after ${Math.round((opts.timeoutMs ?? 600_000) / 1000)}s (handle ${started.TaskHandle})`,
      );
    }
    await sleep(opts.pollMs ?? 2000);
  }
}

/**
 * Receive, send to the ingest queue, then delete: a message is deleted from the DLQ only once the ingest queue
 * has accepted it, so a crash can duplicate a notification (the builder is idempotent) but never lose one.
 * Bounded by the DLQ's size when it started, so messages that fail again and come back are not moved twice.
 */
async function receiveSendDelete(ctx: CliContext, note?: string): Promise<RedriveDlqResult> {
  const dlq = ctx.target.ingestDlqUrl;
  const limit = Number((await queueAttributes(ctx, dlq)).ApproximateNumberOfMessages ?? 0);
  let moved = 0;
  let failed = 0;
  let emptyReceives = 0;
  while (moved + failed < Math.max(limit, 1) && emptyReceives < 2) {
    const res = await ctx.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq,
        MaxNumberOfMessages: Math.min(10, Math.max(limit - moved - failed, 1)),
        VisibilityTimeout: 60,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = res.Messages ?? [];
    if (messages.length === 0) {
      emptyReceives += 1;
      continue;
    }
    const sent = await ctx.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: ctx.target.ingestQueueUrl,
        Entries: messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body ?? '',
          MessageAttributes: m.MessageAttributes && Object.keys(m.MessageAttributes).length > 0 ? m.MessageAttributes : undefined,
        })),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    failed += messages.length - ok.size;
    const toDelete = messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })).filter((e) => ok.has(e.Id));
    if (toDelete.length > 0) {
      const deleted = await ctx.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: dlq, Entries: toDelete }));
      // A copy that was sent but not deleted is still moved; it stays in the DLQ as a duplicate, reported as failed.
      failed += deleted.Failed?.length ?? 0;
      moved += toDelete.length;
    }
  }
  const remaining = Number((await queueAttributes(ctx, dlq)).ApproximateNumberOfMessages ?? 0);
  return { method: 'receive-send-delete', moved, failed, remaining, note };
}

/**
 * Moves the ingest DLQ's messages back to the ingest queue: StartMessageMoveTask in the cloud (SQS moves them
 * to the queue they came from), a receive/send/delete loop in the local mode, whose emulator does not
 * implement StartMessageMoveTask.
 */
export async function redriveDlq(ctx: CliContext, opts: RedriveDlqOptions = {}): Promise<RedriveDlqResult> {
  if (ctx.target.mode === 'local') {
    return receiveSendDelete(ctx, 'the local emulator does not implement StartMessageMoveTask: moved by receive/send/delete');
  }
  if (opts.loop) return receiveSendDelete(ctx);
  const dlqArn = (await queueAttributes(ctx, ctx.target.ingestDlqUrl)).QueueArn;
  if (!dlqArn) throw new CliError(`cannot read the ARN of ${ctx.target.ingestDlqUrl}`);
  try {
    return await moveTask(ctx, dlqArn, opts);
  } catch (err) {
    if (!isNotImplemented(err)) throw err;
    return receiveSendDelete(ctx, 'StartMessageMoveTask is not available on this endpoint: moved by receive/send/delete');
  }
}
