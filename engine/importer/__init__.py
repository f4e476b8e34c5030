"""Turn the centre's spreadsheet of requests (one row per request) into a ``plan-request/1``
on the bundled Ehime data.

The sheet may look as coordinators make it: title or note rows above the header row (the
header is the first row that names at least two known columns), merged title cells, blank
spacer columns, units in brackets after a header (「所要時間（分）」, 「所要時間(時間)」 —
hours are turned into minutes), and note columns (備考, メモ, 担当者 …) that are skipped.
A workbook is read as Excel shows it: among several sheets the one holding the requests (a
cover sheet of instructions and hidden sheets are passed over; ``sheet`` names one), a header
of two rows (``希望日`` merged over ``開始日``/``終了日``), a municipality merged down over its
requests' rows, dates kept as Excel's day numbers (``46364`` is 2026-12-08) and each formula's
value as Excel last saved it (a formula that was never computed is reported, not read as
empty).

Columns (English or Japanese headers, any order; only the first four are required):

=================  ==========================  ==================================================
column             Japanese header             value
=================  ==========================  ==================================================
municipality       自治体 / 市町 / 市町名        code (382019), name (松山市, 松山) or romaji
fields             分野                         one or more of design, security, data, cocreation,
                                                pr or their Japanese labels (デザイン, セキュリティ,
                                                データ, 官民共創, 広報), separated by ・ , / or spaces
mode               形態 / 方法                   onsite / online, or 訪問 / オンライン
duration_min       所要時間 / 時間（分）          minutes: 90, 90分, 1時間30分, 1:30 (≤ 1440)
priority           優先度                        1–10 (default 5)
id                 ID / 番号                     request id (default r001, r002, … by row)
earliest           開始日 / 希望開始日            YYYY-MM-DD, YYYY/M/D, M/D or M月D日 (default Monday)
latest             希望終了日 / 終了日            same forms (default: Friday of the week)
window             希望時間帯                     HH:MM-HH:MM, e.g. 13:00-17:00 (also 13時-17時)
title              件名 / 内容 / 相談内容          free text
confidential       非公開 / 機密                  yes/no, true/false, 1/0, ○
due                期限 / 対応期限 / 期日          the date it is due, any date (also after the week)
after              前回の依頼 / 前回               a follow-up: the ID of the request it follows, or
                                                its row as the sheet shows it (5, 5行目, row 5)
min_days           最短間隔 / 間隔（最短）          days after it at the earliest: 14, 14日, 2週間
                                                (default 1)
max_days           最長間隔 / 間隔（最長）          days after it at the latest (default: no limit)
same_experts       同じ専門家 / 同一専門家          ○ / yes (default), or 不問 / no: any experts
=================  ==========================  ==================================================

Every bad cell is reported as ``row N, column 'X': …`` (``N 行目「X」: …`` in Japanese; row
numbers as the spreadsheet shows them), all at once, in the sheet's own column names as
written. CSV files may be UTF-8 (with or without BOM), Shift-JIS (cp932, what Excel writes in
Japan) or UTF-16. Codes, numbers, dates and times are NFKC-normalised (``１３：００－１７：００``
reads as ``13:00-17:00``); titles are kept as written (``①SNS…㈱`` stays). Dates, modes,
durations, priorities and fields are read by ``engine.readings``, as in a plan-request/1 file
and the HTTP service; municipalities and fields go through the one resolver of
``engine.names`` (``上島``, ``Kamijima``, ``データ活用``).

Modules: ``columns`` (the known columns and the header row), ``workbook`` (a sheet read as
Excel shows it), ``cells`` (one row read into a request) and ``requests`` (the week's
problem from the sheet).
"""

from __future__ import annotations

from engine.importer.columns import COLUMNS
from engine.importer.requests import import_requests
from engine.importer.workbook import read_sheet, read_table

__all__ = ["COLUMNS", "import_requests", "read_sheet", "read_table"]
