import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import { ConfigOverrides, PipelineConfig, resolveConfig, stackName } from '../../contracts/config';
import { PipelineStack } from '../../pipeline/pipeline-stack';

export const REPO_ROOT = path.join(__dirname, '..', '..');

/** The feature flags of cdk.json, so the tests build what `cdk synth` builds. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

export interface SynthesizedPipeline {
  readonly app: App;
  readonly stack: PipelineStack;
  readonly template: Template;
  readonly config: PipelineConfig;
}

/** Builds the stack as the app does, without esbuild bundling (`aws:cdk:bundling-stacks: []`) to keep synth fast. */
export function synthPipeline(overrides: ConfigOverrides = {}): SynthesizedPipeline {
  const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
  const config = resolveConfig(overrides);
  const stack = new PipelineStack(app, stackName(config), { config });
  return { app, stack, template: Template.fromStack(stack), config };
}

/** Every resource of a type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, { Properties: Record<string, any> }> {
  return template.findResources(type) as Record<string, { Properties: Record<string, any> }>;
}

/** Logical id of the resource of the construct at `constructPath` under the stack (`Storage/Ingest`), as the template has it. */
export function logicalIdAt(stack: Stack, constructPath: string): string {
  let node: IConstruct = stack;
  for (const id of constructPath.split('/')) node = node.node.findChild(id);
  const resource = (node.node.defaultChild ?? node) as CfnElement;
  return stack.resolve(resource.logicalId) as string;
}
