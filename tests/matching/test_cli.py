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
