"""A scenario: a named base plus overrides, and the problem it gives for a seed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from engine.errors import InputError, Problem
from engine.format import parse_plan_request
from engine.model import PlanRequest
from engine.scenario.apply import (
    apply_blackout_changes,
    apply_expert_changes,
    apply_location_caps,
    scale_demand,
    shift_online,
)
from engine.scenario.bases import Base, EhimeBase
from engine.scenario.overrides import Overrides

__all__ = ["Scenario"]

@dataclass(frozen=True)
class Scenario:
    """A named base plus overrides; ``plan_request(seed)`` gives the problem to solve.

    The seed draws the demand (Ehime base) or picks which requests are scaled or moved
    online (document base); the same seed always gives the same problem.
    """

    name: str
    base: Base
    overrides: Overrides = Overrides()
    description: str = ""

    @property
    def travel_speed_factor(self) -> float:
        return self.overrides.travel_speed_factor

    def document(self, seed: int = 0, path: str = "") -> dict[str, Any]:
        """The ``plan-request/1`` document of this scenario for ``seed``."""
        o = self.overrides
        if isinstance(self.base, EhimeBase):
            doc = self.base.document(seed=seed, demand_scale=o.demand_scale,
                                     online_share=o.online_share)
        else:
            doc = self.base.copy_document()
            rng = random.Random(seed)
            doc["requests"] = scale_demand(doc.get("requests", []), o.demand_scale, rng)
            if o.online_share is not None:
                doc["requests"] = shift_online(doc["requests"], o.online_share, rng)
        problems: list[Problem] = []
        pre = f"{path}." if path else ""
        apply_expert_changes(doc, o, pre, problems)
        apply_location_caps(doc, o, pre, problems)
        apply_blackout_changes(doc, o, pre, problems)
        if problems:
            raise InputError(problems)
        doc["name"] = f"{self.name}: {doc.get('name', '')}".rstrip(": ")
        return doc

    def plan_request(self, seed: int = 0, path: str = "") -> PlanRequest:
        """The validated problem of this scenario for ``seed``."""
        doc = self.document(seed, path)
        try:
            return parse_plan_request(doc)
        except InputError as err:
            pre = f"{path}." if path else ""
            raise InputError([Problem(f"{pre}plan_request.{p.path}", p.message, p.message_ja)
                              for p in err.problems]) from None
