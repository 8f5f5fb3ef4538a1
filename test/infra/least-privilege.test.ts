/**
 * What each role of the synthesized stack may do (issue: least privilege), read from the template: explicit actions,
 * the state table's items by key prefix, the Glue script by its key, listings limited to the ingest prefix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { keys, STATE_TABLE_PREFIXES } from '../../contracts/table-schema';
import { REPO_ROOT, SynthesizedPipeline, logicalIdAt, resourcesOf, synthPipeline } from './synth';

let pipeline: SynthesizedPipeline;
let template: Template;
beforeAll(() => {
  pipeline = synthPipeline({ alertEmail: 'ops@example.com' });
  template = pipeline.template;
});

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

const asList = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);
const at = (constructPath: string) => logicalIdAt(pipeline.stack, constructPath);

function statementsOfRole(roleId: string): Statement[] {
  return Object.values(resourcesOf(template, 'AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(`"${roleId}"`))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

function roleOf(resourcePath: string): string {
  const props = template.toJSON().Resources[at(resourcePath)].Properties;
  return (props.Role ?? props.RoleArn)['Fn::GetAtt'][0];
}

/** Statements that allow an action on a resource whose text mentions `resourceId`. */
function allowsOn(statements: Statement[], resourceId: string): Statement[] {
  return statements.filter((s) => s.Effect === 'Allow' && JSON.stringify(s.Resource).includes(`"${resourceId}"`));
}

const actionsOf = (statements: Statement[]) => new Set(statements.flatMap((s) => asList(s.Action)));

/** Every role's statements, by role logical id. */
function everyRole(): Record<string, Statement[]> {
  const roles = Object.keys(resourcesOf(template, 'AWS::IAM::Role'));
  return Object.fromEntries(roles.map((id) => [id, statementsOfRole(id)]));
}

describe('the Glue job', () => {
  test("reads its script, its package and its line check jar by those objects' keys only: no listing, no other object of the asset bucket", () => {
    const job = template.toJSON().Resources[at('ConversionWorkflow/Job')].Properties;
    const scriptLocation = JSON.stringify(job.Command.ScriptLocation);
    const objectKey = /\/([0-9a-f]{64}\.py)"/.exec(scriptLocation)![1];
    // `.zip` here, where bundling is skipped (the module's sources staged as they are); `.jar` in a synth for a
    // deploy, which test/infra/fresh-clone.test.ts runs.
    const jarKey = /\/([0-9a-f]{64}\.(?:jar|zip))"/.exec(JSON.stringify(job.DefaultArguments['--extra-jars']))![1];
    const packageKey = /\/([0-9a-f]{64}\.zip)"/.exec(JSON.stringify(job.DefaultArguments['--extra-py-files']))![1];
    const onAssets = statementsOfRole(roleOf('ConversionWorkflow/Job')).filter((s) =>
      JSON.stringify(s.Resource).includes('cdk-hnb659fds-assets'),
    );

    expect(onAssets).toHaveLength(3);
    for (const statement of onAssets) expect(asList(statement.Action)).toEqual(['s3:GetObject']);
    const resources = onAssets.flatMap((s) => asList(s.Resource)).map((r) => JSON.stringify(r));
    expect(resources).toHaveLength(3);
    for (const key of [objectKey, jarKey, packageKey]) expect(resources.find((r) => r.includes(`/${key}"`))).toBeDefined();
    for (const resource of resources) expect(resource).not.toContain('*');
    // The key is the script's: the staged asset holds glue-scripts/ndjson_to_parquet.py.
    const staged = fs.readFileSync(path.join(pipeline.app.outdir, `asset.${objectKey.replace(/\.py$/, '')}.py`), 'utf8');
    expect(staged).toBe(fs.readFileSync(path.join(REPO_ROOT, 'glue-scripts', 'ndjson_to_parquet.py'), 'utf8'));
  });

  test('lists the ingest bucket only under the ingest prefix, and no role of the stack lists it otherwise', () => {
    const ingest = at('Storage/Ingest');
    for (const [roleId, statements] of Object.entries(everyRole())) {
      const listing = allowsOn(statements, ingest).filter((s) => asList(s.Action).some((a) => a.startsWith('s3:List')));
      for (const statement of listing) {
        expect({ roleId, condition: statement.Condition }).toEqual({ roleId, condition: { StringLike: { 's3:prefix': ['incoming/*'] } } });
        expect(statement.Resource).toEqual({ 'Fn::GetAtt': [ingest, 'Arn'] });
      }
    }
    const jobListing = allowsOn(statementsOfRole(roleOf('ConversionWorkflow/Job')), ingest).filter((s) =>
      asList(s.Action).includes('s3:ListBucketVersions'),
    );
    expect(jobListing).toHaveLength(1);
  });

  test('the prefix condition follows ingestPrefix', () => {
    const custom = synthPipeline({ ingestPrefix: 'drop/' });
    const ingest = logicalIdAt(custom.stack, 'Storage/Ingest');
    const statements = Object.values(resourcesOf(custom.template, 'AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    const listing = allowsOn(statements, ingest).filter((s) => asList(s.Action).includes('s3:ListBucket'));
    expect(listing.map((s) => s.Condition)).toEqual([{ StringLike: { 's3:prefix': ['drop/*'] } }]);
  });

  test('explicit actions only: no action wildcard, no tagging, retention or legal-hold writes', () => {
    const actions = [...actionsOf(statementsOfRole(roleOf('ConversionWorkflow/Job')))];
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(actions.filter((a) => /Tagging|Retention|LegalHold|DeleteObjectVersion|PutBucket/.test(a))).toEqual([]);
  });
});

describe('the builder and the sweeper', () => {
  const stateTable = () => at('StateTables/StateTable');

  /** The statement on the capacity slots and the start queue, which the builder and the sweeper both have. */
  const SLOTS_AND_QUEUE = {
    'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [STATE_TABLE_PREFIXES.slots, STATE_TABLE_PREFIXES.queue] },
  };
  const isSlotsAndQueue = (s: { Condition?: unknown }) => JSON.stringify(s.Condition) === JSON.stringify(SLOTS_AND_QUEUE);

  test('the builder and the sweeper take slots and use the start queue by those two keys only, deleting only there', () => {
    for (const fn of ['ManifestBuilder/Builder', 'Sweeper/Function']) {
      const statements = allowsOn(statementsOfRole(roleOf(fn)), stateTable()).filter(isSlotsAndQueue);
      expect(statements).toHaveLength(1);
      expect(actionsOf(statements)).toEqual(
        new Set(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query']),
      );
      expect(statements[0].Resource).toEqual({ 'Fn::GetAtt': [stateTable(), 'Arn'] });
    }
  });

  test('the builder reads and writes its four kinds of state item, by key prefix; it never scans, deletes them or writes in batches', () => {
    const statements = allowsOn(statementsOfRole(roleOf('ManifestBuilder/Builder')), stateTable()).filter((s) => !isSlotsAndQueue(s));

    expect(statements).toHaveLength(1);
    expect(actionsOf(statements)).toEqual(new Set(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']));
    expect(statements[0].Resource).toEqual({ 'Fn::GetAtt': [stateTable(), 'Arn'] });
    expect(statements[0].Condition).toEqual({
      'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['OPEN#*', 'FILE#*', 'MANIFEST#*', 'REJECTED#*'] },
    });
  });

  test('the sweeper reads, updates and deletes OPEN# and MANIFEST# items and queries the pending and running indexes, nothing else', () => {
    const statements = allowsOn(statementsOfRole(roleOf('Sweeper/Function')), stateTable()).filter((s) => !isSlotsAndQueue(s));
    const onTable = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [stateTable(), 'Arn'] }));
    const onIndexes = statements.filter((s) => s !== onTable[0]);

    expect(onTable).toHaveLength(1);
    expect(actionsOf(onTable)).toEqual(new Set(['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query']));
    expect(onTable[0].Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['OPEN#*', 'MANIFEST#*'] } });
    expect(onIndexes).toHaveLength(1);
    expect(asList(onIndexes[0].Action)).toEqual(['dynamodb:Query']);
    const indexes = asList(onIndexes[0].Resource).map((r) => JSON.stringify(r));
    expect(indexes.map((r) => /\/index\/([a-z]+)"/.exec(r)![1]).sort()).toEqual(['alerts', 'pending', 'running']);
  });

  test('only the sweeper may delete a manifest, pointer, file or rejection item; no role may scan or batch-write the state table', () => {
    for (const [roleId, statements] of Object.entries(everyRole())) {
      const actions = actionsOf(allowsOn(statements, stateTable()).filter((s) => !isSlotsAndQueue(s)));
      expect({ roleId, deletes: actions.has('dynamodb:DeleteItem') }).toEqual({ roleId, deletes: roleId === roleOf('Sweeper/Function') });
      for (const forbidden of ['dynamodb:Scan', 'dynamodb:BatchWriteItem', 'dynamodb:*']) expect(actions.has(forbidden)).toBe(false);
    }
  });

  test('the state machine updates MANIFEST# items and the slots item only', () => {
    const statements = allowsOn(statementsOfRole(roleOf('ConversionWorkflow/StateMachine')), stateTable());
    expect(statements).toEqual([
      expect.objectContaining({
        Action: 'dynamodb:UpdateItem',
        Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['MANIFEST#*'] } },
      }),
      expect.objectContaining({
        Action: 'dynamodb:UpdateItem',
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['SLOTS'] } },
      }),
    ]);
  });

  test('every item key the handlers and the state machine write falls under the prefixes their roles are granted', () => {
    const granted = (resourcePath: string) =>
      allowsOn(statementsOfRole(roleOf(resourcePath)), stateTable()).flatMap((s) =>
        asList((s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []) as string[]),
      );
    const matches = (pk: string, patterns: string[]) => patterns.some((p) => pk.startsWith(p.replace(/\*$/, '')));
    // The builder's items (state-store.ts: openManifest, commitFile, widen, putRejected, seal, recordExecution), every write shard's pointer included.
    for (const pk of [
      keys.open('orders').pk,
      keys.openShard('orders', 3).pk,
      keys.file('b', 'k', 'e').pk,
      keys.manifest('m').pk,
      keys.manifestFile('m', 'k', 'e').pk,
      keys.rejected('b', 'k').pk,
    ]) {
      expect({ pk, ok: matches(pk, granted('ManifestBuilder/Builder')) }).toEqual({ pk, ok: true });
    }
    // The sweeper's (seal, discardEmpty, narrow, recordExecution, recordEndedExecution, listManifestFiles).
    for (const pk of [keys.open('orders').pk, keys.openShard('orders', 3).pk, keys.manifest('m').pk])
      expect(matches(pk, granted('Sweeper/Function'))).toBe(true);
    for (const pk of [keys.file('b', 'k', 'e').pk, keys.rejected('b', 'k').pk])
      expect(matches(pk, granted('Sweeper/Function'))).toBe(false);
    // The capacity slots and the start queue (takeSlot, releaseSlot, enqueue, dequeue): the builder's and the sweeper's.
    for (const fn of ['ManifestBuilder/Builder', 'Sweeper/Function']) {
      const exact = allowsOn(statementsOfRole(roleOf(fn)), stateTable()).flatMap((s) =>
        asList((s.Condition?.['ForAllValues:StringEquals']?.['dynamodb:LeadingKeys'] ?? []) as string[]),
      );
      for (const pk of [keys.slots().pk, keys.queueEntry(1, '2026-11-23T00:00:00.000Z', 'm').pk]) expect(exact).toContain(pk);
    }
    // The ASL's: every DynamoDB task builds its key as MANIFEST#<id>, but the give-back of the slot (SLOTS).
    const asl = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'state-machines', 'convert-manifest.asl.json'), 'utf8'));
    const dynamoTasks = Object.values(asl.States as Record<string, any>).filter((state) => String(state.Resource).includes(':dynamodb:'));
    const aslKeys = dynamoTasks
      .filter((state) => state.Parameters.Key.pk.S !== keys.slots().pk)
      .map((state) => state.Parameters.Key.pk['S.$'] as string);
    expect(aslKeys.length).toBeGreaterThan(0);
    expect(dynamoTasks.length - aslKeys.length).toBe(3);
    for (const key of aslKeys) expect(key).toBe(`States.Format('${STATE_TABLE_PREFIXES.manifest}{}', $.manifestId)`);
  });

  test('the idempotency table: the builder only, its own keys only', () => {
    const table = at('StateTables/IdempotencyTable');
    for (const [roleId, statements] of Object.entries(everyRole())) {
      const onTable = allowsOn(statements, table);
      if (roleId !== roleOf('ManifestBuilder/Builder')) {
        expect({ roleId, onTable }).toEqual({ roleId, onTable: [] });
        continue;
      }
      expect(onTable).toHaveLength(1);
      expect(actionsOf(onTable)).toEqual(new Set(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem']));
      expect(onTable[0].Condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['manifest-builder#*'] } });
    }
  });

  test('both write manifest files with s3:PutObject alone, and neither may write a result file nor an outcome document', () => {
    const curated = at('Storage/Curated');
    for (const fn of ['ManifestBuilder/Builder', 'Sweeper/Function']) {
      const statements = statementsOfRole(roleOf(fn));
      const onCurated = allowsOn(statements, curated);
      expect(onCurated).toEqual([
        expect.objectContaining({
          Action: 's3:PutObject',
          Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [curated, 'Arn'] }, '/manifests/*']] },
        }),
      ]);
      // Neither the result file nor the outcome document can be forged by a Lambda.
      expect(statements).toContainEqual(
        expect.objectContaining({
          Effect: 'Deny',
          Action: 's3:PutObject',
          Resource: [
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [curated, 'Arn'] }, '/manifests/*.outcome.json']] },
            { 'Fn::Join': ['', [{ 'Fn::GetAtt': [curated, 'Arn'] }, '/manifests/*.result.json']] },
          ],
        }),
      );
      const actions = [...actionsOf(statements)];
      expect(actions.filter((a) => /Tagging|Retention|LegalHold|Abort|\*/.test(a))).toEqual([]);
    }
  });

  test('publishing alerts takes sns:Publish and a data key of the topic key, no data-key wildcard', () => {
    const topicKey = at('Alerting/TopicKey');
    for (const resourcePath of ['Sweeper/Function', 'ConversionWorkflow/StateMachine']) {
      const onKey = allowsOn(statementsOfRole(roleOf(resourcePath)), topicKey);
      expect(actionsOf(onKey)).toEqual(new Set(['kms:GenerateDataKey', 'kms:Decrypt']));
    }
    expect(allowsOn(statementsOfRole(roleOf('ManifestBuilder/Builder')), topicKey)).toEqual([]);
  });
});
