"""``dxshare keys``: create prints the key once and stores only its hash; list never shows
keys; revoke makes the key useless; bad input is one line on stderr and exit 2."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy import select

from service.auth import hash_key, lookup_key
from service.cli_serve import register
from service.db import ApiKey, make_engine, session_factory


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    for name in ("DXSHARE_DATABASE_URL", "DXSHARE_DB_PATH"):
        monkeypatch.delenv(name, raising=False)
    p = argparse.ArgumentParser()
    register(p.add_subparsers())
    args = p.parse_args(argv)
    return args.handler(args)


def test_create_list_revoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "keys.sqlite")
    assert _run(["keys", "create", "--db", db, "--role", "municipality", "--municipality",
                 "382019", "--label", "松山市 DX推進課"], monkeypatch) == 0
    key = capsys.readouterr().out.strip()
    assert key.startswith("dxs_")
    eng = make_engine(f"sqlite:///{db}")
    with session_factory(eng)() as s:
        row = s.scalar(select(ApiKey))
        assert row.hash == hash_key(key) and key not in (row.prefix + row.hash)
        assert lookup_key(s, key).municipality == "382019"
    assert _run(["keys", "list", "--db", db], monkeypatch) == 0
    listed = capsys.readouterr().out
    assert "municipality" in listed and "382019" in listed and key not in listed
    assert _run(["keys", "revoke", "1", "--db", db], monkeypatch) == 0
    with session_factory(eng)() as s:
        assert lookup_key(s, key) is None
    assert _run(["keys", "revoke", "99", "--db", db], monkeypatch) == 2
    eng.dispose()


@pytest.mark.parametrize("argv", [
    ["--role", "municipality"], ["--role", "municipality", "--municipality", "999999"],
    ["--role", "expert", "--expert", "nobody"]])
def test_create_refuses_unbound_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code = _run(["keys", "create", "--db", str(tmp_path / "k.sqlite"), *argv], monkeypatch)
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err


def test_keys_speak_the_commands_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from service.cli import main

    for name in ("DXSHARE_DATABASE_URL", "DXSHARE_DB_PATH", "DXSHARE_LANG"):
        monkeypatch.delenv(name, raising=False)
    db = str(tmp_path / "keys.sqlite")
    assert main(["keys", "create", "--db", db, "--role", "municipality",
                 "--municipality", "どこでもない町"]) == 2
    assert capsys.readouterr().err.strip() == (
        "dxshare keys create: --municipality には自治体のコードか名前を指定してください"
        "（'どこでもない町' が指定されました）")
    assert main(["--lang", "en", "keys", "create", "--db", db, "--role", "expert",
                 "--expert", "nobody"]) == 2
    assert capsys.readouterr().err.strip() == (
        "dxshare keys create: --expert must be a known expert id, got 'nobody'")
    assert main(["keys", "create", "--db", db, "--role", "municipality",
                 "--municipality", "松山市"]) == 0
    assert capsys.readouterr().err.strip() == (
        "# キー ID 1、役割 municipality 382019。キーは一度だけ表示されます。今すぐ保管してください")
    assert main(["keys", "revoke", "7", "--db", db]) == 2
    assert capsys.readouterr().err.strip() == "dxshare keys revoke: ID 7 のキーはありません"
    assert main(["--lang", "en", "keys", "revoke", "1", "--db", db]) == 0
    assert capsys.readouterr().err.strip() == "key 1 revoked"
