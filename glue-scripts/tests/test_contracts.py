"""The job against its contract, contracts/glue-job.json (docs/architecture.md, "Glue job arguments: one home"): the
arguments it reads and requires, and the reasons a file fails. The TypeScript side is checked by
test/infra/glue-job.test.ts against the same file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ndjson_conversion.arguments import OPTIONAL_ARGS, REQUIRED_ARGS, parse_args
from ndjson_conversion.errors import NotRetryableError
from ndjson_conversion.failures import FILE_FAILURE_REASONS

CONTRACT: dict[str, Any] = json.loads((Path(__file__).resolve().parents[2] / "contracts" / "glue-job.json").read_text())
ARGUMENTS = {a["name"].removeprefix("--"): a for a in CONTRACT["arguments"]}


def test_the_job_reads_every_argument_of_the_contract_and_no_other() -> None:
    assert len(ARGUMENTS) == len(CONTRACT["arguments"])
    assert sorted(REQUIRED_ARGS + OPTIONAL_ARGS) == sorted(ARGUMENTS)


def test_the_job_requires_what_the_contract_requires() -> None:
    assert sorted(REQUIRED_ARGS) == sorted(name for name, a in ARGUMENTS.items() if a["required"])


@pytest.mark.parametrize("missing", sorted(name for name, a in ARGUMENTS.items() if a["required"]))
def test_a_run_without_a_required_argument_is_refused(missing: str) -> None:
    argv = ["job"] + [part for name in ARGUMENTS if ARGUMENTS[name]["required"] and name != missing
                      for part in (f"--{name}", "x")]
    # Not retryable: another attempt with the same arguments is refused the same way; the message names the argument.
    with pytest.raises(NotRetryableError, match=f"--{missing}"):
        parse_args(argv)


def test_a_run_with_only_the_required_arguments_is_accepted() -> None:
    argv = ["job"] + [part for name in ARGUMENTS if ARGUMENTS[name]["required"] for part in (f"--{name}", "x")]
    assert parse_args(argv).manifest_id == "x"


def test_the_reasons_a_file_fails_are_the_contracts() -> None:
    assert list(FILE_FAILURE_REASONS) == CONTRACT["fileFailureReasons"]
