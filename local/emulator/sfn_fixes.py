"""Step Functions: executions switched on, and where moto's interpreter differs from the service.

- moto only runs state machines when `execute_state_machine` is on, and the choice is made per request, so it
  is switched on in-process before the server accepts any request.
- `aws-sdk:s3:getObject` returns `Body` as a string in Step Functions; moto's task hands back botocore's
  StreamingBody, which cannot be serialised into the state's output. Streams are read as UTF-8 text.
- `glue:startJobRun.sync` (any `.sync` task of a service without `.waitForTaskToken`) always ends in
  `States.Runtime` in moto 5.2.5: after the run ends, its task calls `interrupt_all()` on a callback endpoint that
  only `.waitForTaskToken` tasks have. The method is repeated here with that call guarded.
- Task results hold the datetimes boto3 parsed (a Glue run's `StartedOn`, an object's `LastModified`), which
  break DescribeExecution; they are turned into what Step Functions gives: epoch milliseconds in the output
  of optimised integrations such as Glue's (also in the `Cause` of a failed Glue run), ISO 8601 text in the
  output of `aws-sdk` tasks.
- `$$.State.EnteredTime` is written as Step Functions writes it (`2026-11-23T10:00:00.123Z`), not with
  microseconds and `+00:00`; `$$.Execution.StartTime` too (moto put a datetime there, and any state output
  holding it broke DescribeExecution).
- Errors of `aws-sdk:s3:*` tasks are named `S3.<Code>Exception` as in Step Functions (moto names them `s3....`).
- Optionally, Retry intervals and Wait states are scaled down, so retry paths (the Retry rules, and the state
  machine's own wait-and-run-again loop) can be watched in seconds rather than minutes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timezone
from types import SimpleNamespace
from typing import Any

from botocore.response import StreamingBody
from moto.core.config import default_user_config
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state import state as state_module
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    state_task_service_aws_sdk,
    state_task_service_callback,
    state_task_service_glue,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function
from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackOutcomeFailure,
    CallbackOutcomeFailureError,
    CallbackOutcomeSuccess,
    CallbackOutcomeTimedOut,
    CallbackTimeoutError,
    HeartbeatTimedOut,
    HeartbeatTimeoutError,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend import execution_worker


def switch_on_executions() -> None:
    """Makes StartExecution run the definition (moto's `execute_state_machine`), as before any state machine exists."""
    stepfunctions_config = dict(default_user_config.get("stepfunctions", {}))
    stepfunctions_config["execute_state_machine"] = True
    default_user_config["stepfunctions"] = stepfunctions_config  # type: ignore[typeddict-item]


def _map_leaves(value: Any, leaf: Callable[[Any], Any]) -> Any:
    """`value` with `leaf` applied to everything that is neither a dict nor a list."""
    if isinstance(value, dict):
        return {key: _map_leaves(item, leaf) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_leaves(item, leaf) for item in value]
    return leaf(value)


def _aws_sdk_leaf(value: Any) -> Any:
    if isinstance(value, StreamingBody):
        return value.read().decode("utf-8", errors="replace")
    if isinstance(value, datetime):
        return _as_utc(value).isoformat().replace("+00:00", "Z")
    return value


def _integration_leaf(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(_as_utc(value).timestamp() * 1000)
    return value


def aws_sdk_result(value: Any) -> Any:
    """An aws-sdk task's result as Step Functions returns it: streams read as UTF-8 text, datetimes as ISO 8601."""
    return _map_leaves(value, _aws_sdk_leaf)


def integration_result(value: Any) -> Any:
    """An optimised integration's result as Step Functions returns it: datetimes as epoch milliseconds."""
    return _map_leaves(value, _integration_leaf)


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _patch_aws_sdk_task() -> None:
    task_class = state_task_service_aws_sdk.StateTaskServiceAwsSdk
    original = task_class._eval_service_task

    def eval_service_task(self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                          state_credentials: Any) -> None:
        original(self, env, resource_runtime_part, normalised_parameters, state_credentials)
        env.stack.append(aws_sdk_result(env.stack.pop()))

    task_class._eval_service_task = eval_service_task  # type: ignore[method-assign]
    state_task_service_aws_sdk._SERVICE_ERROR_NAMES.setdefault("s3", "S3")


def _eval_integration_pattern(self: Any, env: Any, resource_runtime_part: Any, normalised_parameters: dict,
                              state_credentials: Any) -> None:
    """moto 5.2.5's StateTaskServiceCallback._eval_integration_pattern, with `callback_endpoint` allowed to be None."""
    task_output = env.stack.pop()

    callback_endpoint = None
    if ResourceCondition.WaitForTaskToken in self._supported_integration_patterns:
        callback_id = env.states.context_object.context_object_data["Task"]["Token"]
        callback_endpoint = env.callback_pool_manager.get(callback_id)

    self.timeout.eval(env=env)
    timeout_seconds = env.stack.pop()

    heartbeat_endpoint = None
    if self.heartbeat and callback_endpoint is not None:
        self.heartbeat.eval(env=env)
        heartbeat_seconds = env.stack.pop()
        heartbeat_endpoint = callback_endpoint.setup_heartbeat_endpoint(heartbeat_seconds=heartbeat_seconds)

    outcome: Any
    try:
        if self.resource.condition == ResourceCondition.WaitForTaskToken:
            outcome = self._eval_wait_for_task_token(env=env, timeout_seconds=timeout_seconds,
                                                     callback_endpoint=callback_endpoint,
                                                     heartbeat_endpoint=heartbeat_endpoint)
        else:
            env.stack.append(task_output)
            if self.resource.condition == ResourceCondition.Sync:
                sync_resolver = self._build_sync_resolver(env=env, resource_runtime_part=resource_runtime_part,
                                                          normalised_parameters=normalised_parameters,
                                                          state_credentials=state_credentials)
            else:
                sync_resolver = self._build_sync2_resolver(env=env, resource_runtime_part=resource_runtime_part,
                                                           normalised_parameters=normalised_parameters,
                                                           state_credentials=state_credentials)
            outcome = self._eval_sync(env=env, timeout_seconds=timeout_seconds, callback_endpoint=callback_endpoint,
                                      heartbeat_endpoint=heartbeat_endpoint, sync_resolver=sync_resolver)
    except Exception as integration_exception:  # noqa: BLE001 - handed to the state's Retry/Catch below
        outcome = integration_exception
    finally:
        if callback_endpoint is not None:
            callback_endpoint.interrupt_all()

    if isinstance(outcome, CallbackOutcomeTimedOut):
        raise CallbackTimeoutError()
    if isinstance(outcome, HeartbeatTimedOut):
        raise HeartbeatTimeoutError()
    if isinstance(outcome, CallbackOutcomeFailure):
        raise CallbackOutcomeFailureError(callback_outcome_failure=outcome)
    if isinstance(outcome, CallbackOutcomeSuccess):
        env.stack.append(json.loads(outcome.output))
    elif isinstance(outcome, Exception):
        raise outcome
    else:
        env.stack.append(integration_result(outcome))


class _StepFunctionsTimestamp(datetime):
    """A datetime whose isoformat() is Step Functions' context-object format: UTC, milliseconds, `Z`."""

    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        utc = _as_utc(self)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _sfn_timestamp(value: datetime) -> str:
    return _StepFunctionsTimestamp.fromtimestamp(_as_utc(value).timestamp(), tz=UTC).isoformat()


def _patch_execution_start_time() -> None:
    worker_class = execution_worker.ExecutionWorker
    original = worker_class._get_evaluation_environment

    def get_evaluation_environment(self: Any) -> Any:
        env = original(self)
        execution = env.states.context_object.context_object_data["Execution"]
        start_time = execution.get("StartTime")
        if isinstance(start_time, datetime):
            execution["StartTime"] = _sfn_timestamp(start_time)
        return env

    worker_class._get_evaluation_environment = get_evaluation_environment  # type: ignore[method-assign]


def _glue_cause_json(obj: Any, separators: tuple[str, str] | None = None) -> str:
    return to_json_str(integration_result(obj), separators=separators)


class _ScaledTime:
    """Stands in for the `time` module in moto's retrier: sleeps `scale` times the Retry interval."""

    def __init__(self, scale: float) -> None:
        self.scale = scale

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds * self.scale))

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def install(retry_interval_scale: float = 1.0) -> None:
    """Applies the fixes above; `retry_interval_scale` below 1 shortens every Retry wait by that factor."""
    switch_on_executions()
    state_task_service_callback.StateTaskServiceCallback._eval_integration_pattern = (  # type: ignore[method-assign]
        _eval_integration_pattern
    )
    _patch_aws_sdk_task()
    state_task_service_glue.to_json_str = _glue_cause_json  # type: ignore[assignment]
    _patch_execution_start_time()
    state_module.datetime = SimpleNamespace(datetime=_StepFunctionsTimestamp, timezone=timezone)  # type: ignore[assignment]
    if retry_interval_scale != 1.0:
        retrier_decl.time = _ScaledTime(retry_interval_scale)  # type: ignore[assignment]
        _scale_wait_states(retry_interval_scale)


def _scale_wait_states(scale: float) -> None:
    """Wait states wait `scale` times their seconds (at least 1 s when they wait at all)."""
    wait_class = wait_function.WaitFunction
    original = wait_class._wait_interval

    def wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        scaled = 0 if wait_seconds <= 0 else max(1, int(round(wait_seconds * scale)))
        original(self, env, scaled)

    wait_class._wait_interval = wait_interval  # type: ignore[method-assign]
