import pandas as pd
import pytest

from engine.errors import InputError
from engine.importer import import_requests


def test_japanese_headers_names_and_labels(tmp_path):
    path = tmp_path / "req.csv"
    path.write_text("自治体,分野,形態,所要時間,優先度,希望時間帯,件名,非公開\n"
                    "松山市,広報,訪問,90,7,13:00-17:00,SNS統合,\n"
                    "上島,セキュリティ・データ,訪問,120,9,,クラウド,○\n"
                    "Matsuyama,data,オンライン,60,,,,\n", encoding="utf-8-sig")
    p = import_requests(path, "2026-12-07")
    a, b, c = p.requests
    assert (a.location, a.fields, a.mode, a.window, a.priority) == (
        "382019", ("pr",), "onsite", (780, 1020), 7)
    assert b.location == "383562" and b.fields == ("security", "data") and b.confidential
    assert c.mode == "online" and c.priority == 5
    assert str(a.earliest) == "2026-12-07" and str(a.latest) == "2026-12-11"
    assert len(p.locations) == 21 and len(p.experts) == 5


def test_xlsx_with_english_headers(tmp_path):
    path = tmp_path / "req.xlsx"
    pd.DataFrame({"municipality": ["382027"], "fields": ["design"], "mode": ["onsite"],
                  "duration_min": [60], "id": ["x1"]}).to_excel(path, index=False)
    p = import_requests(path, "2026-12-07")
    assert p.requests[0].id == "x1" and p.requests[0].location == "382027"


def test_every_bad_cell_reported_by_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("自治体,分野,形態,所要時間\n東京都,広報,訪問,90\n松山市,foo,徒歩,-5\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_requests(path, "2026-12-07")
    texts = [p.text() for p in info.value.problems]
    assert "row 2, column '自治体': unknown municipality '東京都'" in texts
    assert "row 3, column '分野': unknown field 'foo'" in texts
    assert any(t.startswith("row 3, column '形態'") for t in texts)
    assert "row 3, column '所要時間': must be > 0" in texts


def test_missing_required_column_and_week_not_monday(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("自治体,分野\n松山市,広報\n", encoding="utf-8")
    with pytest.raises(InputError, match="column 'mode'"):
        import_requests(path, "2026-12-07")
    with pytest.raises(InputError, match=r"--week: must be a Monday"):
        import_requests(path, "2026-12-08")


def test_unknown_file_type(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="must be a .xlsx or .csv"):
        import_requests(path, "2026-12-07")
