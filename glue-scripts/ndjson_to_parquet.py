"""Glue job entry: converts one manifest's NDJSON objects to Parquet, accounting for every line (I4, I5, I8).

Runs on Glue 5.1 (Spark 3.5.6, Python 3.11) with the package ``ndjson_conversion`` (glue-scripts/src) on its path
through ``--extra-py-files``, and, unchanged, on plain ``pyspark==3.5.6`` with that folder on PYTHONPATH (the local
mode's Glue runner, the tests, the benchmark). This script only resolves the arguments, opens the session, calls
``run`` and prints the failure line; what the job does is in the package and docs/architecture.md, "Glue job".
"""
from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from pyspark.sql import SparkSession

from ndjson_conversion.arguments import parse_args
from ndjson_conversion.errors import failure_line
from ndjson_conversion.run import run

try:  # present on Glue only
    from awsglue.context import GlueContext  # pyright: ignore[reportMissingImports]
    from awsglue.job import Job  # pyright: ignore[reportMissingImports]
    from awsglue.utils import getResolvedOptions  # pyright: ignore[reportMissingImports]
except ImportError:  # plain pyspark: local mode, tests, benchmark
    GlueContext = None
    Job = None
    getResolvedOptions = None


def open_session() -> tuple[SparkSession, Any]:
    """The Spark session, and Glue's context on Glue (None elsewhere)."""
    if GlueContext is not None:
        from pyspark.context import SparkContext

        glue_context = GlueContext(SparkContext.getOrCreate())
        return glue_context.spark_session, glue_context
    builder: Any = SparkSession.builder
    return builder.appName("ndjson_to_parquet").getOrCreate(), None


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 with the counts on stdout, or 1 with a one-line reason as the last line of stderr."""
    argv = list(sys.argv if argv is None else argv)
    try:
        params = parse_args(argv, getResolvedOptions)
        spark, glue_context = open_session()
        job = None
        if glue_context is not None and Job is not None and getResolvedOptions is not None and "--JOB_NAME" in argv:
            job = Job(glue_context)
            job.init(getResolvedOptions(argv, ["JOB_NAME"])["JOB_NAME"], {})
        result = run(spark, params)
        if job is not None:
            job.commit()
    except Exception as error:  # the runner reports the last stderr line as the job run's ErrorMessage
        print(failure_line(error), file=sys.stderr, flush=True)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
