/** Entry point of the sweeper Lambda (scheduled every minute): wires the environment, runs one sweep. */
import type { Context } from 'aws-lambda';
import { PipelineError } from '../common/errors';
import { createAwsClients } from '../common/aws-clients';
import { createLogger, createMetrics } from '../common/observability';
import { loadSettings } from '../../contracts/lambda-environment';
import { sweep, type SweeperDeps } from './sweep';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'sweeper';
const logger = createLogger(serviceName);
const deps: SweeperDeps = { clients: createAwsClients(), settings: loadSettings(), logger, metrics: createMetrics(serviceName) };

export const handler = async (_event: unknown, context?: Context): Promise<void> => {
  if (context !== undefined) logger.addContext(context);
  // The run stops taking on work with a margin before the Lambda's timeout (what a step already began, it finishes).
  const budgetMs = context === undefined ? undefined : Math.max(5_000, context.getRemainingTimeInMillis() - 15_000);
  const report = await sweep({ ...deps, budgetMs }, new Date());
  // Failing the invocation makes the Lambda errors alarm fire; the next run retries the manifests.
  if (report.failed.length > 0) {
    throw new PipelineError(`Sweep failed for ${report.failed.length} manifest(s): ${report.failed.map((f) => f.manifestId).join(', ')}`);
  }
};
