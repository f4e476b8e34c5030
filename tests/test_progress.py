"""Every wait over two seconds says what is being done and how long it has left; a plan too
long for the screen is summarised, the file holding all of it."""

from __future__ import annotations

import io
from types import SimpleNamespace

from service.cli import main, progress_line
from service.console import SolveProgress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_the_time_left():
    term = _Terminal()
    with SolveProgress("計画中（依頼 40 件）", 2.0, progress_line, term) as show:
        show(SimpleNamespace(objective=9760, bound=10000, phase="main", elapsed=0.4))
        import time

        time.sleep(1.2)
    text = term.getvalue()
    assert "計画中（依頼 40 件）" in text and "現時点の最良の評価値 9,760" in text
    assert "0:00:01" in text                       # elapsed and remaining, as h:mm:ss


def test_a_pipe_gets_one_line_per_better_plan():
    pipe = io.StringIO()
    with SolveProgress("planning", 2.0, progress_line, pipe) as show:
        show(SimpleNamespace(objective=5, bound=7, phase="main", elapsed=0.4))
    assert pipe.getvalue().count("\n") == 1 and "[   0.4 s]" in pipe.getvalue()


def test_season_plan_shows_its_progress(tmp_path, capsys):
    season = tmp_path / "season.json"
    assert main(["season", "request", "--weeks", "2", "--requests-per-week", "8",
                 "--out", str(season)]) == 0
    capsys.readouterr()
    assert main(["season", "plan", str(season), "--out", str(tmp_path / "p.json"),
                 "--time-limit", "10"]) == 0
    assert "現時点の最良の評価値" in capsys.readouterr().err


def test_a_long_plan_is_summarised_with_where_the_file_is(tmp_path, capsys, monkeypatch):
    import service.report

    monkeypatch.setattr(service.report, "LONG_WEEK", 10)
    out = tmp_path / "p.json"
    assert main(["plan", "--demo", "--out", str(out), "--quiet", "--time-limit", "20"]) == 0
    text = capsys.readouterr().out
    assert str(out) in text and "--full" in text and "■ KPI" in text
    assert "■ デザイン担当" not in text and len(text.splitlines()) < 25
    assert main(["plan", "--demo", "--out", str(out), "--quiet", "--time-limit", "20",
                 "--full", "--force"]) == 0
    assert "■ デザイン担当" in capsys.readouterr().out



def test_a_command_in_english_leaves_the_process_language_as_it_was(capsys):
    """``main(["--lang", "en", ...])`` in a process (as the decomposition tests do) must not
    turn the next test's Japanese progress line English."""
    import pytest

    from service.i18n import current_lang

    assert current_lang() == "ja"
    with pytest.raises(SystemExit):
        main(["--lang", "en", "--help"])
    assert "show this help message" in capsys.readouterr().out    # English while it ran
    assert current_lang() == "ja"
    assert "現時点の最良の評価値" in progress_line(
        SimpleNamespace(objective=1, bound=2, phase="main", elapsed=0.1))
