"""The service's settings refused as a person reads them: each bad setting named by its
command-line flag or its ``DXSHARE_*`` variable, in Japanese by default and in English when
asked, one line on stderr and exit 2 (never a traceback of the settings' validation)."""

from __future__ import annotations

import pytest

from engine.errors import InputError
from service.app import create_app
from service.cli import main
from service.config import load_settings


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


def test_a_demo_week_that_is_no_monday_is_named_by_its_flag_in_both_languages(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DXSHARE_LANG", raising=False)
    ja = _refused(["serve", "--demo-week", "2026-12-08"], capsys)
    assert ja == ("dxshare: エラー: --demo-week: 月曜日の日付（YYYY-MM-DD）である必要があります"
                  "（'2026-12-08' が指定されました）")
    en = _refused(["--lang", "en", "serve", "--demo-week", "12/7"], capsys)
    assert en == "dxshare: error: --demo-week: must be a Monday (YYYY-MM-DD), got '12/7'"


def test_a_bad_environment_variable_is_named_as_it_was_set(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("DXSHARE_RATE_LIMIT_PER_KEY", "lots")
    ja = _refused(["--lang", "ja", "keys", "list", "--db", str(tmp_path / "k.sqlite")], capsys)
    assert ja == ("dxshare: エラー: DXSHARE_RATE_LIMIT_PER_KEY: 3000/minute のような回数（複数は"
                  " ; で区切る）である必要があります（'lots' が指定されました）")
    monkeypatch.delenv("DXSHARE_RATE_LIMIT_PER_KEY")
    monkeypatch.setenv("DXSHARE_EXECUTOR", "threads")
    en = _refused(["--lang", "en", "keys", "list", "--db", str(tmp_path / "k.sqlite")], capsys)
    assert en == ("dxshare: error: DXSHARE_EXECUTOR: must be one of processes, dask, serial, "
                  "got 'threads'")


@pytest.mark.parametrize(("overrides", "path", "en", "ja"), [
    ({"start_grid_min": 7}, "DXSHARE_START_GRID_MIN",
     "must be one of 1, 5, 10, 15, 20, 30, 60 (minutes), got 7",
     "1, 5, 10, 15, 20, 30, 60（分）のいずれかである必要があります（7 が指定されました）"),
    ({"smtp_url": "http://mail"}, "DXSHARE_SMTP_URL",
     "must be smtp://host:port[?from=addr], got 'http://mail'",
     "smtp://ホスト:ポート[?from=アドレス] の形である必要があります（'http://mail' が指定されました）"),
    ({"parts_executor": "gpu"}, "DXSHARE_PARTS_EXECUTOR",
     "must be one of processes, dask, serial, got 'gpu'",
     "processes, dask, serial のいずれかである必要があります（'gpu' が指定されました）"),
    ({"job_workers": "two"}, "DXSHARE_JOB_WORKERS", "must be a whole number",
     "整数である必要があります"),
    ({"now": "noon"}, "DXSHARE_NOW", "must be a date and time YYYY-MM-DDTHH:MM",
     "日時（YYYY-MM-DDTHH:MM）である必要があります"),
])
def test_each_bad_setting_is_named_with_its_words_in_both_languages(
        overrides: dict[str, object], path: str, en: str, ja: str) -> None:
    with pytest.raises(InputError) as caught:
        load_settings(overrides)
    [p] = caught.value.problems
    assert (p.path, p.message, p.message_ja) == (path, en, ja)


def test_the_service_started_on_a_bad_environment_names_the_variable(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DXSHARE_DEMO_WEEK", "2026-12-09")
    with pytest.raises(InputError, match=r"^DXSHARE_DEMO_WEEK: must be a Monday"):
        create_app()


def test_good_settings_are_taken() -> None:
    s = load_settings({"demo_week": "2026-12-07", "smtp_url": "smtp://mail:2525?from=a@b",
                       "rate_limit_per_key": "10/second;100/minute", "executor": "serial"})
    assert (s.demo_week, s.appointment_grid, s.executor) == ("2026-12-07", 15, "serial")
