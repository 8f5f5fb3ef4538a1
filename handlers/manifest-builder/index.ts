/** Entry point of the manifest builder Lambda: wires the environment's settings and clients, nothing else. */
import { createAwsClients } from '../common/aws-clients';
import { createLogger, createMetrics } from '../common/observability';
import { loadSettings } from '../../contracts/lambda-environment';
import { createManifestBuilder } from './builder';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME || 'manifest-builder';

const builder = createManifestBuilder({
  clients: createAwsClients(),
  settings: loadSettings(),
  logger: createLogger(serviceName),
  metrics: createMetrics(serviceName),
});

export const processor = builder.processor;
export const handler = builder.handler;
