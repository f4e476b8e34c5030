"""Figures of plans and scenario results (matplotlib): returned, never shown.

No backend is forced: in a notebook the figures display as pictures (the returned figure is
the cell's value, closed in pyplot so that it is not drawn twice); a headless process gets
matplotlib's own non-interactive default. Labels are Japanese when the language is Japanese
(``lang=None`` reads ``DXSHARE_LANG``, default Japanese) and a Japanese font is installed,
English otherwise.

- ``week_chart(problem, plan)``: per expert and day, the visits as bars (on-site, online) and
  the drives around them;
- ``route_map(problem, plan)``: each expert-day's route from the base through its stops;
- ``kpi_bars(summary, kpis)``: one panel per KPI, a bar per scenario with its 95 % interval;
- ``utilisation_heatmap(table)``: experts × dates busy share;
- ``coverage_map(coverage)``: municipalities at their coordinates, sized and coloured by
  visits, labelled in Japanese or English.

Examples
--------
>>> fig = kpi_bars(summarise(compare(results)), ["visits", "coverage"])   # doctest: +SKIP
>>> fig.savefig("kpis.png")                                               # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from engine.clock import grid_up
from engine.ehime import municipalities
from engine.model import Plan, PlanRequest
from engine.tables import expert_name
from service.glossary import KPI_NAMES
from service.i18n import N_, lang_from, translator

__all__ = ["coverage_map", "kpi_bars", "route_map", "season_months",
           "utilisation_heatmap", "week_chart"]

def _label(kpi: str, lang: str) -> str:
    """A figure's name from the glossary, in ``lang``."""
    return _t(KPI_NAMES[kpi], lang) if kpi in KPI_NAMES else kpi


def _t(message: str, lang: str) -> str:
    """``message`` from the catalogue in ``lang`` (a figure falls back to English when no
    Japanese font is installed, whatever the reader's language)."""
    return translator(lang).gettext(message)


def _done(fig: Figure) -> Figure:
    """Lay out ``fig`` and let pyplot forget it: the caller shows or saves it once."""
    fig.tight_layout()
    plt.close(fig)
    return fig


def _lang(lang: str | None) -> str:
    """``'ja'`` when a Japanese-capable font is installed (and used), else ``'en'``: labels
    fall back to English rather than to empty boxes. ``None`` is the reader's language."""
    if lang is None:
        lang = lang_from(None)
    name = _japanese_font()
    if lang != "ja":
        # English labels; Japanese place names without a romaji one still need the glyphs
        plt.rcParams["font.family"] = ["DejaVu Sans", name] if name else ["DejaVu Sans"]
        return "en"
    if name is None:
        return "en"
    plt.rcParams["font.family"] = name
    return "ja"


_JA_FONTS = ("Noto Sans CJK JP", "IPAexGothic", "IPAGothic", "TakaoGothic", "VL Gothic")
_JA_FONT_FILES = ("notosanscjk", "ipaexg", "ipag", "takaogothic", "vl-gothic")


def _japanese_font() -> str | None:
    """A Japanese-capable font's family name; fonts installed after matplotlib built its cache
    (e.g. Debian's fonts-noto-cjk) are added on the way."""
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in _JA_FONTS if n in names), None)

    found = known()
    if found is None:
        for path in font_manager.findSystemFonts():
            if any(k in path.lower().replace("_", "") for k in _JA_FONT_FILES):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = known()
    return found


def kpi_bars(summary: pd.DataFrame, kpis: Sequence[str], *, lang: str | None = None,
             ncols: int = 3) -> Figure:
    """Bars of the mean of each KPI per scenario with 95 % interval whiskers.

    ``summary`` is ``solvers.scenarios.summarise(...)`` (index ``scenario, kpi``).
    """
    lang = _lang(lang)
    n = len(kpis)
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False)
    scenarios = list(dict.fromkeys(summary.index.get_level_values("scenario")))
    colours = plt.get_cmap("tab10")(np.arange(len(scenarios)) % 10)
    for ax, kpi in zip(axes.flat, kpis, strict=False):
        part = summary.xs(kpi, level="kpi").reindex(scenarios)
        mean = part["mean"].to_numpy(float)
        err = np.vstack([mean - part["low"].to_numpy(float), part["high"].to_numpy(float) - mean])
        ax.bar(range(len(scenarios)), mean, yerr=err, color=colours, capsize=4)
        ax.set_xticks(range(len(scenarios)), [str(s) for s in scenarios], rotation=20,
                      ha="right")
        ax.set_title(_label(kpi, lang), fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return _done(fig)


def utilisation_heatmap(table: pd.DataFrame, *, lang: str | None = None,
                        title: str = "", names: Mapping[str, str] | None = None) -> Figure:
    """Experts (rows) × dates (columns) busy share, 0–1; blank where the expert cannot work.
    Rows are labelled by ``names`` (expert id → name, e.g. ``RunResult.expert_names``)
    where it has one."""
    lang = _lang(lang)
    values = table.to_numpy(float)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * table.shape[1] + 2.5),
                                    max(2.0, 0.45 * table.shape[0] + 1.2)))
    masked = np.ma.masked_invalid(values)
    im = ax.imshow(masked, aspect="auto", cmap="YlOrRd", vmin=0.0, vmax=1.0)
    ax.set_yticks(range(table.shape[0]), [(names or {}).get(str(i), str(i)) for i in table.index])
    ax.set_xticks(range(table.shape[1]), [str(c)[5:] if len(str(c)) == 10 else str(c)
                                          for c in table.columns], rotation=45, ha="right")
    for (i, j), v in np.ndenumerate(values):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 else "black")
    fig.colorbar(im, ax=ax, label=_t(N_("busy share of working day"), lang))
    ax.set_title(title or _t(N_("expert utilisation"), lang))
    return _done(fig)


def coverage_map(coverage: pd.Series | pd.DataFrame, *, lang: str | None = None,
                 title: str = "") -> Figure:
    """Municipalities at their coordinates, marker area ∝ visits (grey ring = none).

    ``coverage`` is visits per municipality code (a Series), or a DataFrame with one column
    per scenario (one panel each, as from ``coverage_table``).
    """
    lang = _lang(lang)
    frame = coverage.to_frame() if isinstance(coverage, pd.Series) else coverage
    places = municipalities()
    places = places[places["kind"] != "prefecture"]
    office = municipalities()[municipalities()["kind"] == "prefecture"]
    n = frame.shape[1]
    fig, axes = plt.subplots(1, n, figsize=(5.0 * n, 5.2), squeeze=False)
    top = max(1.0, float(np.nanmax(frame.to_numpy(float))) if frame.size else 1.0)
    kx = math.cos(math.radians(33.6))       # degrees of longitude are shorter at this latitude
    for ax, col in zip(axes.flat, frame.columns, strict=False):
        visits = frame[col].reindex(places.index).fillna(0.0)
        size = 30 + 600 * visits / top
        served = visits > 0
        ax.scatter(places.loc[served, "lon"], places.loc[served, "lat"], s=size[served],
                   c=visits[served], cmap="viridis", vmin=0, vmax=top, alpha=0.8,
                   edgecolors="k", linewidths=0.5)
        ax.scatter(places.loc[~served, "lon"], places.loc[~served, "lat"], s=40,
                   facecolors="none", edgecolors="grey", linewidths=1.0)
        ax.scatter(office["lon"], office["lat"], marker="*", s=120, c="crimson", zorder=3)
        for code, row in places.iterrows():
            name = row["name_ja"] if lang == "ja" else row["name_en"]
            ax.annotate(f"{name} {visits[code]:g}", (row["lon"], row["lat"]), fontsize=6.5,
                        xytext=(4, 3), textcoords="offset points")
        ax.set_aspect(1 / kx)
        ax.set_xlabel(_t(N_("longitude"), lang))
        ax.set_ylabel(_t(N_("latitude"), lang))
        ax.set_title(str(col) if n > 1 or not title else title, fontsize=10)
        ax.grid(alpha=0.2)
    if title and n > 1:
        fig.suptitle(title)
    return _done(fig)


def season_months(months: pd.DataFrame, *, lang: str | None = None,
                  names: Mapping[str, str] | None = None) -> Figure:
    """On-site days per expert and month (bars) against the contract's cap (a tick), from
    ``solvers.season.season_tables(...)["months"]`` (index expert × month); the legend
    names each expert by ``names`` (expert id → name, e.g. ``season_tables(...)["experts"]
    ["name"]``)."""
    lang = _lang(lang)
    days = months["onsite_days"].unstack("expert")
    caps = months["cap"].unstack("expert")
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(days)), 4.0))
    n = max(1, days.shape[1])
    width = 0.8 / n
    x = np.arange(len(days))
    for k, (expert, colour) in enumerate(zip(days.columns, _colours(n), strict=False)):
        ax.bar(x + k * width, days[expert], width, label=(names or {}).get(expert, str(expert)), color=colour)
        cap = caps[expert]
        if cap.notna().any():
            ax.scatter(x + k * width, cap, marker="_", s=120, color="k", zorder=3)
    ax.set_xticks(x + 0.4 - width / 2, list(days.index))
    ax.set_ylabel(_t(N_("on-site days (black tick: the contract's cap)"), lang))
    ax.set_title(_t(N_("on-site days per expert and month"), lang))
    ax.legend(fontsize=7, ncols=min(n, 5))
    ax.grid(axis="y", alpha=0.3)
    return _done(fig)


def _colours(n: int) -> np.ndarray:
    return plt.get_cmap("tab10")(np.arange(max(n, 1)) % 10)


def week_chart(problem: PlanRequest, plan: Plan, *, lang: str | None = None) -> Figure:
    """One panel per working date, one row per expert: each visit a bar from start to end
    (solid on-site, hatched online) labelled with the municipality, the drives from and back to
    the base as thin grey bars. Hours on the x axis."""
    lang = _lang(lang)
    ja = lang == "ja"
    dates = sorted({v.date for v in plan.visits} | {r.date for r in plan.routes}) or \
        [problem.horizon.start]
    experts = [e.id for e in problem.experts]
    names = [expert_name(problem, e) for e in experts]
    locs = problem.location_by_id
    fig, axes = plt.subplots(1, len(dates), figsize=(3.2 * len(dates) + 1.5,
                                                     0.55 * len(experts) + 1.6),
                             sharey=True, squeeze=False)
    colours = dict(zip(experts, _colours(len(experts)), strict=False))
    hours = [v.start for v in plan.visits] + [r.leave for r in plan.routes]
    ends = [v.end for v in plan.visits] + [r.return_ for r in plan.routes]
    lo = (min(hours, default=8 * 60) // 60) * 60
    hi = grid_up(max(ends, default=18 * 60), 60)
    for ax, day in zip(axes.flat, dates, strict=False):
        for r in plan.routes:
            if r.date == day and r.expert in colours:
                y = experts.index(r.expert)
                ax.barh(y, r.return_ - r.leave, left=r.leave, height=0.18, color="0.75")
        for v in plan.visits:
            if v.date != day:
                continue
            for e in v.experts:
                if e not in colours:
                    continue
                y = experts.index(e)
                ax.barh(y, v.end - v.start, left=v.start, height=0.6, color=colours[e],
                        hatch="//" if v.mode == "online" else None,
                        alpha=0.55 if v.mode == "online" else 0.9, edgecolor="k", linewidth=0.4)
                loc = locs.get(v.location)
                label = (loc.name if ja else (loc.name_en or loc.name)) if loc else v.location
                ax.text((v.start + v.end) / 2, y, label, ha="center", va="center", fontsize=6.5)
        ax.set_xlim(lo, hi)
        ticks = list(range(lo, hi + 1, 120))
        ax.set_xticks(ticks, [f"{t // 60}:00" for t in ticks], fontsize=7)
        wd = "月火水木金土日"[day.weekday()] if ja else day.strftime("%a")
        ax.set_title(f"{day.month}/{day.day} ({wd})", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].set_yticks(range(len(experts)), names, fontsize=8)
    axes[0, 0].invert_yaxis()
    fig.suptitle(_t(N_("Week per expert (hatched: online; grey: away from base incl. "
                       "driving)"), lang), fontsize=10)
    return _done(fig)


def route_map(problem: PlanRequest, plan: Plan, *, lang: str | None = None) -> Figure:
    """Every location with coordinates, and each expert-day's route (base → stops → base) as a
    line in the expert's colour; places labelled by name."""
    lang = _lang(lang)
    ja = lang == "ja"
    locs = {k: v for k, v in problem.location_by_id.items()
            if v.lat is not None and v.lon is not None}
    #: (longitude, latitude) of every place drawn
    at = {k: (v.lon, v.lat) for k, v in locs.items()
          if v.lat is not None and v.lon is not None}
    experts = [e.id for e in problem.experts]
    colours = dict(zip(experts, _colours(len(experts)), strict=False))
    fig, ax = plt.subplots(figsize=(7.5, 6.5))
    visited = {v.location for v in plan.visits if v.mode == "onsite"}
    for loc in locs.values():
        x, y = at[loc.id]
        ax.scatter(x, y, s=40 if loc.id in visited else 14,
                   c="k" if loc.id in visited else "0.6", zorder=3)
        ax.annotate(loc.name if ja else (loc.name_en or loc.name), (x, y),
                    fontsize=7, xytext=(3, 3), textcoords="offset points")
    drawn: set[str] = set()
    for r in plan.routes:
        e = problem.expert_by_id.get(r.expert)
        if e is None or e.base not in locs:
            continue
        path = [e.base, *r.stops, e.base]
        pts = [at[x] for x in path if x in at]
        label = None
        if r.expert not in drawn:
            label = expert_name(problem, r.expert)
            drawn.add(r.expert)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], color=colours.get(r.expert, "k"),
                alpha=0.75, linewidth=1.6, label=label)
    ax.set_aspect(1 / math.cos(math.radians(33.6)))
    ax.set_xlabel(_t(N_("longitude"), lang))
    ax.set_ylabel(_t(N_("latitude"), lang))
    ax.set_title(_t(N_("Routes (per expert and day)"), lang))
    if drawn:
        ax.legend(fontsize=7, loc="best")
    if not locs:
        ax.text(0.5, 0.5, _t(N_("no location has coordinates"), lang),
                ha="center", va="center", transform=ax.transAxes)
    ax.grid(alpha=0.2)
    return _done(fig)
