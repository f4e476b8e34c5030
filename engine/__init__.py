"""The problem dxshare solves: domain model, exchange format, calendar, travel, data, KPIs.

``engine`` depends on no other part of dxshare: the solvers and the service build on it.
"""

from engine.errors import InputError, Problem
from engine.model import (
    FIELDS,
    Blackout,
    Expert,
    Fixed,
    Horizon,
    Location,
    Objective,
    Plan,
    PlanRequest,
    Request,
    Route,
    Unscheduled,
    Visit,
)

__all__ = [
    "FIELDS",
    "Blackout",
    "Expert",
    "Fixed",
    "Horizon",
    "InputError",
    "Location",
    "Objective",
    "Plan",
    "PlanRequest",
    "Problem",
    "Request",
    "Route",
    "Unscheduled",
    "Visit",
]
