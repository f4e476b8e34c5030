"""Shared fixtures: the tiny named instances of tests/data as documents and parsed problems.

The helpers the tests import (``load_doc``, ``solve_checked``, ...) live in ``tests.helpers``.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.model import PlanRequest

# The helpers are also importable from here, as tests written before ``tests.helpers`` do.
from tests.helpers import (  # noqa: F401
    DATA,
    FORMULATIONS,
    TIME_LIMIT,
    add_request,
    build_plan,
    codes_of,
    load_doc,
    problem_of,
    propose_checked,
    req,
    solve_checked,
    t,
)


@pytest.fixture
def two_towns_doc() -> dict[str, Any]:
    return load_doc("two_towns")


@pytest.fixture
def two_towns() -> PlanRequest:
    return problem_of("two_towns")


@pytest.fixture
def joint_visit_doc() -> dict[str, Any]:
    return load_doc("joint_visit")


@pytest.fixture
def joint_visit() -> PlanRequest:
    return problem_of("joint_visit")


@pytest.fixture
def island() -> PlanRequest:
    return problem_of("island")
