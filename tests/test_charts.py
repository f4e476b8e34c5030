"""Plans to hand out as pictures: the week per expert and the route map (PNG and SVG)."""

from __future__ import annotations

import pytest

from service.cli import main
from service.plots import _japanese_font, kpi_bars, route_map, week_chart
from tests.helpers import problem_of, solve_checked


@pytest.fixture(scope="module")
def planned():
    problem = problem_of("two_towns")
    return problem, solve_checked(problem)


def _texts(fig):
    return [t.get_text() for ax in fig.axes for t in
            [ax.title, *ax.get_yticklabels(), *ax.texts, ax.xaxis.label]] + (
        [fig._suptitle.get_text()] if fig._suptitle else [])


def test_week_chart_has_a_bar_per_visit_and_expert_and_names_places(planned):
    problem, plan = planned
    fig = week_chart(problem, plan, lang="en")
    bars = sum(len(ax.patches) for ax in fig.axes)
    assert bars == sum(len(v.experts) for v in plan.visits) + len(plan.routes)
    names = {problem.location_by_id[v.location].name_en or problem.location_by_id[v.location].name
             for v in plan.visits}
    assert names <= set(_texts(fig))


def test_route_map_draws_one_line_per_expert_day_from_the_base():
    from engine.demand import ehime_week

    problem = ehime_week("2026-12-07", requests_per_week=10, seed=1)
    plan = solve_checked(problem)
    assert plan.routes
    fig = route_map(problem, plan, lang="en")
    lines = fig.axes[0].get_lines()
    assert len(lines) == len(plan.routes)
    for line, route in zip(lines, plan.routes, strict=True):
        assert len(line.get_xdata()) == len(route.stops) + 2     # base, stops, base
        base = problem.location_by_id[problem.expert_by_id[route.expert].base]
        assert (line.get_xdata()[0], line.get_ydata()[-1]) == (base.lon, base.lat)


def test_route_map_without_coordinates_says_so(planned):
    problem, plan = planned
    fig = route_map(problem, plan, lang="en")
    assert not fig.axes[0].get_lines()
    assert "no location has coordinates" in _texts(fig)


@pytest.mark.skipif(_japanese_font() is None, reason="no Japanese font installed")
def test_labels_are_japanese_when_the_language_is(planned, monkeypatch):
    monkeypatch.delenv("DXSHARE_LANG", raising=False)
    problem, plan = planned
    assert "訪問ルート（専門家・日ごと）" in _texts(route_map(problem, plan))
    import pandas as pd

    summary = pd.DataFrame({"mean": [3.0], "low": [2.0], "high": [4.0], "n": [2]},
                           index=pd.MultiIndex.from_tuples([("a", "visits")],
                                                           names=["scenario", "kpi"]))
    assert kpi_bars(summary, ["visits"]).axes[0].get_title() == "訪問・相談件数"
    monkeypatch.setenv("DXSHARE_LANG", "en")
    assert kpi_bars(summary, ["visits"]).axes[0].get_title() == "visits and consultations"


def test_cli_writes_png_and_svg(tmp_path, capsys):
    assert main(["plan", "--demo", "--out", str(tmp_path / "p.json"), "--png", str(tmp_path),
                 "--svg", str(tmp_path), "--quiet", "--time-limit", "20"]) == 0
    for name in ("week", "routes"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"<svg" in (tmp_path / f"{name}.svg").read_bytes()[:400]
