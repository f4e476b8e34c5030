"""``/v1/matching``: recommendations for a need, the assignment of candidates to all needs,
and peer municipalities.

A municipality key sees its own needs only: another municipality's need, confidential or
not, is answered exactly like an unknown one (404), and its view of the assignment is
``AssignmentResult.view`` (others' confidential needs counted, never named). Expert keys
have no access.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from service.api.deps import CurrentKey, Id, MunicipalityQuery
from service.auth import Principal
from service.matching_store import STATE
from service.problems import ApiProblem

router = APIRouter(prefix="/v1/matching", tags=["matching"])


class Candidate(BaseModel):
    """One recommended candidate: score 0..100 and its breakdown in points."""

    candidate: str
    rank: int
    name: str
    kind: str
    score: float
    field: float
    topic: float
    skill: float
    distance: float
    capacity: float
    outcome: float
    proximity: float
    travel_min: int
    capacity_left: int
    explanation: str
    explanation_ja: str


class Recommendations(BaseModel):
    need: str
    k: int
    candidates: list[Candidate]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, tuple | list | set | frozenset):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        return _clean(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _records(df: Any, index: str) -> list[dict[str, Any]]:
    out = []
    for key, row in zip(df.index, df.to_dict(orient="records"), strict=True):
        out.append({index: _clean(key), **{k: _clean(v) for k, v in row.items()
                                           if not str(k).startswith("_")}})
    return out


def _viewer(who: Principal) -> str | None:
    if who.role == "expert":
        raise ApiProblem(403, "experts have no access to matching",
                         "専門家はマッチング機能を利用できません")
    return who.municipality if who.role == "municipality" else None


def _need_visible(need_id: str, viewer: str | None) -> None:
    need = STATE.graph().data.need_by_id.get(need_id)
    if need is None or (viewer is not None and need.municipality != viewer):
        raise ApiProblem(404, f"no need {need_id!r}", f"ニーズ {need_id!r} は見つかりません")


def _recommend(need_id: str, k: int, viewer: str | None) -> bytes:
    """The JSON answer of a recommendation query, computed once per (need, k, viewer)."""
    from solvers.matching import recommend

    key = (need_id, k, viewer)
    body = STATE.answers.get(key)
    if body is None:
        rows = _records(recommend(STATE.graph(), need_id, k=k, as_municipality=viewer),
                        "candidate")
        body = json.dumps({"need": need_id, "k": k, "candidates": rows},
                          ensure_ascii=False).encode()
        if len(STATE.answers) > 20_000:
            STATE.answers.clear()
        STATE.answers[key] = body
    return body


@lru_cache(maxsize=64)
def _assignment(floor: bool, small_weight: float, small_population: int) -> Any:
    from solvers.matching import assign

    return assign(STATE.graph(), floor=floor, small_weight=small_weight,
                  small_population=small_population)


def _assignment_dict(res: Any) -> dict[str, Any]:
    un = res.unserved.drop(columns=["_blocking"], errors="ignore")
    return {"status": res.status, "objective": int(res.objective),
            "total_score": round(float(res.total_score), 2), "params": _clean_dict(res.params),
            "assigned": _records(res.assigned, "need"), "unserved": _records(un, "need")}


def _clean_dict(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _clean(v) for k, v in d.items()}


@router.get("/needs")
def list_needs(who: CurrentKey) -> list[dict[str, Any]]:
    """Needs visible to the key: all (centre) or the municipality's own."""
    viewer = _viewer(who)
    g = STATE.graph()
    return [{"id": n.id, "municipality": n.municipality, "field": n.field,
             "topics": list(n.topics), "title": n.title, "mode": n.mode,
             "start": n.start.isoformat(), "end": n.end.isoformat(),
             "confidential": n.confidential, "priority": n.priority,
             "url": f"/v1/matching/needs/{n.id}/recommendations"}
            for n in g.data.needs if viewer is None or n.municipality == viewer]


@router.get("/needs/{need_id}/recommendations", response_model=Recommendations)
async def recommendations(need_id: Id, who: CurrentKey,
                          k: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    """The ``k`` best eligible candidates for the need, with the score breakdown (points
    summing to the score) and a one-line explanation in English and Japanese."""
    viewer = _viewer(who)
    if STATE.ready():
        _need_visible(need_id, viewer)
    else:
        await run_in_threadpool(_need_visible, need_id, viewer)
    body = STATE.answers.get((need_id, k, viewer))
    if body is None:
        body = await run_in_threadpool(_recommend, need_id, k, viewer)
    return Response(body, media_type="application/json")


@router.get("/assignment")
def assignment(who: CurrentKey, floor: bool = False,
               small_weight: Annotated[float, Query(ge=0, le=10)] = 0.0,
               small_population: Annotated[int, Query(ge=0, le=10_000_000)] = 50_000,
               ) -> dict[str, Any]:
    """The optimal assignment of candidates to all needs (centre), or what the
    municipality may see of it (its own needs; others' confidential needs only counted)."""
    viewer = _viewer(who)
    res = _assignment(floor, round(small_weight, 4), small_population)
    if viewer is not None:
        res = res.view(viewer, STATE.graph().data)
    return _assignment_dict(res)


@router.get("/peers")
def peers(who: CurrentKey, municipality: MunicipalityQuery = None,
          k: Annotated[int, Query(ge=1, le=20)] = 5) -> dict[str, Any]:
    """The most similar municipalities (public topics, size, region, distance), with
    reasons. A municipality key asks for itself."""
    from solvers.matching import suggest_peers

    viewer = _viewer(who)
    code = viewer or municipality
    if code is None:
        raise ApiProblem(422, "municipality: is required for centre keys",
                         "municipality: センターのキーでは必須です",
                         errors=[{"path": "municipality", "message": "is required"}])
    if viewer is not None and municipality not in (None, viewer):
        raise ApiProblem(403, "a municipality key asks for its own peers only",
                         "自団体以外の類似自治体は参照できません")
    g = STATE.graph()
    if code not in g.data.municipality_by_code:
        raise ApiProblem(404, f"no municipality {code!r}", f"自治体 {code!r} は見つかりません")
    return {"municipality": code, "peers": _records(suggest_peers(g, code, k=k), "peer")}
