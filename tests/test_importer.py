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
    assert "row 3, column '分野': unknown field 'foo' (valid: design, security, data, cocreation, pr)" in texts
    assert any(t.startswith("row 3, column '形態'") for t in texts)
    assert "row 3, column '所要時間': must be > 0" in texts


def test_missing_required_column_and_week_not_monday(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("自治体,分野\n松山市,広報\n", encoding="utf-8")
    with pytest.raises(InputError, match="column '形態': required column missing"):
        import_requests(path, "2026-12-07")
    with pytest.raises(InputError, match=r"--week: must be a Monday"):
        import_requests(path, "2026-12-08")


def test_unknown_file_type(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="must be a .xlsx or .csv"):
        import_requests(path, "2026-12-07")


def _coordinators_sheet(path, header=("No", "自治体", "", "分野", "形態", "所要時間（分）", "優先度",
                                      "希望開始日", "件名", "備考"), rows=None):
    """A sheet as a coordinator makes it: a merged title row and a blank row above the
    header, a blank spacer column, units in brackets, a note column."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = "令和8年度 DX専門家派遣 依頼一覧（12月第2週）"
    ws.merge_cells("A1:J1")
    ws.append([])
    ws.append(list(header))
    for row in rows or [
        ("r1", "松山市", "", "広報", "訪問", 90, 7, "2026/12/8", "①SNS運用研修（㈱協力）", "電話済"),
        ("r2", "上島町", "", "データ活用", "オンライン", "1時間30分", "", "12月9日", "ＤＸ推進", ""),
    ]:
        ws.append(list(row))
    wb.save(path)
    return path


def test_a_sheet_with_a_title_row_units_and_spacers_reads(tmp_path):
    p = import_requests(_coordinators_sheet(tmp_path / "依頼.xlsx"), "2026-12-07")
    a, b = p.requests
    assert (a.id, a.location, a.duration_min, a.priority, str(a.earliest)) == (
        "r1", "382019", 90, 7, "2026-12-08")
    assert (b.mode, b.duration_min, b.priority, str(b.earliest)) == ("online", 90, 5,
                                                                     "2026-12-09")
    # titles as written: circled digits, ㈱ and full-width letters stay
    assert a.title == "①SNS運用研修（㈱協力）" and b.title == "ＤＸ推進"


@pytest.mark.parametrize("header", ["所要時間（分）", "所要時間(分)", "所要時間 (分)", "所要時間【分】",
                                    "所要時間\n（分）", "所要時間※"])
def test_header_variants_with_units_in_brackets(tmp_path, header):
    path = tmp_path / "req.csv"
    path.write_text(f"自治体,分野,形態,\"{header}\"\n松山市,広報,訪問,60\n", encoding="utf-8")
    assert import_requests(path, "2026-12-07").requests[0].duration_min == 60


def test_a_duration_column_in_hours_is_read_as_hours(tmp_path):
    path = tmp_path / "req.csv"
    path.write_text("自治体,分野,形態,所要時間（時間）\n松山市,広報,訪問,1.5\n", encoding="utf-8")
    assert import_requests(path, "2026-12-07").requests[0].duration_min == 90


def test_errors_are_told_in_the_sheets_own_words(tmp_path):
    path = _coordinators_sheet(tmp_path / "依頼.xlsx", rows=[
        ("r1", "松山市", "", "料理", "訪問", "", 7, "", "", ""),
        ("r2", "上島町", "", "広報", "訪問", "長め", "", "", "", "")])
    with pytest.raises(InputError) as info:
        import_requests(path, "2026-12-07")
    texts = [p.text("ja") for p in info.value.problems]
    assert texts[0].startswith("4 行目「分野」: 不明な分野 '料理' です（使える分野: デザイン思考")
    assert "4 行目「所要時間（分）」: 必須項目です" in texts
    assert any(t.startswith("5 行目「所要時間（分）」: 90、90分") for t in texts)
    assert not any("duration_min" in t for t in texts) and len(texts) == 3


def test_a_missing_column_is_named_once_not_on_every_row(tmp_path):
    path = tmp_path / "req.csv"
    path.write_text("自治体,分野,形態\n松山市,広報,訪問\n上島町,広報,訪問\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        import_requests(path, "2026-12-07")
    assert [p.text("ja") for p in info.value.problems] == [
        "列「所要時間」: 必須の列がありません（所要時間 / duration / 時間（分））"]


def test_an_unknown_column_is_still_refused(tmp_path):
    path = tmp_path / "req.csv"
    path.write_text("自治体,分野,形態,所要時間,優先土\n松山市,広報,訪問,60,3\n", encoding="utf-8")
    with pytest.raises(InputError, match="column '優先土': unknown column"):
        import_requests(path, "2026-12-07")


@pytest.mark.parametrize(("week", "ok"), [("2026/12/7", True), ("2026-12-07", True),
                                          ("2026年12月7日", True), ("12/7", False)])
def test_the_week_reads_like_a_date_in_the_sheet(week, ok):
    frame = pd.DataFrame({"自治体": ["松山市"], "分野": ["広報"], "形態": ["訪問"], "所要時間": ["60"]})
    if ok:
        assert str(import_requests(frame, week).horizon.start) == "2026-12-07"
    else:
        with pytest.raises(InputError, match="--week"):
            import_requests(frame, week)


# --- A workbook as Excel keeps it: several sheets, merged cells, dates as numbers, formulas ---

_HEADER = ["番号", "自治体", "分野", "形態", "所要時間（分）", "希望開始日", "件名"]


def _workbook(path, build):
    import openpyxl

    wb = openpyxl.Workbook()
    build(wb)
    wb.save(path)
    return path


def _requests_sheet(ws, rows):
    ws["A1"] = "依頼一覧（12月第2週）"
    ws.merge_cells("A1:G1")
    ws.append([])
    ws.append(_HEADER)
    for row in rows:
        ws.append(list(row))


def _with_saved_values(path, values):
    """The workbook as Excel saves it: each formula followed by the value it computed
    (openpyxl writes formulas alone, as a program that does not compute them)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    for name in [n for n in parts if n.startswith("xl/worksheets/")]:
        xml = parts[name].decode("utf-8")
        for formula, value in values.items():
            xml = xml.replace(f"<f>{formula}</f><v />", f"<f>{formula}</f><v>{value}</v>")
        parts[name] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_the_sheet_of_requests_is_found_among_several(tmp_path):
    def build(wb):
        cover = wb.active
        cover.title = "記入方法"
        cover.append(["この表の使い方"])
        cover.append(["依頼は「依頼一覧」シートに記入してください"])
        template = wb.create_sheet("ひな形")      # hidden: a copy of the header to start from
        template.append(_HEADER)
        template.sheet_state = "hidden"
        _requests_sheet(wb.create_sheet("依頼一覧"), [
            ("r1", "松山市", "広報", "訪問", 90, "2026/12/8", "SNS研修")])

    p = import_requests(_workbook(tmp_path / "依頼.xlsx", build), "2026-12-07")
    assert [(r.id, r.location, r.duration_min) for r in p.requests] == [("r1", "382019", 90)]


def test_two_sheets_of_requests_must_be_chosen_between(tmp_path):
    def build(wb):
        _requests_sheet(wb.active, [("r1", "松山市", "広報", "訪問", 90, "", "")])
        wb.active.title = "12月第1週"
        _requests_sheet(wb.create_sheet("12月第2週"),
                        [("r9", "上島町", "データ活用", "オンライン", 60, "", "")])

    path = _workbook(tmp_path / "依頼.xlsx", build)
    with pytest.raises(InputError) as info:
        import_requests(path, "2026-12-07")
    assert info.value.problems[0].text("ja").endswith(
        "依頼の表が複数のシートにあります（12月第1週、12月第2週）。--sheet でシートを指定してください")
    assert import_requests(path, "2026-12-07", sheet="12月第2週").requests[0].id == "r9"
    with pytest.raises(InputError) as info:
        import_requests(path, "2026-12-07", sheet="1月")
    assert info.value.problems[0].text("ja") == (
        "--sheet: 依頼.xlsx にシート「1月」はありません（シート: 12月第1週、12月第2週）")


def test_a_municipality_merged_down_its_rows_is_each_rows(tmp_path):
    def build(wb):
        ws = wb.active
        _requests_sheet(ws, [("r1", "上島町", "広報", "訪問", 90, "", "SNS研修"),
                             ("r2", None, "データ活用", "オンライン", 60, "", "データ"),
                             ("r3", "松山市", "デザイン", "訪問", 60, "", "窓口"),
                             (None, None, None, None, None, None, None)])
        ws.merge_cells("B4:B5")
        ws.merge_cells("B6:B7")        # down into an empty row: that row stays no request

    p = import_requests(_workbook(tmp_path / "依頼.xlsx", build), "2026-12-07")
    assert [(r.id, r.location) for r in p.requests] == [
        ("r1", "383562"), ("r2", "383562"), ("r3", "382019")]


def test_a_header_of_two_rows_reads_as_one(tmp_path):
    def build(wb):
        ws = wb.active
        ws.append(["依頼一覧"])
        ws.append(["番号", "自治体", "分野", "形態", "所要時間", "希望日", None, "件名"])
        ws.append([None, None, None, None, "（分）", "開始日", "終了日", None])
        ws.append(["r1", "松山市", "広報", "訪問", 90, "12/8", "12/9", "SNS研修"])
        for cols in ("A2:A3", "B2:B3", "C2:C3", "D2:D3", "F2:G2", "H2:H3"):
            ws.merge_cells(cols)

    p = import_requests(_workbook(tmp_path / "依頼.xlsx", build), "2026-12-07")
    (r,) = p.requests
    assert (r.id, r.duration_min, str(r.earliest), str(r.latest), r.title) == (
        "r1", 90, "2026-12-08", "2026-12-09", "SNS研修")


def test_dates_kept_as_excel_numbers_read_as_dates(tmp_path):
    import datetime as dt

    def build(wb):
        ws = wb.active
        _requests_sheet(ws, [("r1", "松山市", "広報", "訪問", 90, 46364, ""),
                             ("r2", "松山市", "広報", "訪問", 90, dt.datetime(2026, 12, 9), ""),
                             ("r3", "松山市", "広報", "訪問", 90, 46371, "")])

    with pytest.raises(InputError) as info:
        import_requests(_workbook(tmp_path / "依頼.xlsx", build), "2026-12-07")
    # 46364 is 2026-12-08 and reads; 46371 is a week later, outside the week, said as a date
    assert [p.text("ja") for p in info.value.problems] == [
        "6 行目「希望開始日」: 12/15 は対象週（12/7 – 12/11）の外です"]


def test_a_workbook_of_the_1904_date_system_reads_its_own_dates(tmp_path):
    """Excel for Mac saved workbooks counting days from 1904-01-01 (``date1904`` in the
    workbook, openpyxl's ``epoch``): the same day is 1,462 less there, and a date kept as a
    number, or a formula's value, must be counted from that day, not from 1899-12-30."""
    import datetime as dt
    import zipfile

    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    def build(wb):
        wb.epoch = CALENDAR_MAC_1904
        ws = wb.active
        _requests_sheet(ws, [("r1", "松山市", "広報", "訪問", 90, 46364 - 1462, ""),
                             ("r2", "松山市", "広報", "訪問", 90, dt.datetime(2026, 12, 9), ""),
                             ("r3", "松山市", "広報", "訪問", 90, "=F4+2", ""),
                             ("r4", "松山市", "広報", "訪問", 90, 46371 - 1462, "")])
        ws["F5"].number_format = "yyyy/m/d"

    path = _with_saved_values(_workbook(tmp_path / "依頼.xlsx", build), {"F4+2": 46366 - 1462})
    with zipfile.ZipFile(path) as z:
        assert b'date1904="1"' in z.read("xl/workbook.xml")        # as Excel for Mac writes it
    with pytest.raises(InputError) as info:
        import_requests(path, "2026-12-07")
    # r4 is a week later in the 1904 count too: outside the week, said as the right date
    assert [p.text("ja") for p in info.value.problems] == [
        "7 行目「希望開始日」: 12/15 は対象週（12/7 – 12/11）の外です"]
    wb = __import__("openpyxl").load_workbook(path)
    wb.active.delete_rows(7)
    wb.save(path)
    path = _with_saved_values(path, {"F4+2": 46366 - 1462})
    got = {q.id: str(q.earliest) for q in import_requests(path, "2026-12-07").requests}
    assert got == {"r1": "2026-12-08", "r2": "2026-12-09", "r3": "2026-12-10"}


def test_a_formula_reads_as_the_value_excel_saved(tmp_path):
    def build(wb):
        _requests_sheet(wb.active, [("r1", "松山市", "広報", "訪問", "=60*1.5", "", "")])

    path = _workbook(tmp_path / "依頼.xlsx", build)
    with pytest.raises(InputError) as info:        # never computed: said so, once
        import_requests(path, "2026-12-07")
    assert [p.text("ja") for p in info.value.problems] == [
        "4 行目「所要時間（分）」: 数式 '=60*1.5' の計算結果が保存されていません"
        "（Excel で開いて保存するか、値を入力してください）"]
    _with_saved_values(path, {"60*1.5": 90})
    assert import_requests(path, "2026-12-07").requests[0].duration_min == 90


def test_an_old_excel_file_is_told_to_be_saved_as_xlsx(tmp_path):
    path = tmp_path / "依頼.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match=r"save the sheet as \.xlsx"):
        import_requests(path, "2026-12-07")


def test_the_command_takes_the_sheet_by_name(tmp_path, capsys):
    from service.cli import main

    def build(wb):
        _requests_sheet(wb.active, [("r1", "松山市", "広報", "訪問", 90, "", "")])
        wb.active.title = "12月第1週"
        _requests_sheet(wb.create_sheet("12月第2週"),
                        [("r9", "上島町", "データ活用", "オンライン", 60, "", "")])

    path = _workbook(tmp_path / "依頼.xlsx", build)
    out = tmp_path / "week.json"
    assert main(["import", str(path), "--week", "2026-12-07", "--out", str(out)]) == 2
    assert "--sheet でシートを指定してください" in capsys.readouterr().err and not out.exists()
    assert main(["import", str(path), "--week", "2026-12-07", "--sheet", "12月第2週",
                 "--out", str(out)]) == 0
    assert '"id": "r9"' in out.read_text(encoding="utf-8")
