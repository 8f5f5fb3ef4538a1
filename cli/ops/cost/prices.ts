/**
 * What the model takes from outside the repository: the services' prices, their default quotas, the Glue worker
 * types, and the assumptions it cannot measure here (docs/cost.md says why each is what it is). Nothing in this file
 * is defined by the stack or by a benchmark's results file: those are read (./inputs/).
 */

export const DAYS_PER_MONTH = 30;
export const SECONDS_PER_DAY = 86_400;
/** Sizes in decimal units, as the services bill them. */
export const MB = 1e6;
export const GB = 1e9;

/**
 * On-demand prices of us-east-1, USD, as published on the services' pricing pages (checked 2025-06). Free tiers are
 * left out: an account running other workloads has used them up.
 */
export const PRICES = {
  region: 'us-east-1',
  asOf: '2025-06',
  glueDpuHour: { STANDARD: 0.44, FLEX: 0.29 },
  /** Glue bills per second with a 1-minute minimum (Glue 2.0 and later). */
  glueMinimumBilledSeconds: 60,
  glueCatalogPerMillionRequests: 1.0,
  glueCatalogPer100kObjectMonth: 1.0,
  stepFunctionsPerThousandTransitions: 0.025,
  lambdaPerMillionRequests: 0.2,
  lambdaGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  dynamoPerMillionWrites: 0.625,
  dynamoPerMillionReads: 0.125,
  dynamoGbMonth: 0.25,
  dynamoPitrGbMonth: 0.2,
  sqsPerMillionRequests: 0.4,
  s3StandardGbMonth: 0.023,
  s3InfrequentGbMonth: 0.0125,
  s3PutPerThousand: 0.005,
  s3GetPerThousand: 0.0004,
  s3TransitionPerThousand: 0.01,
  logsIngestGb: 0.5,
  logsStoreGbMonth: 0.03,
  metricMonth: 0.3,
  alarmMetricMonth: 0.1,
  dashboardMonth: 3.0,
  kmsKeyMonth: 1.0,
  kmsPer10kRequests: 0.03,
  snsPerMillionPublishes: 0.5,
  snsPer100kEmails: 2.0,
  xrayPerMillionTraces: 5.0,
  /**
   * Interface VPC endpoints (`network=private`): each endpoint is billed "for each hour that your VPC endpoint remains
   * provisioned in each Availability Zone", and per GB processed ($0.01 for the first PB a month in the region);
   * gateway endpoints (S3, DynamoDB) are free (AWS PrivateLink pricing, https://aws.amazon.com/privatelink/pricing/).
   */
  privateLinkEndpointAzHour: 0.01,
  privateLinkPerGb: 0.01,
} as const;

/**
 * The AWS quotas the capacity section compares the load with: default quotas of us-east-1, each with the page that
 * states it (most can be raised: Service Quotas console, or `aws service-quotas get-service-quota` with the code).
 */
export const LIMITS = {
  /**
   * Write units a second on one partition, so on one item: the ceiling of a dataset's open-manifest pointer
   * whatever the latency. "Per partition: 3,000 read units or 1,000 write units a second" (Amazon DynamoDB Developer
   * Guide, "Quotas in Amazon DynamoDB", https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
   */
  dynamoItemWritesPerSecond: 1000,
  /** Table-level write throughput of an on-demand table, write request units a second (same page). */
  dynamoTableWritesPerSecond: 40_000,
  /**
   * StartExecution of Standard workflows, token refill a second in us-east-1 (bucket 1,300) (AWS Step Functions
   * Developer Guide, "Step Functions service quotas", throttling of API actions,
   * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html).
   */
  sfnStartExecutionPerSecond: 300,
  /** State transitions of Standard workflows, refill a second in us-east-1 (same page, state throttling). */
  sfnTransitionsPerSecond: 5000,
  /** ListExecutions refill a second (same page): the sweeper lists running executions once a sweep. */
  sfnListExecutionsPerSecond: 5,
  /**
   * PUTs a second per partitioned prefix; each dataset uploads under its own ("at least 3,500 PUT/COPY/POST/DELETE ...
   * requests per second per partitioned Amazon S3 prefix", Amazon S3 User Guide, "Best practices design patterns:
   * optimizing Amazon S3 performance", https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html).
   */
  s3PutsPerPrefixPerSecond: 3500,
  /**
   * Concurrent executions of the account's functions in a region, default 1,000 ("Concurrent executions: 1,000",
   * AWS Lambda Developer Guide, "Lambda quotas", https://docs.aws.amazon.com/lambda/latest/dg/limits.html; new
   * accounts start lower).
   */
  lambdaConcurrentExecutions: 1000,
  /**
   * Messages received and not yet deleted, standard queue: "a maximum of approximately 120,000 in flight messages"
   * (Amazon SQS Developer Guide, "Amazon SQS standard queue quotas",
   * https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-queues.html). A standard
   * queue's API rate is not the limit (same guide, "Amazon SQS standard queues": "a nearly unlimited number of API
   * calls per second"), so in-flight messages are its only limit here.
   */
  sqsInFlightMessages: 120_000,
  /**
   * Glue quotas ("AWS Glue endpoints and quotas", https://docs.aws.amazon.com/general/latest/gr/glue.html; Service
   * Quotas codes in brackets): concurrent runs of one job, the highest `glue.maxConcurrentRuns` can go
   * [L-F574AED9, 1,000]; DPUs of the account's running jobs [L-08F3B322 "Max task DPUs per account", 1,000]; DPUs
   * of FLEX runs on spare capacity [L-096DBB95 "Max spare compute capacity consumed in data processing units (DPUs)
   * per account", 50]. The account's concurrent job runs [L-5E4153CA] vary by account and are not modeled.
   */
  glueConcurrentRunsPerJob: 1000,
  glueDpusPerAccount: 1000,
  glueFlexDpusPerAccount: 50,
} as const;

/** DPUs and vCPUs of one worker of each Glue worker type. */
export const GLUE_WORKERS: Readonly<Record<string, { dpu: number; vcpu: number }>> = {
  'G.1X': { dpu: 1, vcpu: 4 },
  'G.2X': { dpu: 2, vcpu: 8 },
  'G.4X': { dpu: 4, vcpu: 16 },
  'G.8X': { dpu: 8, vcpu: 32 },
};

/** Glue auto scaling's smallest run: the driver and one executor. */
export const GLUE_MIN_WORKERS = 2;

/** Assumptions the model cannot measure here (docs/cost.md says why each is what it is). */
export const ASSUMPTIONS = {
  /** Seconds from a Glue run's start to its script's first line (worker start), billed. */
  glueStartSeconds: 10,
  /** Spark's partition size and per-file open cost: files are packed into tasks of this many MB. */
  sparkPartitionMb: 128,
  sparkFileOpenCostMb: 4,
  /** Parquet files of a run are up to this share of the job's target file size (`--target_file_mb`). */
  parquetFileShareOfTarget: 0.25,
  /** Requests of one Glue run besides reading files: manifest, schema probe, committer listings, result, catalog. */
  glueS3GetsPerRun: 10,
  glueS3GetsPerFile: 2,
  glueS3PutsPerRun: 12,
  glueCatalogRequestsPerRun: 10,
  glueLogBytesPerRun: 500_000,
  glueKmsRequestsPerRun: 10,
  /** Bytes of each Lambda invocation's log: platform start/report lines and the EMF metrics line. */
  lambdaLogBytesPerInvocation: 1_500,
  /** Per invocation overhead of the builder beyond its files (batch processor, metrics flush), ms. */
  builderInvocationOverheadMs: 20,
  /** Step Functions log events (level ALL, no data): one per state entered and exited, plus start and end. */
  sfnLogBytesPerEvent: 350,
  /** DynamoDB's per-item storage overhead. */
  dynamoItemOverheadBytes: 100,
  /** Units of one write of a MANIFEST META item (under 1 KB, plus the GSIs it is in). */
  metaItemWriteUnits: 1,
  /** META writes by the builder and the sweeper per manifest: open, seal, the execution recorded. */
  metaWritesByHandlers: 3,
  /** GSIs a META item is in at each write (byDay, plus pending or running). */
  gsisPerMetaWrite: 2,
  /** Queries of one sweep (pending, running, open pointers), each eventually consistent and under 4 KB. */
  sweepReadUnits: 1.5,
  /** Lambda's SQS pollers (five, long polling 20 s) keep receiving while the queue is empty. */
  sqsPollers: 5,
  sqsLongPollSeconds: 20,
  /** Server access log record of one request to the ingest or curated bucket. */
  accessLogBytesPerRequest: 350,
  /** Manifest file bytes per file listed, and the result file. */
  manifestBytesPerFile: 350,
  resultFileBytes: 2_000,
  /** A quarantined line is stored with its reason and source around it: this many times its own bytes. */
  quarantineBytesPerLineByte: 1.5,
  /** Share of manifests that fail or end partial, each one alert email. */
  alertShare: 0.01,
  /** Alarm state changes a month, each one email. */
  alarmMessagesPerMonth: 10,
  /** KMS requests of DynamoDB's table keys (AWS-managed), per table per hour. */
  dynamoKmsRequestsPerTableHour: 12,
  /** X-Ray's default sampling: the first request each second, then 5%. */
  xrayReservoirPerSecond: 1,
  xrayRate: 0.05,
  /**
   * Calls through the interface endpoints besides the job's catalog, KMS and log traffic (`network=private`): Step
   * Functions calls a manifest's start takes (list running executions, start, describe on a conflict), and a sweep's
   * (its list of running executions); each call's bytes with TLS, headers and the answer.
   */
  endpointCallsPerManifestStart: 3,
  endpointCallsPerSweep: 1,
  endpointBytesPerCall: 5_000,
} as const;
