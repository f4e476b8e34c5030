"""The ``scenarios run`` command and the scenario figures."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from service.cli_scenarios import ProgressBar, comparison_table
from service.plots import coverage_map, kpi_bars, utilisation_heatmap
from solvers.scenarios import RunResult, compare, summarise
from tests.helpers import run_scenarios

YAML = """\
format: scenarios/1
base: {ehime: {start: 2026-12-07, requests_per_week: 5}}
run: {time_limit: 10, draws: 2, seed: 0}
scenarios:
  - name: baseline
  - name: fewer days
    expert_caps: {"*": {max_onsite_days: 1}}
"""


def test_run_prints_the_comparison_and_writes_csv(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(YAML, encoding="utf-8")
    code, out, err = run_scenarios(["scenarios", "run", str(f), "--serial", "--out", str(tmp_path / "o"),
                           "--lang", "en"])
    assert code == 0
    assert "baseline" in out and "fewer days" in out and "plans: optimal (proven) 4" in out
    assert "4/4" in err                                     # the progress bar finished
    runs = pd.read_csv(tmp_path / "o" / "runs.csv")
    assert set(runs["scenario"]) == {"baseline", "fewer days"} and set(runs["draw"]) == {0, 1}
    summary = pd.read_csv(tmp_path / "o" / "summary.csv", index_col=[0, 1])
    assert summary.loc[("baseline", "visits"), "n"] == 2
    assert len(pd.read_csv(tmp_path / "o" / "coverage.csv")) == 20


@pytest.mark.parametrize("text, where", [
    ("scenarios: [{name: a, online_share: 2}]\nbase: {ehime: {start: 2026-12-07}}\n",
     "scenarios[0].online_share"),
    ("scenarios: [{name: a\n", "line "),
    ("base: {ehime: {start: 2026-12-07}}\nscenarios: [{name: a, remove_experts: [x]}]\n",
     "scenarios[0].remove_experts[0]"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, text, where):
    f = tmp_path / "s.yaml"
    f.write_text(text, encoding="utf-8")
    code, out, err = run_scenarios(["scenarios", "run", str(f), "--serial", "--lang", "en",
                           "--out", str(tmp_path / "o")])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and where in err and "Traceback" not in err


def test_missing_file_and_bad_workers_exit_2(tmp_path):
    assert run_scenarios(["scenarios", "run", str(tmp_path / "none.yaml"), "--serial"])[0] == 2
    f = tmp_path / "s.yaml"
    f.write_text(YAML, encoding="utf-8")
    code, _, err = run_scenarios(["scenarios", "run", str(f), "--workers", "0", "--lang", "en"])
    assert code == 2 and "--workers: must be >= 1" in err


def test_progress_bar_draws_done_over_total():
    buf = io.StringIO()
    bar = ProgressBar("x", buf, width=10)
    bar(1, 4)
    bar(4, 4)
    # a pipe gets the finished bar once (a terminal sees it move), one line
    assert buf.getvalue().startswith("x ") and "4/4" in buf.getvalue()
    assert buf.getvalue().endswith("\n") and buf.getvalue().count("\n") == 1


def _results() -> list[RunResult]:
    util = {("pr-1", "2026-12-07"): 0.5, ("pr-1", "2026-12-08"): float("nan"),
            ("data-1", "2026-12-07"): 0.0, ("data-1", "2026-12-08"): 0.25}
    return [RunResult(name, d, d, "optimal", 0.1, 1.0,
                      {"visits": 10 + d + i, "coverage": 0.5}, {"382019": 2, "383562": i},
                      util, {}) for i, name in enumerate(["a", "b"]) for d in range(2)]


def test_comparison_table_shows_intervals_and_percentages():
    table = comparison_table(summarise(compare(_results())))
    assert table.loc["a", "visits"].startswith("10.5 [")
    assert table.loc["b", "coverage"] == "50% [50%, 50%]"


def test_figures_have_one_panel_per_kpi_and_scenario():
    summary = summarise(compare(_results()))
    fig = kpi_bars(summary, ["visits", "coverage"])
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 2
    heat = utilisation_heatmap(_results()[0].utilisation_frame())
    assert heat.axes[0].get_images()[0].get_array().shape == (2, 2)
    cov = pd.DataFrame({"a": {"382019": 2, "383562": 0}, "b": {"382019": 2, "383562": 1}})
    fig = coverage_map(cov, lang="ja")
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]


def test_the_utilisation_heatmap_names_the_experts():
    """Its rows were labelled by id (``design-1``): a run records the experts' names."""
    from engine.scenario import EhimeBase, Scenario
    from solvers.scenarios import run_scenario, utilisation_table

    result = run_scenario(Scenario("base", EhimeBase(start="2026-12-07", requests_per_week=6)),
                          time_limit=5)
    assert result.expert_names["pr-1"] == "広報担当"
    fig = utilisation_heatmap(utilisation_table([result]), names=result.expert_names)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert "広報担当" in labels and not any(label.endswith("-1") for label in labels)
