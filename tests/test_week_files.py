"""The expert's real week in the files handed out: each expert's calendar shows the standing
appointments, lunch breaks and nights away beside the consultations; the workbook and the CSV
files carry every rule's figures in the catalogue's words; the request sheet reads due dates
and follow-ups. Each is read as a person's program reads it (icalendar, openpyxl, CSV with a
BOM)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from icalendar import Calendar

from engine.ical import calendar_experts, calendar_update, expert_calendar
from engine.model import Break, Plan, PlanRequest
from tests.helpers import problem_of, solve_checked

UWAJIMA = "382035"


@pytest.fixture(scope="module")
def week() -> tuple[PlanRequest, Plan]:
    """中村 (松山市) on a two-day round of 南予: 宇和島市 on Monday until 17:30 (15 minutes of
    overtime), a night there, 愛南町 on Tuesday a day after its due date, the online second
    session of Monday's 宇和島 training on Tuesday, lunch both days, an appointment at 16:00."""
    problem = problem_of("nanyo_real_week")
    plan = solve_checked(problem)
    assert plan.status == "optimal" and plan.kpis["nights"] == 1
    assert plan.kpis["overtime_minutes"] == 15 and plan.kpis["late_days"] == 1
    return problem, plan


def _events(ics: bytes) -> dict[str, object]:
    return {str(ev["uid"]): ev for ev in Calendar.from_ical(ics).walk("VEVENT")}


def test_the_calendar_shows_appointments_lunch_and_nights(week):
    problem, plan = week
    events = _events(expert_calendar(problem, plan, "e1"))
    busy = events["busy:2026-12-08T16:00/e1@dxshare"]
    assert str(busy["summary"]) == "予定 / Appointment"
    assert busy.decoded("dtstart") == dt.datetime(2026, 12, 8, 16, 0, tzinfo=busy.decoded(
        "dtstart").tzinfo) and busy.decoded("dtend").hour == 16 and busy.decoded("dtend").minute == 30
    assert str(busy["transp"]) == "OPAQUE"
    lunches = {k: ev for k, ev in events.items() if k.startswith("lunch:")}
    assert set(lunches) == {"lunch:2026-12-07/e1@dxshare", "lunch:2026-12-08/e1@dxshare"}
    tuesday = lunches["lunch:2026-12-08/e1@dxshare"]
    assert str(tuesday["summary"]) == "昼休み / Lunch break"
    assert (tuesday.decoded("dtstart").strftime("%H:%M"),
            tuesday.decoded("dtend").strftime("%H:%M")) == ("12:12", "12:57")
    assert str(tuesday["transp"]) == "OPAQUE"
    night = events["night:2026-12-07/e1@dxshare"]
    assert str(night["summary"]) == "宿泊: 宇和島市 / Night in Uwajima"
    assert night.decoded("dtstart") == dt.date(2026, 12, 7)        # all day, no time
    assert night.decoded("dtend") == dt.date(2026, 12, 8)
    assert str(night["transp"]) == "TRANSPARENT" and "宇和島市 (Uwajima)" in str(night["location"])
    assert not any(k.startswith("night:2026-12-08") for k in events)   # Tuesday ends at home
    visits = [k for k in events if k.startswith("r")]
    assert sorted(visits) == ["r1/e1@dxshare", "r2/e1@dxshare", "r3/e1@dxshare"]
    # still one expert's calendar: the service finds it by its events
    assert calendar_experts(expert_calendar(problem, plan, "e1"))[1] == frozenset({"e1"})


def test_an_appointment_at_a_place_names_the_place(week):
    problem, plan = week
    e = problem.experts[0]
    at = dataclasses.replace(e, busy=(dataclasses.replace(e.busy[0], at=UWAJIMA),))
    p2 = dataclasses.replace(problem, experts=(at,))
    ev = _events(expert_calendar(p2, plan, "e1"))["busy:2026-12-08T16:00/e1@dxshare"]
    assert str(ev["summary"]) == "予定（宇和島市）/ Appointment (Uwajima)"
    assert str(ev["location"]) == "宇和島市 (Uwajima)"


def test_a_replan_moves_lunch_under_its_uid_and_cancels_a_night_no_longer_taken(week):
    problem, plan = week
    full, cancel, seq = calendar_update(problem, plan, "e1", (), {})
    assert cancel is None and seq == {}
    before = {str(ev["uid"]): int(ev.get("sequence", 0))
              for ev in Calendar.from_ical(full).walk("VEVENT")}
    moved = Break("e1", dt.date(2026, 12, 8), 12 * 60 + 30, 13 * 60 + 15)
    replanned = dataclasses.replace(
        plan, breaks=tuple(b for b in plan.breaks if b.date.day == 7) + (moved,),
        routes=tuple(dataclasses.replace(r, start_at=None, end_at=None) for r in plan.routes))
    full2, cancel2, seq2 = calendar_update(problem, replanned, "e1", (), before, previous=full)
    events = _events(full2)
    lunch = events["lunch:2026-12-08/e1@dxshare"]
    assert int(lunch["sequence"]) == 1 and lunch.decoded("dtstart").strftime("%H:%M") == "12:30"
    assert int(events["lunch:2026-12-07/e1@dxshare"]["sequence"]) == 0     # unchanged
    assert int(events["busy:2026-12-08T16:00/e1@dxshare"]["sequence"]) == 0
    assert "night:2026-12-07/e1@dxshare" not in events
    assert cancel2 is not None
    gone = _events(cancel2)
    assert set(gone) == {"night:2026-12-07/e1@dxshare"}
    night = gone["night:2026-12-07/e1@dxshare"]
    assert str(night["status"]) == "CANCELLED" and int(night["sequence"]) == 1
    assert str(Calendar.from_ical(cancel2)["method"]) == "CANCEL"
    assert seq2["lunch:2026-12-08/e1@dxshare"] == 1


@pytest.fixture(scope="module")
def written(week, tmp_path_factory):
    from service.workbook import write_csv, write_xlsx

    problem, plan = week
    d = tmp_path_factory.mktemp("files")
    write_xlsx(problem, plan, d / "plan.xlsx", "ja")
    write_xlsx(problem, plan, d / "plan_en.xlsx", "en")
    write_csv(problem, plan, d / "csv", "ja")
    return d


def _sheet(path, name) -> list[dict[str, object]]:
    import openpyxl

    ws = openpyxl.load_workbook(path)[name]
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_the_workbook_has_each_experts_days(written):
    days = {(r["専門家"], r["日付"].date()): r for r in _sheet(written / "plan.xlsx", "専門家の一日")}
    mon = days["中村", dt.date(2026, 12, 7)]
    tue = days["中村", dt.date(2026, 12, 8)]
    assert (mon["出発地"], mon["帰着地"]) == ("松山市", "宇和島市")
    assert (tue["出発地"], tue["帰着地"]) == ("宇和島市", "松山市")
    assert mon["昼休み"] == "11:30–12:15" and tue["昼休み"] == "12:12–12:57"
    assert tue["予定"] == "16:00–16:30" and not mon["予定"]
    assert (mon["終業"], mon["残業（分）"]) == ("17:30", 15)
    assert tue["残業（分）"] == 0
    assert (mon["宿泊の費用"], tue["宿泊の費用"]) == (1000, 0)
    en = {(r["expert"], r["date"].date()): r for r in _sheet(written / "plan_en.xlsx", "Days")}
    assert en["中村", dt.date(2026, 12, 7)]["ends at"] == "宇和島市 (Uwajima)"


def test_the_workbook_visits_say_due_dates_and_what_they_follow(written):
    visits = {r["依頼"]: r for r in _sheet(written / "plan.xlsx", "訪問・相談")}
    assert visits["r2"]["期限"].date() == dt.date(2026, 12, 7) and visits["r2"]["遅れた日数"] == 1
    assert visits["r1"]["遅れた日数"] == 0 and visits["r1"]["期限"] is None
    assert visits["r3"]["前回の相談"] == "宇和島市「SNS 研修」 2026-12-07"
    assert visits["r1"]["前回の相談"] is None
    header = list(visits["r1"])
    assert header[-1] == "依頼"                         # the id stays last
    kpis = {r["指標"]: r["値"] for r in _sheet(written / "plan.xlsx", "KPI")}
    assert kpis["宿泊数"] == 1 and kpis["宿泊の費用"] == 1000
    assert kpis["遅れた日数"] == 1 and kpis["期限後の訪問・相談"] == 1
    assert kpis["残業（分）"] == 15


def test_the_csv_files_carry_the_days_and_the_rules(written):
    import pandas as pd

    raw = (written / "csv" / "days.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    days = pd.read_csv(written / "csv" / "days.csv", encoding="utf-8-sig", dtype=str,
                       keep_default_na=False)
    assert list(days.columns) == ["専門家", "日付", "出発地", "帰着地", "昼休み", "予定", "終業",
                                  "残業（分）", "宿泊の費用", "専門家 ID"]
    mon = days[days["日付"] == "2026-12-07"].iloc[0]
    assert (mon["帰着地"], mon["残業（分）"], mon["宿泊の費用"]) == ("宇和島市", "15", "1000")
    visits = pd.read_csv(written / "csv" / "visits.csv", encoding="utf-8-sig", dtype=str,
                         keep_default_na=False).set_index("依頼")
    assert visits.loc["r2", "遅れた日数"] == "1" and visits.loc["r2", "期限"] == "2026-12-07"
    assert visits.loc["r3", "前回の相談"] == "宇和島市「SNS 研修」 2026-12-07"
    assert visits.loc["r3", "前回の依頼"] == "r1"
    assert list(visits.columns)[-3:] == ["前回の依頼", "自治体コード", "専門家 ID"]


def _series_workbook(path, rows, header=("番号", "自治体", "分野", "形態", "所要時間（分）",
                                          "期限", "前回の依頼", "最短間隔（日）", "最長間隔（日）",
                                          "同じ専門家")):
    """A coordinator's workbook: a merged title row, a blank row, the header, the requests."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "依頼一覧"
    ws["A1"] = "依頼一覧（12月第2週・続きの回あり）"
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append([])
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def test_the_request_sheet_reads_due_dates_and_follow_ups(tmp_path):
    from engine.importer import import_requests

    path = _series_workbook(tmp_path / "依頼.xlsx", [
        ("r1", "宇和島市", "広報", "訪問", 120, dt.datetime(2026, 12, 8), None, None, None, None),
        ("r2", "宇和島市", "広報", "オンライン", 60, "12/20", "r1", "1日", "1週間", "○"),
        ("r3", "愛南町", "広報", "訪問", 90, None, "4行目", 2, None, "不問"),
        ("r4", "松山市", "データ", "訪問", 60, None, None, None, None, None)])
    p = import_requests(path, "2026-12-07")
    q = p.request_by_id
    assert q["r1"].due == dt.date(2026, 12, 8) and q["r4"].due is None
    assert q["r2"].due == dt.date(2026, 12, 20)          # a due date after the week is kept
    a2 = q["r2"].after
    assert (a2.request, a2.min_days, a2.max_days, a2.same_experts) == ("r1", 1, 7, True)
    a3 = q["r3"].after                                   # row 4 of the sheet is r1
    assert (a3.request, a3.min_days, a3.max_days, a3.same_experts) == ("r1", 2, None, False)
    assert q["r1"].after is None and q["r4"].after is None


def test_a_sheet_the_format_writes_reads_back_the_same(tmp_path):
    """The due dates and follow-ups of a document, written into a sheet with the importer's
    headers, read back as they were."""
    from engine.importer import import_requests

    week = problem_of("nanyo_real_week")
    names = {loc.id: loc.name for loc in week.locations}
    rows = []
    for r in week.requests:
        a = r.after
        rows.append((r.id, names[r.location], "広報", "訪問" if r.onsite else "オンライン",
                     r.duration_min, r.due.isoformat() if r.due else None,
                     a.request if a else None, a.min_days if a else None,
                     a.max_days if a else None, ("○" if a.same_experts else "不問") if a else None))
    back = import_requests(_series_workbook(tmp_path / "w.xlsx", rows), "2026-12-07")
    assert [(r.id, r.due, r.after) for r in back.requests] == [
        (r.id, r.due, r.after) for r in week.requests]


def test_bad_due_and_follow_up_cells_are_named_by_row_and_column(tmp_path):
    from engine.errors import InputError
    from engine.importer import import_requests

    path = _series_workbook(tmp_path / "依頼.xlsx", [
        ("r1", "宇和島市", "広報", "訪問", 120, "来週", None, None, None, None),
        ("r2", "宇和島市", "広報", "オンライン", 60, None, "r9", "一日", None, "たぶん"),
        ("r3", "宇和島市", "広報", "訪問", 60, None, None, 3, None, None),
        ("r4", "宇和島市", "広報", "訪問", 60, None, "r4", None, None, None),
        ("r5", "宇和島市", "広報", "訪問", 60, None, "r1", 5, 2, None)])
    with pytest.raises(InputError) as info:
        import_requests(path, "2026-12-07")
    en = {p.text() for p in info.value.problems}
    ja = {p.text("ja") for p in info.value.problems}
    assert len(en) == 5, en                         # every bad cell at once
    assert any(t.startswith("row 4, column '期限': must be a date") for t in en)
    assert any(t.startswith("5 行目「同じ専門家」: はい か いいえ") for t in ja)
    assert any(t.startswith("row 5, column '最短間隔（日）': must be a number of days") for t in en)
    assert any(t.startswith("row 5, column '前回の依頼': no request 'r9' in the sheet") for t in en)
    assert any(t.startswith("row 6, column '前回の依頼': give the request this one follows")
               for t in en)
    # what the format refuses when the cells read: told in the sheet's own words
    again = _series_workbook(tmp_path / "3.xlsx", [
        ("r1", "宇和島市", "広報", "訪問", 120, None, None, None, None, None),
        ("r4", "宇和島市", "広報", "訪問", 60, None, "r4", None, None, None),
        ("r5", "宇和島市", "広報", "訪問", 60, None, "r1", 5, 2, None)])
    with pytest.raises(InputError) as info:
        import_requests(again, "2026-12-07")
    texts = {p.text() for p in info.value.problems}
    ja = {p.text("ja") for p in info.value.problems}
    assert any(t.startswith("row 5, column '前回の依頼'") and "itself" in t for t in texts), texts
    assert any(t.startswith("row 6, column '最長間隔（日）'") and "'最短間隔（日）'" in t
               for t in texts), texts
    assert any(t.startswith("6 行目「最長間隔（日）」") for t in ja), ja


def test_the_notebook_tables_carry_breaks_follow_ups_and_night_costs(week):
    from engine.tables import plan_tables

    problem, plan = week
    t = plan_tables(problem, plan)
    assert t["breaks"].loc[("e1", dt.date(2026, 12, 8)), "start"] == "12:12"
    assert t["visits"].loc["r3", "after"] == "r1" and t["visits"].loc["r1", "after"] == ""
    routes = t["routes"]
    assert routes.loc[("e1", dt.date(2026, 12, 7)), "night_cost"] == 1000
    assert routes.loc[("e1", dt.date(2026, 12, 8)), "night_cost"] == 0
    assert routes.loc[("e1", dt.date(2026, 12, 7)), "end_at"] == "宇和島市"


@pytest.mark.parametrize(("lang", "words"), [
    ("ja", ("昼休み 11:30–12:15", "残業 15 分", "宿泊: 宇和島市", "出発地: 宇和島市",
            "16:00–16:30  予定", "期限 12/7（1 日遅れ）", "前回の相談: 宇和島市「SNS 研修」",
            "宿泊数: 1", "残業（分）: 15", "遅れた日数: 1")),
    ("en", ("lunch break 11:30–12:15", "overtime 15 min", "night in 宇和島市 (Uwajima)",
            "starts at 宇和島市 (Uwajima)", "16:00–16:30  appointment",
            "due 12/7, days late: 1", "follow-up of 宇和島市 (Uwajima)「SNS 研修」",
            "nights away: 1", "overtime minutes: 15", "night cost: 1,000")),
])
def test_the_terminal_week_says_the_experts_real_week(week, lang, words):
    from service.i18n import using_lang
    from service.report import week_text

    problem, plan = week
    with using_lang(lang):
        text = week_text(problem, plan)
    for w in words:
        assert w in text, w
    # one appointment is named in the singular (the line is one of them)
    one = next(line for line in text.splitlines() if "16:00–16:30" in line)
    assert one.split()[1] == ("予定" if lang == "ja" else "appointment"), one
    # each day's header is dated as every other line a person reads: 12/7（月）, Mon 12/7
    days = ("12/7（月）", "12/8（火）") if lang == "ja" else ("Mon 12/7", "Tue 12/8")
    assert [d for d in days if any(x.startswith("  " + d) for x in text.splitlines())] == list(days)
    assert "2026-12-0" not in text                  # no ISO date anywhere a person reads
    monday = next(line for line in text.splitlines()
                  if line.startswith(("  12/7（月）", "  Mon 12/7")))
    assert "出発地" not in monday and "starts at" not in monday     # Monday starts at home
    r1 = next(line for line in text.splitlines() if "r1" in line and "15:30" in line)
    assert "期限" not in r1 and "due" not in r1                      # no due date, not late


def test_a_shift_jis_csv_reads_due_dates_and_follow_ups(tmp_path):
    """What Excel in Japan saves as CSV (cp932), the header below a title row."""
    from engine.importer import import_requests

    path = tmp_path / "依頼.csv"
    path.write_bytes(("依頼一覧（12月第2週）,,,,,,,\n"
                      "番号,自治体,分野,形態,所要時間,対応期限,前回,最短間隔,同一専門家\n"
                      "a1,上島町,広報,訪問,90,12月9日,,,\n"
                      "a2,上島町,広報,オンライン,60,,a1,２日後,はい\n").encode("cp932"))
    p = import_requests(path, "2026-12-07")
    a1, a2 = p.requests
    assert a1.due == dt.date(2026, 12, 9) and a2.due is None
    assert (a2.after.request, a2.after.min_days, a2.after.same_experts) == ("a1", 2, True)
