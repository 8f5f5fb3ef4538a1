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


def open_session() -> SparkSession:
    """The Spark session, the same code on Glue and elsewhere. On Glue it sits on the SparkContext Glue launched, with
    Glue's configuration: the context a GlueContext would wrap (aws-glue-libs, awsglue/context.py: GlueContext takes
    the script's SparkContext.getOrCreate()). The job uses nothing of GlueContext or Job: it writes the catalog
    through boto3 and uses no bookmarks (``--job-bookmark-option job-bookmark-disable``), so Job.init/commit have
    nothing to do."""
    builder: Any = SparkSession.builder
    return builder.appName("ndjson_to_parquet").getOrCreate()


def main(argv: Sequence[str] | None = None) -> int:
    """Exit 0 with the counts on stdout, or 1 with a one-line reason as the last line of stderr."""
    argv = list(sys.argv if argv is None else argv)
    try:
        params = parse_args(argv)
        result = run(open_session(), params)
    except Exception as error:  # the runner reports the last stderr line as the job run's ErrorMessage
        print(failure_line(error), file=sys.stderr, flush=True)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
