import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DEFAULT_CONFIG, PREFIXES } from '../../contracts/config';

/** Properties of {@link Storage}. */
export interface StorageProps {
  /** Days before raw ingest objects move to Infrequent Access. @default DEFAULT_CONFIG.ingestTransitionDays */
  readonly ingestTransitionDays?: number;
  /** Days a replaced or deleted object of the curated bucket stays recoverable. @default DEFAULT_CONFIG.curatedNoncurrentDays */
  readonly curatedNoncurrentDays?: number;
  /** Days a quarantined line file is kept before it expires. @default DEFAULT_CONFIG.quarantineExpirationDays */
  readonly quarantineExpirationDays?: number;
}

/**
 * The pipeline's buckets: ingest (raw NDJSON from producers), curated (manifests, results, Parquet, quarantine)
 * and the server access log bucket both of them log to.
 */
export class Storage extends Construct {
  /** Where producers upload; versioned, never written nor deleted by the pipeline (I6). */
  public readonly ingestBucket: s3.Bucket;
  /** Manifest and result files, Parquet output and quarantined lines. */
  public readonly curatedBucket: s3.Bucket;
  /** Server access logs of the two data buckets. */
  public readonly accessLogsBucket: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps = {}) {
    super(scope, id);
    const d = DEFAULT_CONFIG;
    const secure = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    };

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      ...secure,
      // Server access logging only delivers to buckets with ACLs disabled when the bucket policy grants the
      // logging service; the CDK writes that policy (feature flag serverAccessLogsUseBucketPolicy).
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(365) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });

    this.ingestBucket = new s3.Bucket(this, 'Ingest', {
      ...secure,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'ingest/',
      // Raw data is kept (I6): objects only move to a cheaper class, nothing expires.
      lifecycleRules: [
        {
          id: 'raw-to-infrequent-access',
          transitions: [
            {
              storageClass: s3.StorageClass.INFREQUENT_ACCESS,
              transitionAfter: Duration.days(props.ingestTransitionDays ?? d.ingestTransitionDays),
            },
          ],
          noncurrentVersionTransitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }],
        },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });

    this.curatedBucket = new s3.Bucket(this, 'Curated', {
      ...secure,
      // Versioned: a pinned schema or a manifest overwritten or deleted by mistake can be brought back, for
      // curatedNoncurrentDays; a replay's replaced Parquet stays recoverable as long.
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'curated/',
      lifecycleRules: [
        // A retry or replay rewrites a manifest's Parquet (I4); its multipart leftovers must not pile up.
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
        { id: 'old-versions', noncurrentVersionExpiration: Duration.days(props.curatedNoncurrentDays ?? d.curatedNoncurrentDays) },
        // Quarantined lines are copies of bad input, kept long enough to look at, not forever.
        {
          id: 'quarantine',
          prefix: PREFIXES.quarantine,
          expiration: Duration.days(props.quarantineExpirationDays ?? d.quarantineExpirationDays),
        },
        // Staged copies of raw versions are deleted after each run; their old versions need not wait as long.
        { id: 'staging-old-versions', prefix: PREFIXES.staging, noncurrentVersionExpiration: Duration.days(1) },
        { id: 'expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
    });
  }
}
