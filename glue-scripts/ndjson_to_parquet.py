"""Glue job entry: converts one manifest's NDJSON objects to Parquet, accounting for every line (I4, I5, I8).

Runs on Glue 5.1 (Spark 3.5.6, Python 3.11) with the package ``ndjson_conversion`` (glue-scripts/src) on its path
through ``--extra-py-files``, and, unchanged, on plain ``pyspark==3.5.6`` with that folder on PYTHONPATH (the local
mode's Glue runner, the tests, the benchmark). This script only resolves the arguments, opens the session, calls
``run``; on a failure it writes the outcome document (FAILED, the reason, whether another run may succeed) and prints
the failure line. What the job does is in the package and docs/architecture.md, "Glue job" and "Outcome document".
"""
from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from pyspark.sql import SparkSession

from ndjson_conversion.arguments import JobParams, parse_args
from ndjson_conversion.errors import failure_line, failure_message
from ndjson_conversion.outcome import failure_outcome, job_run_id, outcome_uri, write_outcome
from ndjson_conversion.run import run


def open_session() -> SparkSession:
    """The Spark session, the same code on Glue and elsewhere. On Glue it sits on the SparkContext Glue launched, with
    Glue's configuration: the context a GlueContext would wrap (aws-glue-libs, awsglue/context.py: GlueContext takes
    the script's SparkContext.getOrCreate()). The job uses nothing of GlueContext or Job: it writes the catalog
    through boto3 and uses no bookmarks (``--job-bookmark-option job-bookmark-disable``), so Job.init/commit have
    nothing to do."""
    builder: Any = SparkSession.builder
    return builder.appName("ndjson_to_parquet").getOrCreate()


def report_failure(spark: SparkSession, params: JobParams, run_id: str, error: BaseException) -> None:
    """Writes the failed run's outcome document; a run that cannot (its session broken) leaves none, and the state
    machine treats it as a run that died (retryable, alerted with Glue's own message)."""
    try:
        outcome = failure_outcome(params.manifest_id, run_id, error, failure_message(error))
        write_outcome(spark, outcome_uri(params.result_uri), outcome)
    except Exception as write_error:  # noqa: BLE001 - the run fails anyway; its log says why no outcome was written
        print(f"ndjson_to_parquet: the outcome document could not be written: {write_error}", file=sys.stderr,
              flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 with the counts on stdout, or 1 with a one-line reason as the last line of stderr (for the log) and
    the outcome document written (for the state machine)."""
    argv = list(sys.argv if argv is None else argv)
    run_id = job_run_id(argv)
    params: JobParams | None = None
    spark: SparkSession | None = None
    try:
        params = parse_args(argv)
        spark = open_session()
        result = run(spark, params, job_run_id=run_id)
    except Exception as error:  # noqa: BLE001 - every failure the job reaches is reported in its outcome
        if params is not None and spark is not None:
            report_failure(spark, params, run_id, error)
        print(failure_line(error), file=sys.stderr, flush=True)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
