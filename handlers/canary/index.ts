/** Entry point of the canary Lambda (scheduled every five minutes when `canary.everyMinutes` is set): one check. */
import type { Context, ScheduledEvent } from 'aws-lambda';
import { createAwsClients } from '../common/aws-clients';
import { createLogger, createMetrics } from '../common/observability';
import { StateStore } from '../common/state-store';
import { loadCanarySettings } from '../../contracts/lambda-environment';
import { runCanary, type CanaryDeps } from './canary';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'canary';
const logger = createLogger(serviceName);
const settings = loadCanarySettings();
const clients = createAwsClients();
const deps: CanaryDeps = {
  s3: clients.s3,
  store: new StateStore(clients.dynamodb, settings.stateTable),
  settings,
  logger,
  metrics: createMetrics(serviceName),
};

export const handler = async (event: Partial<ScheduledEvent> | undefined, context?: Context): Promise<void> => {
  if (context !== undefined) logger.addContext(context);
  await runCanary(deps, event?.time);
};
