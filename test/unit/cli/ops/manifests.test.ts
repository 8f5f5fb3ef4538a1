import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { listManifests, outputPrefixes, parseStatus } from '../../../../cli/ops/manifests';
import { testContext } from '../fixtures';

describe('listManifests', () => {
  const ctx = testContext(undefined, new Date('2026-11-23T12:00:00Z'));
  const ddb = mockClient(ctx.ddb);

  beforeEach(() => ddb.reset());

  it('queries the byDay index once per day since the time, the first day bounded, never scanning', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':day': 'DAY#2026-11-22' } }).resolvesOnce({
      Items: [{ manifestId: 'orders-20261122-000001', status: 'FAILED', sk: 'META' }],
      LastEvaluatedKey: { pk: 'x' },
    });
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':day': 'DAY#2026-11-22' }, ExclusiveStartKey: { pk: 'x' } }).resolves({
      Items: [{ manifestId: 'orders-20261122-000002', status: 'FAILED', sk: 'META' }],
    });

    const found = await listManifests(ctx, { since: new Date('2026-11-21T18:00:00Z'), status: 'FAILED', dataset: 'orders' });

    const inputs = ddb.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(ddb.commandCalls(ScanCommand)).toHaveLength(0);
    expect(inputs.map((i) => i.ExpressionAttributeValues?.[':day'])).toEqual([
      'DAY#2026-11-21',
      'DAY#2026-11-22',
      'DAY#2026-11-22',
      'DAY#2026-11-23',
    ]);
    expect(inputs.every((i) => i.IndexName === 'byDay')).toBe(true);
    expect(inputs[0]).toMatchObject({
      KeyConditionExpression: '#pk = :day AND #sk >= :since',
      ExpressionAttributeNames: { '#pk': 'gsi1pk', '#sk': 'gsi1sk', '#dataset': 'dataset', '#status': 'status' },
      FilterExpression: '#dataset = :dataset AND #status = :status',
    });
    expect(inputs[0].ExpressionAttributeValues).toMatchObject({
      ':since': '2026-11-21T18:00:00.000Z',
      ':status': 'FAILED',
      ':dataset': 'orders',
    });
    expect(inputs[1].KeyConditionExpression).toBe('#pk = :day');
    expect(found.map((m) => m.manifestId)).toEqual(['orders-20261122-000001', 'orders-20261122-000002']);
  });
});

describe('listManifests with several statuses', () => {
  const ctx = testContext(undefined, new Date('2026-11-23T12:00:00Z'));
  const ddb = mockClient(ctx.ddb);

  beforeEach(() => ddb.reset());

  it('filters on any of them in one query per day', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    await listManifests(ctx, { since: new Date('2026-11-23T00:00:00Z'), statuses: ['FAILED', 'PARTIAL'] });

    const input = ddb.commandCalls(QueryCommand)[0].args[0].input;
    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
    expect(input.FilterExpression).toBe('#status IN (:status0, :status1)');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':status0': 'FAILED', ':status1': 'PARTIAL' });
  });

  it('with one status as well, asks for that one only, or for nothing when it is not among them', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });

    await listManifests(ctx, { since: new Date('2026-11-23T00:00:00Z'), statuses: ['FAILED', 'PARTIAL'], status: 'PARTIAL' });
    const none = await listManifests(ctx, { since: new Date('2026-11-23T00:00:00Z'), statuses: ['FAILED', 'PARTIAL'], status: 'RUNNING' });

    expect(ddb.commandCalls(QueryCommand)).toHaveLength(1);
    expect(ddb.commandCalls(QueryCommand)[0].args[0].input.FilterExpression).toBe('#status = :status');
    expect(none).toEqual([]);
  });
});

describe('parseStatus', () => {
  it('accepts a status in any case and names the allowed ones otherwise', () => {
    expect(parseStatus('failed')).toBe('FAILED');
    expect(() => parseStatus('broken')).toThrow('--state "broken" is not one of OPEN, SEALED, RUNNING, SUCCEEDED, PARTIAL, FAILED');
  });
});

describe('outputPrefixes', () => {
  const base = { manifestId: 'orders-20261123-000001', dataset: 'orders', ingestDate: '2026-11-23' } as const;
  const run = 'curated/orders/ingest_date=2026-11-23/manifest_id=orders-20261123-000001/run=20261123T100000Z-0a1b2c3d/';
  const quarantine = 'quarantine/orders/manifest_id=orders-20261123-000001/run=20261123T100000Z-0a1b2c3d/';

  it('names the run directories the record holds, not the manifest directory (which also holds other runs)', () => {
    const record = {
      ...base,
      status: 'SUCCEEDED' as const,
      lastRunStatus: 'FAILED' as const,
      outputLocation: `s3://cb/${run}`,
      quarantineLocation: `s3://cb/${quarantine}`,
    };
    expect(outputPrefixes(record, 'cb')).toEqual({ parquet: run, quarantine });
  });

  it('has none for a manifest whose only runs failed, and the manifest directory for a record from before run directories', () => {
    expect(outputPrefixes({ ...base, status: 'FAILED', lastRunStatus: 'FAILED' }, 'cb')).toBeUndefined();
    expect(outputPrefixes({ ...base, status: 'SUCCEEDED' }, 'cb')).toEqual({
      parquet: 'curated/orders/ingest_date=2026-11-23/manifest_id=orders-20261123-000001/',
      quarantine: 'quarantine/orders/manifest_id=orders-20261123-000001/',
    });
  });

  it('ignores a location in another bucket', () => {
    expect(
      outputPrefixes({ ...base, status: 'SUCCEEDED', lastRunStatus: 'SUCCEEDED', outputLocation: `s3://other/${run}` }, 'cb'),
    ).toBeUndefined();
  });
});
