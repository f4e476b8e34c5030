import json

import pandas as pd
import pytest

from engine.errors import InputError
from engine.matching import (
    from_frames,
    load,
    load_demo,
    parse_document,
    read_csv_dir,
    to_document,
    to_frames,
    write_csv_dir,
    write_json,
)


def test_demo_is_labelled_synthetic_on_real_municipalities():
    d = load_demo()
    assert d.meta["synthetic"] is True
    assert len(d.municipalities) == 21 and len(d.needs) == 60 and len(d.candidates) == 200
    assert all(c.name.startswith("【架空】") for c in d.candidates)
    assert {n.field for n in d.needs} == {"design", "security", "data", "cocreation", "pr"}


def test_json_csv_and_frames_round_trip(tmp_path):
    d = load_demo()
    write_json(d, tmp_path / "d.json")
    assert load(tmp_path / "d.json") == d
    write_csv_dir(d, tmp_path / "csv")
    back = load(tmp_path / "csv")
    assert (back.needs, back.candidates, back.engagements, back.conflicts) == (
        d.needs,
        d.candidates,
        d.engagements,
        d.conflicts,
    )
    f = from_frames(to_frames(d))
    assert f.candidates == d.candidates and f.needs == d.needs


def test_frames_have_meaningful_indexes():
    fr = to_frames(load_demo())
    assert fr["needs"].index.name == "id" and fr["municipalities"].index.name == "code"
    assert list(fr["conflicts"].index.names) == ["candidate", "municipality"]


def _doc(**need):
    n = {
        "id": "N1",
        "municipality": "382019",
        "field": "data",
        "start": "2026-04-01",
        "end": "2026-06-30",
        "effort_days": 5,
    }
    n.update(need)
    return {"format": "match-data/1", "needs": [n], "candidates": []}


@pytest.mark.parametrize(
    "change, match",
    [
        ({"effort_days": 0}, r"needs\[0\]\.effort_days: must be > 0"),
        ({"field": "foo"}, r"needs\[0\]\.field: unknown field 'foo'"),
        ({"municipality": "999999"}, r"needs\[0\]\.municipality: unknown municipality"),
        ({"start": "2026-13-01"}, r"needs\[0\]\.start: not a date"),
        ({"end": "2026-01-01"}, r"needs\[0\]\.end: must not be before start"),
        ({"mode": "teleport"}, r"needs\[0\]\.mode: unknown mode"),
        ({"colour": "red"}, r"needs\[0\]\.colour: unknown column"),
    ],
)
def test_bad_json_names_the_path(change, match):
    with pytest.raises(InputError, match=match):
        parse_document(_doc(**change))


def test_bad_json_file_and_japanese_message(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.json line 1: invalid JSON"):
        load(p)
    with pytest.raises(InputError) as err:
        parse_document(_doc(effort_days=-1))
    assert "0 より大きい" in err.value.summary("ja")


def test_csv_errors_name_file_row_and_column(tmp_path):
    d = load_demo()
    write_csv_dir(d, tmp_path)
    df = pd.read_csv(tmp_path / "candidates.csv", dtype=str, keep_default_na=False)
    df.loc[10, "fields"] = "data;foo"
    df.to_csv(tmp_path / "candidates.csv", index=False)
    with pytest.raises(
        InputError, match=r"candidates.csv row 12, column 'fields': unknown field 'foo'"
    ):
        read_csv_dir(tmp_path)


def test_csv_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"needs.csv: file is missing"):
        read_csv_dir(tmp_path)


def test_csv_accepts_japanese_headers_and_names(tmp_path):
    (tmp_path / "needs.csv").write_text(
        "ID,自治体,分野,トピック,形態,開始日,終了日,機密,工数（人日）\n"
        "N1,上島町,データ利活用,ebpm;gis,オンライン,2026-04-01,2026-06-30,はい,5\n",
        encoding="utf-8",
    )
    (tmp_path / "candidates.csv").write_text(
        "ID,氏名・社名,対応分野,スキル,拠点,同時受託数\nC1,試験,data,ebpm:4;gis:2,松山市,2\n",
        encoding="utf-8",
    )
    d = read_csv_dir(tmp_path)
    n, c = d.needs[0], d.candidates[0]
    assert (n.municipality, n.field, n.topics, n.mode, n.confidential) == (
        "383562",
        "data",
        ("ebpm", "gis"),
        "remote",
        True,
    )
    assert c.skills == (("ebpm", 4), ("gis", 2)) and round(c.lat, 2) == 33.84


def test_duplicate_ids_and_bad_skill_level():
    doc = json.loads(json.dumps(to_document(load_demo())))
    doc["candidates"][1]["id"] = doc["candidates"][0]["id"]
    with pytest.raises(InputError, match=r"candidates\[1\]\.id: duplicate id"):
        parse_document(doc)
    doc = json.loads(json.dumps(to_document(load_demo())))
    doc["candidates"][3]["skills"] = {"ebpm": 9}
    with pytest.raises(
        InputError, match=r"candidates\[3\]\.skills\[0\]\.level: must be an integer 1..5"
    ):
        parse_document(doc)
