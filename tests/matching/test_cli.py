import json

import pytest

from service.cli import main


def run(*argv):
    """Through the real ``dxshare`` entry point, as a user types it."""
    return main(["match", *argv])


def test_recommend_prints_a_table(capsys):
    assert run("recommend", "--need", "N001", "-k", "3", "--lang", "en") == 0
    out = capsys.readouterr().out
    assert "rank" in out and "covers" in out


def test_assign_writes_json_and_csv(tmp_path, capsys):
    j, c = tmp_path / "a.json", tmp_path / "csv"
    assert run("assign", "--floor", "--json", str(j), "--csv", str(c)) == 0
    doc = json.loads(j.read_text(encoding="utf-8"))
    assert doc["status"] == "optimal" and len(doc["assigned"]) > 0
    assert (c / "pairs.csv").exists() and "割当" in capsys.readouterr().out


def test_peers_and_communities(capsys):
    assert run("peers", "--municipality", "Kamijima", "--communities") == 0
    assert "今治市" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        (("recommend", "--need", "NOPE", "--lang", "en"), "need_id: unknown need 'NOPE'"),
        (("assign", "--data", "missing.json"), "missing.json: "),
        (("peers", "--municipality", "Atlantis", "--lang", "en"), "municipality: unknown"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    assert run(*argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err


def test_recommend_as_a_municipality_named_in_japanese(capsys):
    """``--as`` takes what ``match peers`` takes: a code, a Japanese or a romaji name."""
    assert run("recommend", "--need", "N013", "-k", "2", "--as", "上島町") == 0
    by_name = capsys.readouterr().out
    assert run("recommend", "--need", "N013", "-k", "2", "--as", "383562") == 0
    assert capsys.readouterr().out == by_name and "順位" in by_name
    assert run("assign", "--as", "Kamijima") == 0
    assert run("recommend", "--need", "N013", "--as", "東京都", "--lang", "en") == 2
    assert "--as: unknown municipality '東京都'" in capsys.readouterr().err


def test_tables_line_up_japanese_by_display_width(capsys):
    assert run("peers", "--municipality", "上島町", "-k", "3") == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if x.strip()]
    header, rows = lines[0], lines[2:]
    assert "類似自治体" in header and "類似度" in header
    import unicodedata

    def width(s):
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    col = width(header[:header.index("類似度") + len("類似度")])
    rows = [r for r in rows if not r[:1].isspace()]    # not the wrapped reason lines
    assert len(rows) == 3
    for row in rows:   # the (right-aligned) similarity ends at the same display column
        cells = row.split()
        end = row.index(cells[1]) + len(cells[1])
        assert width(row[:end]) == col, row


def test_every_problem_of_a_csv_directory_at_once(tmp_path, capsys):
    """Bad cells in two files, a file in Shift-JIS: all problems listed, and in a CSV."""
    (tmp_path / "needs.csv").write_bytes(
        "ID,自治体,分野,形態,開始日,終了日,工数（人日）\n"
        "N1,上島町,データ活用,オンライン,2026-04-01,2026-06-30,５\n"
        "N2,東京都,データ,オンライン,2026-04-01,2026-06-30,5\n"
        "N3,松山市,料理,訪問,2026-04-01,2026-06-30,5\n".encode("cp932"))
    (tmp_path / "candidates.csv").write_text(
        "ID,氏名・社名,対応分野,スキル,拠点,同時受託数\nC1,試験,data,ebpm:9,松山市,2\n",
        encoding="utf-8")
    errors = tmp_path / "errors.csv"
    assert run("peers", "--data", str(tmp_path), "--errors", str(errors)) == 2
    err = capsys.readouterr().err
    assert "3 件の問題があります" in err
    assert "needs.csv row 3, column 'municipality'" in err
    assert "needs.csv row 4, column 'field'" in err
    assert "candidates.csv row 2, column 'skills'" in err
    assert len(errors.read_text(encoding="utf-8-sig").strip().splitlines()) == 4


@pytest.mark.parametrize("argv", [("assign",), ("assign", "--lang", "en"),
                                  ("recommend", "--need", "N001", "-k", "3"),
                                  ("peers", "--municipality", "上島町", "-k", "3"),
                                  ("peers", "--communities")])
def test_tables_put_names_first_and_ids_last(argv, capsys):
    """``match assign`` began each row with the need's id and the municipality's code
    (``N001  380008  C084``): names first, the ids a program needs in the last columns."""
    import re

    assert run(*argv) == 0
    lines = [x for x in capsys.readouterr().out.splitlines() if x.strip()]
    rows = [r for r in lines[2:] if "─" not in r][:3]
    assert rows
    for row in rows:
        first = row.split()[0]
        assert not re.fullmatch(r"\d{6}|[NC]\d{3}", first), row
    if argv[0] == "assign":
        assert "愛媛県" in lines[2] or "Ehime" in lines[2]
        assert "情報セキュリティポリシー" in lines[2]          # the need's subject
        assert re.search(r"N001\s+C084\s*$", lines[2]), lines[2]       # the ids last


def _one_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("lang, words", [("ja", "ファイルが見つかりません"), ("en", "file not found")])
def test_a_missing_data_file_is_named_in_the_readers_language(tmp_path, capsys, lang, words):
    missing = tmp_path / "needs.json"
    assert run("assign", "--data", str(missing), "--lang", lang) == 2
    label = "エラー" if lang == "ja" else "error"
    assert _one_line(capsys) == f"dxshare match: {label}: {missing}: {words}"


@pytest.mark.parametrize("lang, words", [("ja", "読み取りの権限がありません"),
                                         ("en", "no permission to read it")])
def test_an_unreadable_data_file_says_so_in_words_not_the_systems(tmp_path, capsys,
                                                                 monkeypatch, lang, words):
    from pathlib import Path

    locked = tmp_path / "needs.json"
    locked.write_text("{}", encoding="utf-8")

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", refuse)
    assert run("assign", "--data", str(locked), "--lang", lang) == 2
    err = _one_line(capsys)
    assert err.endswith(f"{locked}: {words}") and "Errno" not in err and "denied" not in err


def test_a_data_file_that_is_not_utf8_is_refused_in_one_line(tmp_path, capsys):
    sjis = tmp_path / "needs.json"
    sjis.write_bytes('{"needs": "上島町"}'.encode("shift_jis"))
    assert run("assign", "--data", str(sjis)) == 2
    assert _one_line(capsys).endswith(f"{sjis}: UTF-8 のテキストではありません（UTF-8 で保存してください）")


def test_outputs_in_folders_that_do_not_exist_are_made(tmp_path, capsys):
    """As every output of dxshare: the JSON and the CSV folder of a run, and the problems file
    of a refused one, are written with the folders they name."""
    out, tables = tmp_path / "a" / "b" / "out.json", tmp_path / "c" / "tables"
    assert run("assign", "--json", str(out), "--csv", str(tables), "--lang", "en") == 0
    assert json.loads(out.read_text(encoding="utf-8"))["assigned"]
    assert list(tables.glob("*.csv"))
    capsys.readouterr()
    errors = tmp_path / "d" / "errors.csv"
    assert run("assign", "--data", str(tmp_path / "none.json"), "--errors", str(errors)) == 2
    err = capsys.readouterr().err
    assert "ファイルが見つかりません" in err and "Traceback" not in err
    assert "ファイルが見つかりません" in errors.read_text(encoding="utf-8-sig")
