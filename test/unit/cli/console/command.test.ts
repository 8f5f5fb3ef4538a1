/** `pipeline console` against a deployed stack: the target it resolves, the URL it prints, the --host warning. */
import { Command } from 'commander';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { registerConsoleCommand } from '../../../../cli/commands/console';
import type { CliDeps } from '../../../../cli/commands/shared';
import type { TargetOptions } from '../../../../cli/target';
import { cloudTarget, testContext } from '../fixtures';

describe('pipeline console', () => {
  const ctx = testContext(cloudTarget);
  mockClient(ctx.ddb).on(QueryCommand).resolves({ Items: [] });
  mockClient(ctx.sqs).on(GetQueueAttributesCommand).resolves({ Attributes: {} });

  async function run(args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const asked: TargetOptions[] = [];
    const seen: { status: number; withToken: number } = { status: 0, withToken: 0 };
    const deps: CliDeps = {
      makeContext: async (opts) => {
        asked.push(opts);
        return ctx;
      },
      io: { out: (t) => out.push(t), err: (t) => err.push(t), stderrIsTTY: false },
    };
    const program = new Command('pipeline').exitOverride();
    // Served until the checks below are done, instead of until Ctrl-C.
    registerConsoleCommand(program, deps, async (urlWithToken) => {
      seen.status = (await fetch(urlWithToken.replace(/\?token=.*/, ''))).status;
      seen.withToken = (await fetch(urlWithToken, { redirect: 'manual' })).status;
    });
    await program.parseAsync(['node', 'pipeline', 'console', ...args]);
    return { out: out.join('\n'), err: err.join('\n'), asked, seen };
  }

  it('serves the deployed stack named on the command line, on 127.0.0.1, and prints its URL with the token', async () => {
    const result = await run(['--stack-name', 'IngestPipeline', '--port', '0']);

    expect(result.asked).toEqual([expect.objectContaining({ stackName: 'IngestPipeline' })]);
    expect(result.out).toMatch(
      /^Console of stack IngestPipeline \(eu-west-1\), read-only\. Open:\n {2}http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{43}\n/,
    );
    expect(result.err).toBe('console stopped');
    expect(result.seen).toEqual({ status: 401, withToken: 303 });
  });

  it('warns when told to listen beyond this machine', async () => {
    const result = await run(['--stack-name', 'IngestPipeline', '--port', '0', '--host', '0.0.0.0']);

    expect(result.err).toMatch(/^warning: listening on 0\.0\.0\.0: anyone who can reach this address and has the token/);
    expect(result.out).toMatch(/http:\/\/0\.0\.0\.0:\d+\/\?token=/);
  });
});
