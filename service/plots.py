"""Figures of scenario results (matplotlib, Agg backend): returned, never shown.

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
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from engine.ehime import municipalities  # noqa: E402

__all__ = ["KPI_LABELS", "coverage_map", "kpi_bars", "utilisation_heatmap"]

#: Axis labels of the scenario KPIs (English, Japanese).
KPI_LABELS: dict[str, tuple[str, str]] = {
    "visits": ("visits", "訪問・相談件数"),
    "expert_visits": ("expert-visits", "専門家訪問数"),
    "served_priority": ("served priority", "対応した優先度合計"),
    "served_priority_share": ("share of priority served", "優先度の充足率"),
    "coverage": ("municipalities covered (share)", "対応した市町の割合"),
    "small_share": ("share to municipalities < 50,000", "人口5万人未満の市町の割合"),
    "drive_minutes": ("drive minutes", "移動時間（分）"),
    "utilisation": ("expert utilisation", "専門家の稼働率"),
    "unscheduled": ("unscheduled", "未計画件数"),
    "online_consultations": ("online consultations", "オンライン相談件数"),
    "onsite_visits": ("on-site visits", "現地訪問件数"),
}


def _label(kpi: str, lang: str) -> str:
    en, ja = KPI_LABELS.get(kpi, (kpi, kpi))
    return ja if lang == "ja" else en


def _lang(lang: str) -> str:
    """``'ja'`` when a Japanese-capable font is installed (and used), else ``'en'``: labels
    fall back to English rather than to empty boxes."""
    if lang != "ja":
        return "en"
    from matplotlib import font_manager
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in ("Noto Sans CJK JP", "IPAexGothic", "IPAGothic", "TakaoGothic", "VL Gothic"):
        if name in names:
            plt.rcParams["font.family"] = name
            return "ja"
    return "en"


def kpi_bars(summary: pd.DataFrame, kpis: Sequence[str], *, lang: str = "en",
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
    fig.tight_layout()
    return fig


def utilisation_heatmap(table: pd.DataFrame, *, lang: str = "en",
                        title: str = "") -> Figure:
    """Experts (rows) × dates (columns) busy share, 0–1; blank where the expert cannot work."""
    lang = _lang(lang)
    values = table.to_numpy(float)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * table.shape[1] + 2.5),
                                    max(2.0, 0.45 * table.shape[0] + 1.2)))
    masked = np.ma.masked_invalid(values)
    im = ax.imshow(masked, aspect="auto", cmap="YlOrRd", vmin=0.0, vmax=1.0)
    ax.set_yticks(range(table.shape[0]), [str(i) for i in table.index])
    ax.set_xticks(range(table.shape[1]), [str(c)[5:] if len(str(c)) == 10 else str(c)
                                          for c in table.columns], rotation=45, ha="right")
    for (i, j), v in np.ndenumerate(values):
        if not np.isnan(v):
            ax.text(j, i, f"{v:.0%}", ha="center", va="center", fontsize=7,
                    color="white" if v > 0.6 else "black")
    fig.colorbar(im, ax=ax, label="稼働率" if lang == "ja" else "busy share of working day")
    ax.set_title(title or ("専門家の稼働率" if lang == "ja" else "expert utilisation"))
    fig.tight_layout()
    return fig


def coverage_map(coverage: pd.Series | pd.DataFrame, *, lang: str = "en",
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
        ax.set_xlabel("経度" if lang == "ja" else "longitude")
        ax.set_ylabel("緯度" if lang == "ja" else "latitude")
        ax.set_title(str(col) if n > 1 or not title else title, fontsize=10)
        ax.grid(alpha=0.2)
    if title and n > 1:
        fig.suptitle(title)
    fig.tight_layout()
    return fig
