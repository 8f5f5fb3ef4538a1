/**
 * End to end on the local mode: an execution that times out runs no Catch, so the state machine cannot record it.
 * The sweeper finds it in the running index, records the manifest FAILED with the reason, and sends one alert (I7).
 */
import { getManifest } from '../../cli/ops/manifests';
import { generateDataset } from '../../local/sample-data';
import { uploadIntoManifest, waitFor } from '../../local/scenario';
import { alertEmailsFor, outboxEmails, startInstance, upload, waitForExecution, type LocalInstance } from './support/local-instance';

jest.setTimeout(10 * 60_000);

describe('local mode: an execution that times out', () => {
  let instance: LocalInstance;
  const files = generateDataset({ dataset: 'clicks', files: 2, minLines: 3, maxLines: 5, seed: 17 });
  let manifestId: string;

  beforeAll(async () => {
    // Five seconds: a Glue run (a Spark JVM) takes longer than that just to start.
    instance = await startInstance({ batchSize: files.length, maxWaitSeconds: 60, executionTimeoutSeconds: 5, sweeperIntervalSeconds: 3 });
    ({ manifestId } = await uploadIntoManifest(instance, files[0]));
    await upload(instance, files.slice(1));
  });

  afterAll(async () => {
    await instance?.stop();
  });

  it('is recorded FAILED with States.Timeout by the sweeper, with exactly one alert', async () => {
    const executionArn = await waitFor(
      'the execution to start',
      async () => (await getManifest(instance.ctx, manifestId)).executions?.[0],
      60_000,
    );
    const ended = await waitForExecution(instance, executionArn, 2 * 60_000);
    const record = await waitFor(
      'the sweeper to record the timeout',
      async () => {
        const m = await getManifest(instance.ctx, manifestId);
        return m.status === 'FAILED' ? m : undefined;
      },
      2 * 60_000,
    );
    const emails = await alertEmailsFor(instance, manifestId);
    // Later sweeps find the record final: no second alert.
    await new Promise((resolve) => setTimeout(resolve, 8_000));

    expect(ended.status).toBe('TIMED_OUT');
    expect(record.error).toBe('States.Timeout');
    expect(record.failedState).toBe('Convert');
    expect(record.runningPk).toBeUndefined();
    expect(outboxEmails(instance).filter((e) => e.text.includes(manifestId))).toHaveLength(1);
    expect(emails[0].text).toContain('Error: States.Timeout');
    expect(emails[0].text).toContain(`npx pipeline replay ${manifestId}`);
  });
});
