"""Seeded generator of SYNTHETIC matching data: candidates, needs, history and conflicts.

Nothing here describes a real company, person or consultation. Generated names start with
``【架空】`` and ``MatchData.meta`` says ``synthetic: true``. The municipalities are the real
Ehime ones by default; ``synthetic_municipalities`` makes any number of made-up ones for
benchmarks at national scale (Japan has 1,741 municipalities).

>>> d = generate(n_candidates=20, n_needs=6, seed=1)
>>> len(d.candidates), len(d.needs), d.meta["synthetic"]
(20, 6, True)
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

import numpy as np

from engine.matching.io import ehime_municipalities
from engine.matching.model import Candidate, Conflict, Engagement, MatchData, Municipality, Need
from engine.model import FIELDS

__all__ = ["FIELD_TOPICS", "generate", "synthetic_municipalities"]

#: Realistic topic tags of each field (tags may be shared between fields).
FIELD_TOPICS: Mapping[str, tuple[str, ...]] = {
    "pr": (
        "sns-consolidation",
        "website-renewal",
        "relocation-promotion",
        "furusato-nozei",
        "plain-language",
    ),
    "security": (
        "cloud-migration",
        "security-policy",
        "system-standardisation",
        "zero-trust",
        "incident-response",
    ),
    "data": ("ebpm", "open-data-guidelines", "data-dashboard", "gis"),
    "design": (
        "service-design",
        "online-procedures",
        "my-number-card",
        "ux-research",
        "plain-language",
    ),
    "cocreation": (
        "public-private-partnership",
        "startup-challenge",
        "digital-talent",
        "community-network",
    ),
}

_DESCRIPTIONS: Mapping[str, str] = {
    "sns-consolidation": "部署ごとに増えたSNSアカウントを整理・統合し、運用ルールを作りたい",
    "website-renewal": "公式サイトを住民が探しやすい構成に刷新したい",
    "relocation-promotion": "移住希望者に届く情報発信の方法を見直したい",
    "furusato-nozei": "ふるさと納税の返礼品ページと発信を改善したい",
    "plain-language": "通知文や案内を誰にでも分かる表現に直したい",
    "cloud-migration": "庁内システムのクラウド移行計画を立てたい",
    "security-policy": "情報セキュリティポリシーを国のガイドラインに合わせて改定したい",
    "system-standardisation": "基幹業務システム標準化への移行を進めたい",
    "zero-trust": "テレワークに対応したネットワーク構成を検討したい",
    "incident-response": "インシデント発生時の対応手順と訓練を整えたい",
    "ebpm": "EBPMの進め方を職員研修と実例で身につけたい",
    "open-data-guidelines": "オープンデータの公開ガイドラインを整備したい",
    "data-dashboard": "施策の指標をダッシュボードで見える化したい",
    "gis": "地図データを防災・施設管理に活用したい",
    "service-design": "住民目線で窓口サービスを設計し直したい",
    "online-procedures": "よく使われる手続をオンライン化したい",
    "my-number-card": "マイナンバーカードの取得促進と利活用を進めたい",
    "ux-research": "住民へのインタビュー調査を企画・実施したい",
    "public-private-partnership": "地域課題を企業と一緒に解く連携の枠組みを作りたい",
    "startup-challenge": "スタートアップとの実証事業を公募したい",
    "digital-talent": "庁内のデジタル人材を育てる研修を作りたい",
    "community-network": "近隣の小規模自治体と相談し合える場を作りたい",
}

_PLACES = ("瀬戸内", "伊予", "石鎚", "しまなみ", "道後", "宇和", "南予", "東予", "四国", "佐田岬")
_SUFFIX: Mapping[str, str] = {
    "pr": "クリエイティブ",
    "security": "セキュリティ",
    "data": "データラボ",
    "design": "デザイン",
    "cocreation": "共創パートナーズ",
}
# (name, lat, lon) of places outside the prefecture where remote candidates are based.
_CITIES = (
    ("Tokyo", 35.681, 139.767),
    ("Osaka", 34.702, 135.496),
    ("Fukuoka", 33.590, 130.421),
    ("Hiroshima", 34.397, 132.475),
    ("Takamatsu", 34.340, 134.047),
    ("Kochi", 33.559, 133.531),
)
_CONFLICT_REASONS = ("現行の基幹システムベンダー", "同自治体の入札に参加中", "職員の親族が役員")


def synthetic_municipalities(n: int, seed: int = 0) -> tuple[Municipality, ...]:
    """``n`` made-up municipalities spread over Japan's latitude/longitude range.

    Populations follow a log-normal shape like Japan's (median about 25,000); regions are
    47 made-up prefectures ``P01``..``P47``; codes ``S00001``...
    """
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        region = int(rng.integers(1, 48))
        # prefectures laid along the archipelago: south-west (31N,130E) to north-east (43N,144E)
        t = (region - 1) / 46.0
        lat = 31.5 + 11.0 * t + float(rng.normal(0, 0.35))
        lon = 130.5 + 12.5 * t + float(rng.normal(0, 0.35))
        pop = int(min(3_000_000, max(200, math.exp(rng.normal(math.log(25_000), 1.3)))))
        kind = "city" if pop >= 30_000 else ("town" if pop >= 5_000 else "village")
        out.append(
            Municipality(
                code=f"S{i + 1:05d}",
                name_ja=f"【架空】第{i + 1}市町村",
                name_en=f"Synthetic {i + 1}",
                kind=kind,
                region=f"P{region:02d}",
                lat=round(lat, 5),
                lon=round(lon, 5),
                population=pop,
            )
        )
    return tuple(out)


def _pick(rng: np.random.Generator, items: Sequence[str], k: int) -> tuple[str, ...]:
    k = max(0, min(k, len(items)))
    idx = sorted(rng.choice(len(items), size=k, replace=False).tolist())
    return tuple(items[i] for i in idx)


def generate(
    municipalities: Sequence[Municipality] | None = None,
    n_candidates: int = 200,
    n_needs: int = 60,
    n_engagements: int | None = None,
    n_conflicts: int | None = None,
    seed: int = 0,
    fiscal_year: int = 2026,
) -> MatchData:
    """A synthetic data set on ``municipalities`` (default: the real Ehime ones).

    Defaults give the demo's size: 200 candidates, 60 needs, 0.9 engagements per candidate
    (about one in five still active, one in ten confidential) and one conflict per 15
    candidates. Same arguments, same data.
    """
    rng = np.random.default_rng(seed)
    munis = tuple(municipalities) if municipalities is not None else ehime_municipalities()
    if not munis:
        raise ValueError("at least one municipality is needed")
    n_eng = int(round(0.9 * n_candidates)) if n_engagements is None else n_engagements
    n_conf = n_candidates // 15 if n_conflicts is None else n_conflicts
    fy_start = dt.date(fiscal_year, 4, 1)
    local = [m for m in munis if not m.is_prefecture] or list(munis)

    candidates = [_candidate(rng, i, n_candidates, local, fy_start) for i in range(n_candidates)]
    needs = _needs(rng, munis, n_needs, fy_start)
    engagements = _engagements(rng, candidates, local, n_eng, fy_start)
    conflicts = _conflicts(rng, candidates, local, n_conf)

    return MatchData(
        municipalities=munis,
        needs=tuple(needs),
        candidates=tuple(candidates),
        engagements=tuple(engagements),
        conflicts=tuple(conflicts),
        meta={
            "synthetic": True,
            "note": "SYNTHETIC demo data: no real company, person or consultation",
            "note_ja": "架空のデモデータ（実在の企業・人物・相談ではありません）",
            "seed": seed,
            "fiscal_year": fiscal_year,
        },
    )


def _candidate(
    rng: np.random.Generator, i: int, n_candidates: int, local: Sequence[Municipality],
    fy_start: dt.date,
) -> Candidate:
    """The ``i``-th synthetic candidate: a company (60 %) or an individual, one or two fields,
    local (60 %, by car) or in a big city (always remote)."""
    company = bool(rng.random() < 0.6)
    main = FIELDS[int(rng.integers(len(FIELDS)))]
    fields = [main]
    if rng.random() < 0.35:
        other = FIELDS[int(rng.integers(len(FIELDS)))]
        if other != main:
            fields.append(other)
    pool = sorted({t for f in fields for t in FIELD_TOPICS[f]})
    topics = _pick(rng, pool, int(rng.integers(2, 5)))
    skills = [(t, int(rng.integers(2, 6))) for t in topics]
    skills += [(f, int(rng.integers(2, 6))) for f in fields]
    if rng.random() < 0.6:
        home = local[int(rng.integers(len(local)))]
        lat = home.lat + float(rng.normal(0, 0.03))
        lon = home.lon + float(rng.normal(0, 0.03))
        base, travel = home.code, int(rng.choice([90, 120, 150, 180]))
        remote = bool(rng.random() < 0.7)
    else:
        name, clat, clon = _CITIES[int(rng.integers(len(_CITIES)))]
        lat, lon = clat + float(rng.normal(0, 0.02)), clon + float(rng.normal(0, 0.02))
        base, travel, remote = name, int(rng.choice([120, 300, 600])), True
    avail_from = avail_until = None
    if rng.random() < 0.2:
        avail_from = fy_start + dt.timedelta(days=int(rng.integers(0, 240)))
        avail_until = avail_from + dt.timedelta(days=int(rng.integers(30, 200)))
    label = (
        f"【架空】{_PLACES[int(rng.integers(len(_PLACES)))]}{_SUFFIX[main]}株式会社"
        if company
        else f"【架空】デジタル人材{i + 1:03d}"
    )
    return Candidate(
        id=f"C{i + 1:05d}" if n_candidates > 999 else f"C{i + 1:03d}",
        name=label,
        kind="company" if company else "individual",
        fields=tuple(fields),
        skills=tuple(skills),
        topics=topics,
        lat=round(lat, 5),
        lon=round(lon, 5),
        base=base,
        remote=remote,
        capacity=int(rng.integers(2, 5)) if company else int(rng.integers(1, 3)),
        max_travel_min=travel,
        available_from=avail_from,
        available_until=avail_until,
    )


def _needs(
    rng: np.random.Generator, munis: Sequence[Municipality], n_needs: int, fy_start: dt.date
) -> list[Need]:
    """Synthetic needs: every municipality one first, the rest at random; each municipality's
    needs numbered as its priorities."""
    needs: list[Need] = []
    per_muni: dict[str, int] = {}
    width = 5 if n_needs > 999 else 3
    for i in range(n_needs):
        m = munis[i % len(munis)] if i < len(munis) else munis[int(rng.integers(len(munis)))]
        per_muni[m.code] = per_muni.get(m.code, 0) + 1
        field = FIELDS[int(rng.integers(len(FIELDS)))]
        topics = _pick(rng, FIELD_TOPICS[field], int(rng.integers(1, 3)))
        start = fy_start + dt.timedelta(days=int(rng.integers(0, 180)))
        end = start + dt.timedelta(days=int(rng.integers(60, 180)))
        needs.append(
            Need(
                id=f"N{i + 1:0{width}d}",
                municipality=m.code,
                field=field,
                topics=topics,
                title=_DESCRIPTIONS[topics[0]].split("を", 1)[0],
                description=_DESCRIPTIONS[topics[0]],
                mode="onsite" if rng.random() < 0.4 else "remote",
                start=start,
                end=end,
                confidential=bool(rng.random() < 0.2),
                effort_days=float(rng.choice([3, 5, 10, 15, 20, 30])),
                priority=per_muni[m.code],
            )
        )
    return needs


def _engagements(
    rng: np.random.Generator, candidates: list[Candidate], local: Sequence[Municipality],
    n_eng: int, fy_start: dt.date,
) -> list[Engagement]:
    """Past and active engagements (an active one only while the candidate has capacity)."""
    engagements: list[Engagement] = []
    active_load: dict[str, int] = {}
    for i in range(n_eng):
        c = candidates[int(rng.integers(len(candidates)))]
        m = local[int(rng.integers(len(local)))]
        active = bool(rng.random() < 0.2) and active_load.get(c.id, 0) < c.capacity - 1
        if active:
            active_load[c.id] = active_load.get(c.id, 0) + 1
        start = fy_start - dt.timedelta(days=int(rng.integers(30, 900)))
        rating = None if active else float(min(5, max(1, round(rng.normal(3.8, 0.9)))))
        engagements.append(
            Engagement(
                id=f"E{i + 1:05d}",
                candidate=c.id,
                municipality=m.code,
                field=c.fields[0],
                topics=c.topics[:2],
                start=start,
                end=None if active else start + dt.timedelta(days=int(rng.integers(30, 200))),
                status="active" if active else "completed",
                rating=rating,
                confidential=bool(rng.random() < 0.1),
            )
        )
    return engagements


def _conflicts(
    rng: np.random.Generator, candidates: list[Candidate], local: Sequence[Municipality],
    n_conf: int,
) -> list[Conflict]:
    """Conflicts of interest, each (candidate, municipality) once."""
    conflicts: list[Conflict] = []
    seen: set[tuple[str, str]] = set()
    for _ in range(n_conf):
        c = candidates[int(rng.integers(len(candidates)))]
        m = local[int(rng.integers(len(local)))]
        if (c.id, m.code) in seen:
            continue
        seen.add((c.id, m.code))
        conflicts.append(
            Conflict(c.id, m.code, _CONFLICT_REASONS[int(rng.integers(len(_CONFLICT_REASONS)))])
        )
    return conflicts
