import type { Message } from '@aws-sdk/client-sqs';
import { processedReceipts, toSqsEvent } from '../../../local/poller';
import { scheduledEvent } from '../../../local/sweeper-timer';

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:pipeline-ingest-local';

function message(id: string, receiveCount = '1'): Message {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: `{"Records":[]}`,
    MD5OfBody: 'md5',
    Attributes: {
      ApproximateReceiveCount: receiveCount,
      SentTimestamp: '1700000000000',
      SenderId: 'S3',
      ApproximateFirstReceiveTimestamp: '1700000000001',
    },
    MessageAttributes: { origin: { DataType: 'String', StringValue: 'test' } },
  };
}

describe('toSqsEvent', () => {
  it('builds the records Lambda delivers for an SQS event source', () => {
    const event = toSqsEvent([message('a', '3')], QUEUE_ARN, 'us-east-1');

    expect(event.Records).toEqual([
      {
        messageId: 'a',
        receiptHandle: 'rh-a',
        body: '{"Records":[]}',
        attributes: {
          ApproximateReceiveCount: '3',
          SentTimestamp: '1700000000000',
          SenderId: 'S3',
          ApproximateFirstReceiveTimestamp: '1700000000001',
        },
        messageAttributes: {
          origin: { dataType: 'String', stringValue: 'test', binaryValue: undefined, stringListValues: [], binaryListValues: [] },
        },
        md5OfBody: 'md5',
        eventSource: 'aws:sqs',
        eventSourceARN: QUEUE_ARN,
        awsRegion: 'us-east-1',
      },
    ]);
  });
});

describe('processedReceipts', () => {
  const event = toSqsEvent([message('a'), message('b'), message('c')], QUEUE_ARN, 'us-east-1');

  it('keeps every record but those reported in batchItemFailures', () => {
    const done = processedReceipts(event, { batchItemFailures: [{ itemIdentifier: 'b' }] });

    expect(done.map((r) => r.receiptHandle)).toEqual(['rh-a', 'rh-c']);
  });

  it('treats a handler that returns nothing as a full success', () => {
    expect(processedReceipts(event, undefined)).toHaveLength(3);
  });
});

describe('scheduledEvent', () => {
  it('has the shape of an EventBridge schedule event', () => {
    const event = scheduledEvent('us-east-1', new Date('2026-11-23T10:00:00.123Z'));

    expect(event).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: '2026-11-23T10:00:00Z',
      region: 'us-east-1',
      detail: {},
    });
  });
});
