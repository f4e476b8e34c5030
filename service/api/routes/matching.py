"""``/v1/matching``: the programme's matching data (needs, candidates, engagements,
conflicts) as stored in the database, and recommendations, the assignment, peers and
communities computed on it.

Who may do what:

- the centre: everything; uploads whole tables (CSV, Excel or JSON, read by the same
  readers and with the same messages as ``dxshare match``) and edits rows;
- a municipality: files, edits and withdraws its own needs, rates its own engagements,
  and asks for its own recommendations, its view of the assignment, its peers and its
  community. Another municipality's need, confidential or not, is answered exactly like an
  unknown one (404);
- experts: nothing (403).
"""


import json
import math
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InputError, Problem
from service.api.deps import (
    CentreKey,
    CurrentKey,
    Id,
    IntId,
    MunicipalityQuery,
    SessionDep,
    SettingsDep,
    audit,
    not_found,
)
from service.api.uploads import (
    XLSX,
    UploadLimits,
    csv_rows_within,
    decode_text,
    not_emptied,
    strict_types,
    too_slow,
    xlsx_csv,
)
from service.auth import Principal
from service.db import (
    MATCH_TABLES,
    MatchConflictRow,
    MatchEngagementRow,
    MatchNeedRow,
)
from service.matching_store import (
    MatchingStore,
    bump,
    normalised,
    row_for,
    store_tables,
    stored_document,
    validated,
)
from service.problems import ApiProblem
from service.schemas import Rating, Recommendations

router = APIRouter(prefix="/v1/matching", tags=["matching"])


def get_store(request: Request) -> MatchingStore:
    return request.app.state.matching  # type: ignore[no-any-return]


#: The app's matching data and graph.
StoreDep = Annotated[MatchingStore, Depends(get_store)]

TABLE_PATTERN = "^(needs|candidates|engagements|conflicts)$"


# ------------------------------------------------------------------ helpers

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


def _need_visible(store: MatchingStore, need_id: str, viewer: str | None) -> None:
    need = store.graph().data.need_by_id.get(need_id)
    if need is None or (viewer is not None and need.municipality != viewer):
        raise ApiProblem(404, f"no need {need_id!r}", f"ニーズ {need_id!r} は見つかりません")


def _recommend(store: MatchingStore, need_id: str, k: int, viewer: str | None) -> bytes:
    """The JSON answer of a recommendation query, computed once per (data version, need,
    k, viewer)."""
    from solvers.matching import recommend  # start fast

    g = store.graph()
    key = ("rec", store.version, need_id, k, viewer)
    body = store.answers.get(key)
    if body is None:
        rows = _records(recommend(g, need_id, k=k, as_municipality=viewer), "candidate")
        body = json.dumps({"need": need_id, "k": k, "version": store.version,
                           "candidates": rows}, ensure_ascii=False).encode()
        if len(store.answers) > 20_000:
            store.answers.clear()
        store.answers[key] = body
    return body  # type: ignore[no-any-return]


def _assignment(store: MatchingStore, floor: bool, small_weight: float,
                small_population: int) -> Any:
    from solvers.matching import assign  # start fast

    g = store.graph()
    key = ("assign", store.version, floor, small_weight, small_population)
    res = store.answers.get(key)
    if res is None:
        res = assign(g, floor=floor, small_weight=small_weight,
                     small_population=small_population)
        store.answers[key] = res
    return res, g


def _assignment_dict(res: Any) -> dict[str, Any]:
    un = res.unserved.drop(columns=["_blocking"], errors="ignore")
    return {"status": res.status, "objective": int(res.objective),
            "total_score": round(float(res.total_score), 2),
            "params": {k: _clean(v) for k, v in res.params.items()},
            "assigned": _records(res.assigned, "need"), "unserved": _records(un, "need")}


def _committed(s: Session, store: MatchingStore) -> None:
    """Commit a change of the matching data and let this process's graph follow it."""
    version = bump(s)
    s.commit()
    store.changed(version)


def _need_row(s: Session, who: Principal, need_id: str) -> MatchNeedRow:
    viewer = _viewer(who)
    row = s.get(MatchNeedRow, need_id)
    if row is None or (viewer is not None and row.municipality != viewer):
        raise ApiProblem(404, f"no need {need_id!r}", f"ニーズ {need_id!r} は見つかりません")
    return row


def _need_view(rec: dict[str, Any]) -> dict[str, Any]:
    return {**rec, "url": f"/v1/matching/needs/{rec['id']}",
            "recommendations": f"/v1/matching/needs/{rec['id']}/recommendations"}


def _put_row(s: Session, store: MatchingStore, who: Principal, table: str,
             rec: dict[str, Any], existing: Any, action: str) -> dict[str, Any]:
    """Validate ``rec`` against the whole stored data, store it, audit, commit; returns the
    stored (normalised) record."""
    key = None if existing is None else existing.id
    if table == "conflicts":
        data = validated(s, row=(table, rec, key))
        ident: Any = (rec.get("candidate"), rec.get("municipality"))
        stored = normalised(data, table, _conflict_key(data, ident))
    else:
        data = validated(s, row=(table, rec, key))
        stored = normalised(data, table, rec["id"])
    row = row_for(table, stored, existing)
    if existing is None:
        s.add(row)
    s.flush()
    audit(s, who, action, f"match_{table[:-1]}:{row.id}")
    _committed(s, store)
    out = dict(stored)
    if table == "conflicts":
        out["id"] = row.id
    return out


def _conflict_key(data: Any, ident: tuple[Any, Any]) -> tuple[str, str]:
    """The (candidate, municipality code) of a conflict, with a name resolved to its code."""
    cand, muni = ident
    for m in data.municipalities:
        if muni in (m.code, m.name_ja, m.name_en):
            return str(cand), m.code
    return str(cand), str(muni)


# ------------------------------------------------------------------ whole data and tables

@router.get("/data")
def export_data(who: CentreKey, s: SessionDep) -> dict[str, Any]:
    """Every stored table as one match-data/1 document (what ``dxshare match --data``
    reads)."""
    return stored_document(s)


#: ``?replace_with_empty=true``: the upload may leave a table that holds rows empty.
EmptyOk = Annotated[bool, Query(description="allow the upload to empty a table that holds "
                                            "rows (refused otherwise)")]


@router.put("/data")
def replace_data(who: CentreKey, s: SessionDep, store: StoreDep,
                 body: Annotated[dict[str, Any], Body(openapi_examples={"tiny": {
                     "summary": "One need and one candidate",
                     "value": {"format": "match-data/1",
                               "needs": [{"id": "N1", "municipality": "松山市",
                                          "field": "pr", "start": "2027-04-01",
                                          "end": "2027-09-30", "effort_days": 3}],
                               "candidates": [{"id": "C1", "name": "株式会社サンプル",
                                               "fields": ["pr"], "base": "松山市"}]}}})],
                 settings: SettingsDep, replace_with_empty: EmptyOk = False,
                 ) -> dict[str, Any]:
    """Replace all matching data by a match-data/1 document (checked whole first: nothing
    is changed when any row is wrong, and every problem is named). A table that holds rows
    is emptied only with ``?replace_with_empty=true``."""
    from engine.matching import parse_document  # start fast

    limits = UploadLimits.of(settings)
    for table in MATCH_TABLES:
        rows = body.get(table)
        if isinstance(rows, list) and len(rows) > limits.rows:
            raise limits.too_many_rows(table)
    strict_types({t: body.get(t) for t in MATCH_TABLES})
    data = parse_document(body)
    fresh = {t: len(getattr(data, t)) for t in MATCH_TABLES}
    not_emptied(s, fresh, replace_with_empty, lambda t: t)
    counts = store_tables(s, data, tuple(MATCH_TABLES))
    audit(s, who, "matching.replace", "matching:data", **counts)
    _committed(s, store)
    return {"replaced": counts}


Table = Annotated[str, Path(pattern=TABLE_PATTERN,
                            description="needs, candidates, engagements or conflicts")]


@router.put("/tables/{table}", openapi_extra={"requestBody": {"content": {
    "text/csv": {"schema": {"type": "string"}},
    XLSX: {"schema": {"type": "string", "format": "binary"}},
    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}})
async def upload_table(table: Table, who: CentreKey, request: Request, store: StoreDep,
                       settings: SettingsDep,
                       name: Annotated[str | None, Query(max_length=100)] = None,
                       replace_with_empty: EmptyOk = False) -> dict[str, Any]:
    """Replace one table by an upload: CSV (UTF-8 or Shift_JIS, English or Japanese
    headers), an Excel workbook (the sheet named as the table, e.g. ``needs``/``ニーズ``, or
    the first), or a JSON array of records. The whole data set with the new table is checked
    first: nothing changes when a row is wrong, and each problem names its row and column
    (``needs.csv row 4, column 'field'``). A header column the table does not have is
    refused, and so is an upload without rows for a table that holds rows, unless
    ``?replace_with_empty=true``. At most ``DXSHARE_MAX_TABLE_ROWS`` rows, read within
    ``DXSHARE_MAX_UPLOAD_SECONDS``."""
    raw = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return await run_in_threadpool(_store_upload, request, store, who, table, raw, kind,
                                   name, UploadLimits.of(settings), replace_with_empty)


def _store_upload(request: Request, store: MatchingStore, who: Principal, table: str,
                  raw: bytes, kind: str, name: str | None, limits: UploadLimits,
                  replace_with_empty: bool) -> dict[str, Any]:
    from engine.matching import read_csv_table  # start fast

    started = time.monotonic()
    with request.app.state.sessions() as s:
        others = {t: rows for t, rows in stored_document(s).items() if t in MATCH_TABLES}
        if kind in ("application/json",):
            file = name or "body"
            try:
                rows = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as err:
                raise InputError(Problem("body", f"invalid JSON: {err}",
                                         "JSON の形式が不正です")) from None
            if not isinstance(rows, list):
                raise InputError(Problem("body", "must be a JSON array of records",
                                         "レコードの配列が必要です"))
            if len(rows) > limits.rows:
                raise limits.too_many_rows(file)
            strict_types({table: rows})
            data = validated(s, replace={table: rows})
        elif kind in ("text/csv", "text/plain", "application/csv"):
            file = name or f"{table}.csv"
            text = decode_text(raw, file)
            csv_rows_within(text, file, limits)
            data = read_csv_table(table, text, file, others)
        elif kind == XLSX:
            file = name or f"{table}.xlsx"
            text = xlsx_csv(raw, table, file, limits)
            csv_rows_within(text, file, limits)
            data = read_csv_table(table, text, file, others)
        else:
            raise ApiProblem(415, f"send text/csv, {XLSX} or application/json",
                             "CSV、Excel（xlsx）または JSON を送ってください")
        if time.monotonic() - started > limits.seconds:
            raise too_slow(file, limits)
        not_emptied(s, {table: len(getattr(data, table))}, replace_with_empty,
                     lambda _t: file)
        counts = store_tables(s, data, (table,))
        audit(s, who, "matching.upload", f"matching:{table}", rows=counts[table],
              kind=kind)
        _committed(s, store)
    return {"table": table, "rows": counts[table]}


@router.get("/tables/{table}")
def download_table(table: Table, who: CentreKey, s: SessionDep) -> list[dict[str, Any]]:
    """One stored table as match-data/1 records (conflicts with their ``id``)."""
    model = MATCH_TABLES[table]
    return [{**r.doc, "id": r.id} if table == "conflicts" else r.doc
            for r in s.scalars(select(model).order_by(model.id))]


# ------------------------------------------------------------------ needs

@router.get("/needs")
def list_needs(who: CurrentKey, s: SessionDep) -> list[dict[str, Any]]:
    """Needs visible to the key: all (centre) or the municipality's own."""
    viewer = _viewer(who)
    stmt = select(MatchNeedRow).order_by(MatchNeedRow.id)
    if viewer is not None:
        stmt = stmt.where(MatchNeedRow.municipality == viewer)
    return [_need_view(r.doc) for r in s.scalars(stmt)]


@router.post("/needs", status_code=201)
def create_need(who: CurrentKey, s: SessionDep, store: StoreDep, response: Response,
                body: Annotated[dict[str, Any], Body(openapi_examples={"need": {
                    "summary": "A municipality files a need",
                    "value": {"field": "data", "topics": ["ebpm", "data-dashboard"],
                              "title": "観光データの可視化", "mode": "remote",
                              "start": "2027-04-01", "end": "2027-09-30",
                              "effort_days": 5, "priority": 1}}})]) -> dict[str, Any]:
    """File a need (match-data/1 record). A municipality key files for itself only, and
    the server chooses the id (a municipality cannot learn from a refusal that another's
    need has an id); the centre names the municipality and may choose the id (it sees every
    need anyway), else one is made."""
    viewer = _viewer(who)
    rec = dict(body)
    if viewer is not None:
        if "id" in rec:
            raise InputError(Problem("id", "is chosen by the server; leave it out",
                                     "ID はサーバーが決めます。指定しないでください"))
        if rec.get("municipality") not in (None, viewer):
            raise ApiProblem(403, "a municipality key files needs for itself only",
                             "自団体以外のニーズは登録できません")
        rec["municipality"] = viewer
    elif rec.get("municipality") in (None, ""):
        raise InputError(Problem("municipality", "is required for centre keys",
                                 "センターのキーでは必須です"))
    rec.setdefault("id", f"N-{uuid.uuid4().hex[:8]}")
    if not isinstance(rec["id"], str) or not rec["id"].strip() or len(rec["id"]) > 64:
        raise InputError(Problem("id", "must be a non-empty text of at most 64 characters",
                                 "64 文字以内の空でない文字列が必要です"))
    if s.get(MatchNeedRow, rec["id"]) is not None:
        raise ApiProblem(409, f"need {rec['id']!r} exists already",
                         f"ニーズ {rec['id']!r} は既にあります")
    out = _put_row(s, store, who, "needs", rec, None, "need.create")
    response.headers["Location"] = f"/v1/matching/needs/{out['id']}"
    return _need_view(out)


@router.get("/needs/{need_id}")
def get_need(need_id: Id, who: CurrentKey, s: SessionDep) -> dict[str, Any]:
    return _need_view(_need_row(s, who, need_id).doc)


@router.patch("/needs/{need_id}")
def patch_need(need_id: Id, who: CurrentKey, s: SessionDep, store: StoreDep,
               body: Annotated[dict[str, Any], Body(openapi_examples={"priority": {
                   "summary": "Raise a need's priority", "value": {"priority": 1}}})],
               ) -> dict[str, Any]:
    """Change fields of a need (``null`` clears an optional one). ``id`` cannot change; a
    municipality cannot hand its need to another."""
    row = _need_row(s, who, need_id)
    rec = dict(row.doc)
    if "id" in body and body["id"] != need_id:
        raise InputError(Problem("id", "cannot be changed", "変更できません"))
    if who.role == "municipality" and body.get("municipality", row.municipality) not in (
            row.municipality, None):
        raise ApiProblem(403, "a municipality key keeps its needs its own",
                         "ニーズを他団体に移すことはできません")
    for k, v in body.items():
        if v is None:
            rec.pop(k, None)
        else:
            rec[k] = v
    if who.role == "municipality":
        rec["municipality"] = row.municipality
    out = _put_row(s, store, who, "needs", rec, row, "need.update")
    return _need_view(out)


@router.delete("/needs/{need_id}", status_code=204)
def delete_need(need_id: Id, who: CurrentKey, s: SessionDep, store: StoreDep) -> Response:
    """Withdraw a need (engagements that name it keep their history)."""
    row = _need_row(s, who, need_id)
    for e in s.scalars(select(MatchEngagementRow)):
        if e.doc.get("need") == need_id:
            e.doc = {k: v for k, v in e.doc.items() if k != "need"}
    validated(s, drop=("needs", need_id))
    s.delete(row)
    audit(s, who, "need.delete", f"match_need:{need_id}")
    _committed(s, store)
    return Response(status_code=204)


# ------------------------------------------------------------------ other tables (centre)

def _row_routes(table: str, model: Any, example: dict[str, Any]) -> None:
    single = table[:-1]
    key_type: Any = IntId if table == "conflicts" else Id

    @router.get(f"/{table}", name=f"list_{table}")
    def list_rows(who: CurrentKey, s: SessionDep) -> list[dict[str, Any]]:
        """The stored rows (centre); a municipality reads its own engagements only."""
        viewer = _viewer(who)
        stmt = select(model).order_by(model.id)
        if viewer is not None:
            if table != "engagements":
                raise ApiProblem(403, f"only the centre reads the {table}",
                                 f"{table} を参照できるのはセンターのみです")
            stmt = stmt.where(model.municipality == viewer)
        return [{**r.doc, "id": r.id} if table == "conflicts" else r.doc
                for r in s.scalars(stmt)]

    @router.post(f"/{table}", status_code=201, name=f"create_{single}")
    def create_row(who: CentreKey, s: SessionDep, store: StoreDep, response: Response,
                   body: Annotated[dict[str, Any], Body(openapi_examples={
                       single: {"summary": f"A new {single}", "value": example}})],
                   ) -> dict[str, Any]:
        rec = dict(body)
        if table != "conflicts":
            if not isinstance(rec.get("id"), str) or not rec["id"].strip() \
                    or len(rec["id"]) > 64:
                raise InputError(Problem("id", "is required: a text of at most 64 characters",
                                         "64 文字以内の文字列で必須です"))
            if s.get(model, rec["id"]) is not None:
                raise ApiProblem(409, f"{single} {rec['id']!r} exists already",
                                 f"{rec['id']!r} は既にあります")
        out = _put_row(s, store, who, table, rec, None, f"{single}.create")
        response.headers["Location"] = f"/v1/matching/{table}/{out['id']}"
        return out

    @router.patch(f"/{table}/{{row_id}}", name=f"patch_{single}")
    def patch_row(row_id: key_type, who: CentreKey, s: SessionDep, store: StoreDep,  # type: ignore[valid-type]
                  body: dict[str, Any]) -> dict[str, Any]:
        row = s.get(model, row_id)
        if row is None:
            raise not_found(single, row_id)
        if "id" in body and body["id"] != row_id:
            raise InputError(Problem("id", "cannot be changed", "変更できません"))
        rec = dict(row.doc)
        for k, v in body.items():
            if k == "id":
                continue
            if v is None:
                rec.pop(k, None)
            else:
                rec[k] = v
        return _put_row(s, store, who, table, rec, row, f"{single}.update")

    @router.delete(f"/{table}/{{row_id}}", status_code=204, name=f"delete_{single}")
    def delete_row(row_id: key_type, who: CentreKey,  # type: ignore[valid-type]
                   s: SessionDep, store: StoreDep) -> Response:
        row = s.get(model, row_id)
        if row is None:
            raise not_found(single, row_id)
        validated(s, drop=(table, row_id))
        s.delete(row)
        audit(s, who, f"{single}.delete", f"match_{single}:{row_id}")
        _committed(s, store)
        return Response(status_code=204)


_row_routes("candidates", MATCH_TABLES["candidates"], {
    "id": "C900", "name": "株式会社えひめデータ", "kind": "company",
    "fields": ["data"], "skills": {"ebpm": 4}, "topics": ["ebpm"], "base": "松山市",
    "capacity": 2})
_row_routes("engagements", MatchEngagementRow, {
    "id": "E900", "candidate": "C900", "municipality": "382019", "status": "completed",
    "rating": 4})
_row_routes("conflicts", MatchConflictRow, {
    "candidate": "C900", "municipality": "382019", "reason": "現行の保守委託先"})


@router.put("/engagements/{engagement_id}/rating")
def rate_engagement(engagement_id: Id, who: CurrentKey, s: SessionDep, store: StoreDep,
                    body: Rating) -> dict[str, Any]:
    """Rate an engagement 1–5 (the centre, or the municipality it served): it becomes
    ``completed`` and the candidate's outcome score uses the rating from the next answer
    on (a confidential engagement only in its own municipality's answers)."""
    viewer = _viewer(who)
    row = s.get(MatchEngagementRow, engagement_id)
    if row is None or (viewer is not None and row.municipality != viewer):
        raise not_found("engagement", engagement_id)
    rec = {**row.doc, "rating": float(body.rating), "status": "completed"}
    return _put_row(s, store, who, "engagements", rec, row, "engagement.rating")


# ------------------------------------------------------------------ answers

@router.get("/needs/{need_id}/recommendations", response_model=Recommendations)
async def recommendations(need_id: Id, who: CurrentKey, store: StoreDep,
                          k: Annotated[int, Query(ge=1, le=50)] = 10) -> Response:
    """The ``k`` best eligible candidates for the need, with the score breakdown (points
    summing to the score) and a one-line explanation in English and Japanese; ``version``
    is the version of the stored data it was computed on."""
    viewer = _viewer(who)
    if store.ready():
        _need_visible(store, need_id, viewer)
        body = store.answers.get(("rec", store.version, need_id, k, viewer))
        if body is not None:
            return Response(body, media_type="application/json")
    else:
        await run_in_threadpool(_need_visible, store, need_id, viewer)
    body = await run_in_threadpool(_recommend, store, need_id, k, viewer)
    return Response(body, media_type="application/json")


@router.get("/assignment")
def assignment(who: CurrentKey, store: StoreDep, floor: bool = False,
               small_weight: Annotated[float, Query(ge=0, le=10)] = 0.0,
               small_population: Annotated[int, Query(ge=0, le=10_000_000)] = 50_000,
               ) -> dict[str, Any]:
    """The optimal assignment of candidates to all needs (centre), or what the
    municipality may see of it (its own needs; others' confidential needs only counted).
    ``floor`` serves every municipality's top need first; ``small_weight`` adds that share
    to the value of needs of municipalities under ``small_population`` residents."""
    viewer = _viewer(who)
    res, g = _assignment(store, floor, round(small_weight, 4), small_population)
    if viewer is not None:
        res = res.view(viewer, g.data)
    return {**_assignment_dict(res), "version": store.version}


@router.get("/peers")
def peers(who: CurrentKey, store: StoreDep, municipality: MunicipalityQuery = None,
          k: Annotated[int, Query(ge=1, le=20)] = 5) -> dict[str, Any]:
    """The most similar municipalities (public topics, size, region, distance), with
    reasons. A municipality key asks for itself."""
    from solvers.matching import suggest_peers  # start fast

    viewer = _viewer(who)
    code = viewer or municipality
    if code is None:
        raise ApiProblem(422, "municipality: is required for centre keys",
                         "municipality: センターのキーでは必須です",
                         errors=[{"path": "municipality", "message": "is required"}])
    if viewer is not None and municipality not in (None, viewer):
        raise ApiProblem(403, "a municipality key asks for its own peers only",
                         "自団体以外の類似自治体は参照できません")
    g = store.graph()
    if code not in g.data.municipality_by_code:
        raise ApiProblem(404, f"no municipality {code!r}", f"自治体 {code!r} は見つかりません")
    return {"municipality": code, "peers": _records(suggest_peers(g, code, k=k), "peer")}


@router.get("/communities")
def communities(who: CurrentKey, store: StoreDep) -> dict[str, Any]:
    """Communities of similar municipalities (Louvain on public topics, size, region,
    distance): all of them for the centre, its own for a municipality."""
    from solvers.matching import communities as find  # start fast

    viewer = _viewer(who)
    g = store.graph()
    rows = _records(find(g), "municipality")
    if viewer is not None:
        mine = {r["community"] for r in rows if r["municipality"] == viewer}
        rows = [r for r in rows if r["community"] in mine]
    groups: dict[int, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["community"], []).append(
            {"code": r["municipality"], "name": r["name"], "population": r["population"]})
    return {"communities": [{"community": c, "members": m} for c, m in sorted(groups.items())]}

