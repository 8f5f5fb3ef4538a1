import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { peekDlqs, redriveDlq, summariseBody } from '../../../../cli/ops/dlq';
import { cloudTarget, localTarget, testContext } from '../fixtures';

const s3Event = (keys: string[]) =>
  JSON.stringify({
    Records: keys.map((key) => ({ eventName: 'ObjectCreated:Put', s3: { bucket: { name: 'ingest-bucket' }, object: { key, size: 10 } } })),
  });

describe('summariseBody', () => {
  it('names the bucket and decoded keys of an S3 notification, at most three', () => {
    expect(summariseBody(s3Event(['incoming/orders/my+file%C3%A9.ndjson']))).toBe(
      'ObjectCreated:Put: ingest-bucket/incoming/orders/my fileé.ndjson',
    );
    // A key that does not decode (a stray %) is shown as it came, not refused.
    expect(summariseBody(s3Event(['incoming/orders/100%.ndjson']))).toBe('ObjectCreated:Put: ingest-bucket/incoming/orders/100%.ndjson');
    expect(summariseBody(s3Event(['a', 'b', 'c', 'd', 'e']))).toBe(
      'ObjectCreated:Put: ingest-bucket/a, ingest-bucket/b, ingest-bucket/c and 2 more',
    );
  });

  it('never shows the body of anything else, only its shape and size', () => {
    const secret = '{"card":"4111111111111111","name":"x"}';

    expect(summariseBody('this is not json, card 4111')).toBe('not JSON (27 bytes)');
    expect(summariseBody(secret)).toBe(`JSON object with fields card, name (${secret.length} bytes)`);
    expect(summariseBody(secret)).not.toContain('4111');
    expect(summariseBody('[1,2]')).toBe('JSON array, not an event (5 bytes)');
  });

  it('recognises S3 test events, EventBridge events and the Lambda error of an async DLQ message', () => {
    expect(summariseBody('{"Event":"s3:TestEvent","Bucket":"ingest-bucket"}')).toBe('s3:TestEvent for ingest-bucket');
    expect(
      summariseBody('{"detail-type":"Scheduled Event","source":"aws.events"}', {
        ErrorMessage: { DataType: 'String', StringValue: 'Task timed out' },
      }),
    ).toBe('Scheduled Event from aws.events (Lambda error: Task timed out)');
  });
});

describe('peekDlqs', () => {
  const ctx = testContext(cloudTarget);
  const sqs = mockClient(ctx.sqs);

  beforeEach(() => sqs.reset());

  it('reads up to n messages of each DLQ, summarises them and releases them at once', async () => {
    sqs
      .on(GetQueueAttributesCommand)
      .resolves({ Attributes: { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '0' } });
    sqs
      .on(ReceiveMessageCommand, { QueueUrl: cloudTarget.ingestDlqUrl })
      .resolvesOnce({
        Messages: [
          {
            MessageId: 'm1',
            ReceiptHandle: 'h1',
            Body: s3Event(['incoming/orders/a.ndjson']),
            Attributes: { ApproximateReceiveCount: '6', SentTimestamp: '1795000000000' },
          },
          { MessageId: 'm2', ReceiptHandle: 'h2', Body: 'garbage', Attributes: { ApproximateReceiveCount: '5' } },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(ReceiveMessageCommand, { QueueUrl: cloudTarget.sweeperDlqUrl }).resolves({ Messages: [] });
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [] });

    const peeks = await peekDlqs(ctx, 5);

    expect(peeks.map((p) => [p.queue, p.messages.length])).toEqual([
      ['ingest', 2],
      ['sweeper', 0],
    ]);
    expect(peeks[0].messages[0]).toEqual({
      messageId: 'm1',
      receiveCount: 6,
      sentAt: new Date(1795000000000).toISOString(),
      summary: 'ObjectCreated:Put: ingest-bucket/incoming/orders/a.ndjson',
      bodyBytes: expect.any(Number),
    });
    expect(peeks[0].messages[1].summary).toBe('not JSON (7 bytes)');
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand)[0].args[0].input.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'h1', VisibilityTimeout: 0 },
      { Id: '1', ReceiptHandle: 'h2', VisibilityTimeout: 0 },
    ]);
  });
});

describe('redriveDlq', () => {
  const dlqArn = 'arn:aws:sqs:eu-west-1:111122223333:ingest-dlq';

  it('uses StartMessageMoveTask in the cloud and reports how many moved', async () => {
    const ctx = testContext(cloudTarget);
    const sqs = mockClient(ctx.sqs);
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: dlqArn, ApproximateNumberOfMessages: '0' } });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [{ TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 3 }] })
      .resolves({ Results: [{ TaskHandle: 'task-1', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 7 }] });

    const result = await redriveDlq(ctx, { pollMs: 1 });

    expect(sqs.commandCalls(StartMessageMoveTaskCommand)[0].args[0].input).toEqual({ SourceArn: dlqArn });
    expect(result).toEqual({ method: 'message-move-task', moved: 7, failed: 0, remaining: 0, taskHandle: 'task-1' });
    expect(sqs.commandCalls(ReceiveMessageCommand)).toHaveLength(0);
  });

  it('reports a failed move task as a failure', async () => {
    const ctx = testContext(cloudTarget);
    const sqs = mockClient(ctx.sqs);
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: dlqArn } });
    sqs.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'task-1' });
    sqs.on(ListMessageMoveTasksCommand).resolves({ Results: [{ TaskHandle: 'task-1', Status: 'FAILED', FailureReason: 'AccessDenied' }] });

    await expect(redriveDlq(ctx, { pollMs: 1 })).rejects.toThrow('the message move task failed: AccessDenied');
  });

  it('moves by receive/send/delete in the local mode, deleting only what the ingest queue accepted', async () => {
    const ctx = testContext(localTarget);
    const sqs = mockClient(ctx.sqs);
    sqs
      .on(GetQueueAttributesCommand)
      .resolvesOnce({ Attributes: { ApproximateNumberOfMessages: '3' } })
      .resolves({ Attributes: { ApproximateNumberOfMessages: '1' } });
    sqs
      .on(ReceiveMessageCommand)
      .resolvesOnce({
        Messages: [
          { MessageId: 'a', ReceiptHandle: 'ha', Body: 'one' },
          { MessageId: 'b', ReceiptHandle: 'hb', Body: 'two' },
          { MessageId: 'c', ReceiptHandle: 'hc', Body: 'three' },
        ],
      })
      .resolves({ Messages: [] });
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [
        { Id: '0', MessageId: 'x', MD5OfMessageBody: '' },
        { Id: '2', MessageId: 'y', MD5OfMessageBody: '' },
      ],
      Failed: [{ Id: '1', Code: 'X', SenderFault: false }],
    });
    sqs.on(DeleteMessageBatchCommand).resolves({ Successful: [{ Id: '0' }, { Id: '2' }] });

    const result = await redriveDlq(ctx);

    expect(sqs.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(sqs.commandCalls(SendMessageBatchCommand)[0].args[0].input).toMatchObject({ QueueUrl: localTarget.ingestQueueUrl });
    expect(sqs.commandCalls(DeleteMessageBatchCommand)[0].args[0].input.Entries).toEqual([
      { Id: '0', ReceiptHandle: 'ha' },
      { Id: '2', ReceiptHandle: 'hc' },
    ]);
    expect(result).toMatchObject({ method: 'receive-send-delete', moved: 2, failed: 1, remaining: 1 });
    expect(result.note).toMatch(/does not implement StartMessageMoveTask/);
  });

  it('falls back to the loop where StartMessageMoveTask is not implemented', async () => {
    const ctx = testContext(cloudTarget);
    const sqs = mockClient(ctx.sqs);
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: dlqArn, ApproximateNumberOfMessages: '0' } });
    sqs.on(StartMessageMoveTaskCommand).rejects(Object.assign(new Error('unsupported'), { name: 'UnsupportedOperation' }));
    sqs.on(ReceiveMessageCommand).resolves({ Messages: [] });

    const result = await redriveDlq(ctx);

    expect(result).toMatchObject({ method: 'receive-send-delete', moved: 0 });
  });
});
