import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, configFromContext, requireDeploySettings, stackName } from '../contracts/config';
import { PipelineStack } from './pipeline-stack';

const app = new App();
try {
  const config = configFromContext((key) => app.node.tryGetContext(key));
  requireDeploySettings(config);
  new PipelineStack(app, stackName(config), {
    config,
    description: 'NDJSON ingest pipeline: manifests of files converted to Parquet by Glue under Step Functions',
  });
  // Synth fails on any AwsSolutions finding that is not acknowledged with a reason next to its resource.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
