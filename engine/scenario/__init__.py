"""Scenarios: a base problem plus overrides gives a ``PlanRequest`` (docs/SCENARIOS.md).

A base is the bundled Ehime data with synthetic demand (``EhimeBase``, drawn by
``engine.demand``) or any ``plan-request/1`` document (``DocumentBase``). Overrides say what
changes: experts added or removed, caps and hours, demand scaled, the online share shifted,
blackouts (camps) added, removed or moved, travel speed. Describing a scenario is part of
the problem; solving it lives in ``solvers.scenarios``.

Modules: ``bases``, ``overrides``, ``apply`` (overrides applied to a document), ``model``
(``Scenario``), ``files`` (scenario files) and ``reader`` (their values read with paths).

Examples
--------
>>> s = Scenario("sixth expert", EhimeBase("2026-12-07"),
...              Overrides(add_experts=({"id": "data-2", "fields": ["data"]},)))
>>> [e.id for e in s.plan_request(seed=1).experts][-1]
'data-2'
"""

from __future__ import annotations

from engine.scenario.apply import location_kind
from engine.scenario.bases import DocumentBase, EhimeBase
from engine.scenario.files import (
    SCENARIOS_FORMAT,
    RunSettings,
    ScenarioFile,
    load_scenario_file,
    parse_scenario,
    parse_scenario_file,
)
from engine.scenario.model import Scenario
from engine.scenario.overrides import CAP_KEYS, Overrides

__all__ = [
    "CAP_KEYS",
    "SCENARIOS_FORMAT",
    "DocumentBase",
    "EhimeBase",
    "Overrides",
    "RunSettings",
    "Scenario",
    "ScenarioFile",
    "load_scenario_file",
    "location_kind",
    "parse_scenario",
    "parse_scenario_file",
]

