"""The emulator tests' fixtures: one emulator for the session and unique resource names."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from emulator_harness import Emulator, launch


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One emulator shared by the session's tests, with Retry waits cut to a tenth."""
    shared = launch(tmp_path_factory.mktemp("emulator-state"), "--retry-interval-scale", "0.1")
    yield shared
    shared.stop()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for resource names, so tests sharing the emulator never collide."""
    return uuid.uuid4().hex[:10]
