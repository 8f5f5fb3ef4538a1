import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Construct } from 'constructs';
import { IDEMPOTENCY_TABLE, STATE_TABLE, STATE_TABLE_INDEXES } from '../../contracts/table-schema';

/**
 * The state table (open manifests, files, manifests and their files; keys from `table-schema.ts`) and the
 * Powertools idempotency table. Both on demand, with point-in-time recovery and KMS encryption.
 */
export class StateTables extends Construct {
  /** Single-table state of manifests and files, with the `byDay` and `pending` indexes. */
  public readonly stateTable: dynamodb.Table;
  /** Powertools idempotency records of the manifest builder. */
  public readonly idempotencyTable: dynamodb.Table;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const common = {
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
    };

    this.stateTable = new dynamodb.Table(this, 'StateTable', {
      ...common,
      partitionKey: { name: STATE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: STATE_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: STATE_TABLE.ttlAttribute,
      // The state table is the record of which file went into which manifest: keep it if the stack goes, and
      // refuse a delete-table call until someone turns the protection off on purpose.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
    for (const index of STATE_TABLE_INDEXES) {
      this.stateTable.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        // The indexes are read to list manifests with their status and counts; `pending` and `running` are sparse and small.
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    this.idempotencyTable = new dynamodb.Table(this, 'IdempotencyTable', {
      ...common,
      partitionKey: { name: IDEMPOTENCY_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: IDEMPOTENCY_TABLE.ttlAttribute,
      // Records only deduplicate recent redeliveries; nothing is lost when they go.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
