import { describeLocalStack } from '../../../cli/commands/local';
import type { LocalStack } from '../../../contracts/local-stack';

describe('pipeline local start', () => {
  test('its hint signs the AWS CLI with the instance key from the stack file, as the emulator refuses any other', () => {
    const stack = {
      endpoint: 'http://127.0.0.1:4566',
      region: 'us-east-1',
      ingestBucket: 'pipeline-ingest-local',
      curatedBucket: 'pipeline-curated-local',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:convert-manifest-local',
      batchSize: 200,
      maxWaitSeconds: 60,
      outboxDir: '/repo/.local/outbox',
    } as unknown as LocalStack;

    const hint = describeLocalStack(stack, '/repo/.local');

    expect(hint).toContain(`export AWS_ACCESS_KEY_ID=$(node -p "require('/repo/.local/stack.json').accessKeyId")`);
    expect(hint).toContain(`AWS_SECRET_ACCESS_KEY=$(node -p "require('/repo/.local/stack.json').secretAccessKey")`);
    expect(hint.indexOf('export AWS_ACCESS_KEY_ID')).toBeLessThan(hint.indexOf('aws --endpoint-url'));
  });
});
