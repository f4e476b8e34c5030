/* dxshare dashboard: plain JavaScript over the /v1 API (no build step, no network but the
 * service itself). The API key is asked once and kept in localStorage. */
"use strict";

const FIELDS = ["design", "security", "data", "cocreation", "pr"];
const EXPERT_COLOURS = ["#c0392b", "#2471a3", "#1e8449", "#b9770e", "#7d3c98", "#17a589",
  "#a04000", "#2e4053"];

const TEXT = {
  ja: {
    title: "DX専門家 派遣計画", week: "週", logout: "ログアウト", tab_week: "週間予定",
    tab_map: "地図", tab_requests: "相談依頼", tab_unscheduled: "未割当", tab_experts: "専門家",
    login_title: "APIキーを入力してください",
    login_help: "キーは「dxshare keys create」で発行されます。このブラウザに保存されます。",
    login: "ログイン", bad_key: "APIキーが無効です", run_plan: "計画を作成",
    changes_title: "前回計画からの変更 {n} 件（連絡先の自治体ごと）", changes_none: "前回計画からの変更はありません",
    plan_notes: "計画についてのお知らせ", reason_in_notes: "理由は下のお知らせのとおりです",
    ch_moved: "日時変更", ch_dropped: "取りやめ", ch_added: "新規", ch_withdrawn: "依頼取り下げ",
    replan: "再計画", keep: "公開済みの訪問", keep_fixed: "固定する", keep_prefer: "なるべく維持",
    time_limit: "制限時間(秒)", cancel_plan: "中止", publish: "公開", show: "表示",
    src_job: "最新の計画案", src_published: "公開済み", print: "印刷 (A4横)",
    legend_online: "オンライン", legend_joint: "合同訪問", legend_confidential: "非公開",
    day: "日", expert: "専門家", all_experts: "全員", col_municipality: "自治体",
    col_title: "件名", col_fields: "分野", col_mode: "形式", col_duration: "時間",
    col_priority: "優先度", col_dates: "期間", col_status: "状態", form_new: "新しい相談依頼",
    form_edit: "相談依頼の編集", onsite: "訪問", online: "オンライン",
    duration_min: "所要時間(分)", earliest: "開始日", latest: "終了日", window: "希望時間帯",
    confidential: "非公開（他の自治体には見えません）", submit_now: "すぐに提出する",
    save: "保存", form_reset: "新規に戻る", edit: "編集", submit: "提出", cancel: "取消",
    s_draft: "下書き", s_submitted: "提出済",
    s_scheduled: "計画済", s_done: "完了", s_cancelled: "取消", j_queued: "待機中",
    j_running: "計算中", j_done: "完了", j_failed: "失敗", j_cancelled: "中止",
    job: "計画ジョブ", elapsed: "経過", objective: "現時点の最良の計画", bound: "上限",
    published_at: "公開済み", not_published: "未公開", no_job: "この週の計画はまだありません",
    source_job: "計画案", source_published: "公開済みの予定", joint_with: "合同", visit_changed: "変更あり",
    no_visits: "訪問なし", ferry: "フェリー", minutes: "分", drive: "運転",
    base: "拠点", no_routes: "この日の訪問ルートはありません", unscheduled_none: "未割当の依頼はありません",
    reasons: "理由", feed: "iCalendar フィード", feed_help: "カレンダーアプリに登録できる秘密のURLです（公開済みの訪問）",
    visits_week: "今週の訪問", saved: "保存しました", published_msg: "公開しました",
    kpi_visits: "訪問・相談", kpi_unscheduled: "未割当", kpi_drive: "運転(分)",
    kpi_munis: "対象自治体", kpi_priority: "優先度合計", role_centre: "センター",
    role_municipality: "自治体", role_expert: "専門家", days: ["月", "火", "水", "木", "金"],
    problem: "エラー", lang_other: "English", not_planned_yet: "公開済みの計画に含まれていません",
    tab_messages: "連絡", msg_needs_call: "連絡が必要", msg_unsent: "未送信", msg_sent: "送信済み",
    messages_open_only: "送信済みを隠す", messages_none: "この週の連絡はありません",
    msg_body: "本文", msg_attempts: "送信試行", msg_by_phone: "電話で連絡（メールアドレスなし）",
    ev_expert_unavailable: "専門家の不在", ev_visit_overrun: "訪問の延長", ev_urgent_request: "緊急の依頼",
    ev_cancelled: "取消", ev_no_show: "訪問の早期終了", ev_location_closed: "閉庁",
    tab_matching: "マッチング", tab_outcomes: "成果", per_day: "訪問/日", onsite_days: "訪問日",
    visits_total: "訪問計", online_n: "オンライン", totals: "日計", over_cap: "上限超過",
    needs: "ニーズ", candidates_for: "候補者", rank: "順位", score: "スコア",
    c_field: "分野", c_topic: "テーマ", c_skill: "スキル", c_distance: "距離",
    c_capacity: "余力", c_outcome: "実績", c_proximity: "つながり", why: "理由",
    assignment: "全体の割当", floor: "各自治体の最優先ニーズを先に", small_weight: "小規模自治体の加点",
    run_assignment: "割当を計算", assigned: "割当済み", unserved: "未割当", peers: "類似自治体",
    communities: "自治体コミュニティ", similarity: "類似度", no_needs: "ニーズはありません",
    community: "コミュニティ", need_form: "ニーズを登録", topics: "テーマ（カンマ区切り）",
    start: "開始日", end: "終了日", effort_days: "工数（人日）", remote: "リモート",
    held: "実施", notes: "メモ", satisfaction: "満足度", save_outcome: "記録",
    season: "今年度", satisfaction_share: "満足度（4以上）の割合", target: "目標", rated: "評価数",
    recorded: "記録済み", outcome_saved: "成果を記録しました", outcome_not_yet: "訪問の開始後に記録できます", blackouts: "休止日（キャンプ・休館など）",
    add_blackout: "休止日を追加", reason: "理由", everyone: "全員", delete: "削除", blackout: "休止",
    no_blackouts: "この週の休止日はありません", meets: "目標達成", below: "目標未達",
    upload_title: "データの取り込み（CSV・Excel）", table: "表", t_needs: "ニーズ",
    t_candidates: "候補者", t_engagements: "実績", t_conflicts: "利益相反", upload: "取り込む",
    uploaded: "件を取り込みました", withdraw: "取り下げ", need_edit: "ニーズの編集",
    slots_title: "候補日時", slots_btn: "候補日時", choose: "この日時を選ぶ", close: "閉じる",
    slots_other_mode: "もう一方の形態（訪問／オンライン）も候補に含める",
    slots_help_municipality: "良い順に並んでいます。選ぶとセンターの確認待ちになり、その枠は確保されます。",
    slots_help_centre: "良い順に並んでいます。選ぶと公開済みの週に確定します（自治体が選んだ日時は確認待ちに表示されます）。",
    slots_none: "ご希望の形態では空きがありません", slots_empty: "候補はありません",
    mode_changed: "形態を変更", alt_time: "同じ日の別の時刻",
    picks_title: "確認待ちの日時（自治体が選択）",
    legend_pending: "確認待ち（自治体が選択）", pick_pending: "確認待ち", confirm: "確定",
    other_slot: "別の日時", reject: "却下", undo_pick: "選択を取り消す", no_picks: "確認待ちの日時はありません",
    chosen_pending: "日時を選びました。センターの確認待ちです。",
    chosen_confirmed: "日時を確定し、公開済みの予定に加えました。", pick_rejected: "選択を取り消しました。",
    chosen_by_municipality: "自治体が選択",
    plan_word: "計画", st_optimal: "最適（証明済み）", st_gap: "あと最大 {gap} % 改善の余地",
    st_room: "改善の余地あり", st_infeasible: "公開済みの訪問の一部を外しました", seconds: "秒",
    k_company: "企業", k_individual: "個人", untitled: "{fields}の相談",
    ok: "OK", back: "やめる",
    confirm_cancel: "この相談依頼を取り消しますか？", confirm_cancel_ok: "取り消す",
    confirm_publish: "この計画を公開しますか？ 自治体と専門家に予定が見えるようになります。",
    confirm_publish_ok: "公開する", confirm_reject: "自治体が選んだ日時を却下しますか？",
    confirm_reject_ok: "却下する", confirm_delete: "この休止日を削除しますか？",
    confirm_delete_ok: "削除する", confirm_withdraw: "このニーズを取り下げますか？",
    confirm_withdraw_ok: "取り下げる",
    dup_question: "同じ内容の相談依頼がすでにあります（自治体・分野・期間・件名が同じ）。それでも登録しますか？",
    dup_ok: "それでも登録する", dup_open: "元の依頼を見る",
    show_request: "依頼一覧で見る", file: "ファイル", breakdown: "スコアの内訳", inbox_title: "今日の対応", inbox_none: "今日の対応はありません",
    in_picks: "自治体が選んだ日時の確認", in_new: "前回の計画以降の新しい依頼", in_new_noplan: "まだ計画に入っていない依頼",
    in_left: "計画に入らなかった依頼", in_messages: "連絡が必要なお知らせ", in_outcomes: "成果の記録待ち（実施済みの訪問）",
    in_more: "ほか {n} 件を表示", in_plan: "この週を計画する", in_held_yes: "実施した", in_held_no: "実施せず",
    in_call: "電話で連絡", in_mail: "メール送信待ち", unscheduled_no_plan: "この週はまだ計画されていません（提出済みの依頼 {n} 件が待っています）",
    cost_visits: "{n} 件", cost_drive: "運転 {n} 分", cost_moved: "他の訪問 {n} 件が移動",
    cost_dropped: "他の訪問 {n} 件が外れる", cost_still: "他の訪問は動きません",
    tab_timeline: "時間配分", seg_drive: "運転", seg_ferry: "フェリー", seg_wait: "待ち時間",
    seg_onsite: "訪問", seg_online: "オンライン", seg_lunch: "昼休み", seg_night: "宿泊",
    seg_appointment: "予定", night_at: "宿泊: {place}", starts_at: "出発地: {place}",
    overtime_day: "残業 {n} 分", kpi_nights: "宿泊数", kpi_night_cost: "宿泊の費用",
    kpi_overtime: "残業（分）", kpi_late: "遅れた日数", due: "期限", followed_by: "次回の相談",
    gap_days: "{min}〜{max}日後", gap_from: "{min}日後以降", after_request: "依頼", series_summary: "期限・前回の相談",
    rules_title: "昼休み・宿泊・残業", lunch_rule: "昼休み {m} 分（{a}–{b}）", lunch_minutes: "昼休み（分）",
    lunch_window: "昼休みの時間帯", night_rule: "宿泊できる場所: {places}（宿泊の費用 {c}、連続 最大 {n} 泊）",
    night_places: "宿泊できる場所", night_any: "すべての自治体", night_cost: "宿泊の費用（1 泊）",
    max_nights: "連続の最大泊数", overtime_max: "残業の上限（分）", overtime_cost: "残業 1 分の費用",
    rules_saved: "専門家の設定を保存しました",
    busy_title: "予定", busy_date: "日付", busy_from: "開始", busy_to: "終了", busy_at: "場所（任意）",
    busy_nowhere: "（場所なし）", busy_add: "予定を追加", busy_remove: "削除", busy_none: "予定はありません",
    busy_saved: "予定を保存しました",
    after_none: "（なし）", after_min: "最短（日後）", after_max: "最長（日後）",
    after_same: "前回と同じ専門家",
    seg_long: "長い運転（90分以上）", all_days: "全日", tl_none: "この週の計画はありません",
    tl_leave: "出発", tl_return: "帰着", tl_longest: "最長", tl_at_base: "拠点で勤務",
    overtime_upto: "残業 最大 {n} 分（1 分 {c}）",
    rq_search: "検索", rq_scope: "対象", rq_scope_week: "この週", rq_scope_all: "すべての週",
    rq_prev: "前へ", rq_next: "次へ", rq_count: "{total} 件中 {from}–{to} 件", rq_none: "該当する依頼はありません",
    rq_any: "すべて", col_scheduled: "予定日時", col_experts: "担当", rq_not_yet: "未定", after_first: "前回の相談",
    map_home: "全体", map_source: "地図データ © OpenStreetMap contributors (ODbL)",
    mark_phoned: "電話で連絡した", msg_phoned: "電話で連絡済み", phoned_msg: "電話で連絡済みにしました",
  },
  en: {
    title: "DX expert visit planning", week: "Week", logout: "Log out", tab_week: "Week",
    tab_map: "Map", tab_requests: "Requests", tab_unscheduled: "Unscheduled",
    tab_experts: "Experts", login_title: "Enter your API key",
    login_help: "Keys are issued with “dxshare keys create”. It is kept in this browser.",
    login: "Log in", bad_key: "Unknown or revoked API key", run_plan: "Plan the week",
    changes_title: "{n} changes from the previous plan (by municipality to call)",
    changes_none: "No changes from the previous plan",
    plan_notes: "Notes on this plan", reason_in_notes: "why: see the notes below",
    ch_moved: "moved", ch_dropped: "dropped", ch_added: "newly planned", ch_withdrawn: "no longer requested",
    replan: "Re-plan", keep: "Published visits", keep_fixed: "keep fixed",
    keep_prefer: "prefer to keep", time_limit: "Time limit (s)", cancel_plan: "Cancel",
    publish: "Publish", show: "Show", src_job: "latest plan", src_published: "published",
    print: "Print (A4 landscape)", legend_online: "online", legend_joint: "joint visit",
    legend_confidential: "confidential", day: "Day", expert: "Expert", all_experts: "all",
    col_municipality: "Municipality", col_title: "Subject", col_fields: "Fields",
    col_mode: "Mode", col_duration: "Min", col_priority: "Priority", col_dates: "Dates",
    col_status: "Status", form_new: "New request", form_edit: "Edit request",
    onsite: "on-site", online: "online", duration_min: "Duration (min)",
    earliest: "Earliest", latest: "Latest", window: "Time window",
    confidential: "Confidential (no other municipality sees it)", submit_now: "Submit now",
    save: "Save", form_reset: "Back to new", edit: "Edit", submit: "Submit",
    cancel: "Cancel", s_draft: "draft", s_submitted: "submitted",
    s_scheduled: "scheduled", s_done: "done", s_cancelled: "cancelled", j_queued: "queued",
    j_running: "running", j_done: "done", j_failed: "failed", j_cancelled: "cancelled",
    job: "Plan job", elapsed: "elapsed", objective: "best plan so far", bound: "proven ceiling",
    published_at: "published", not_published: "not published",
    no_job: "No plan for this week yet", source_job: "plan", source_published: "published schedule",
    joint_with: "joint", visit_changed: "changed", no_visits: "no visits", ferry: "ferry", minutes: "min",
    drive: "driving", base: "base", no_routes: "No routes on this day",
    unscheduled_none: "No unscheduled requests", reasons: "Reasons",
    feed: "iCalendar feed", feed_help: "A secret URL for calendar programs (published visits)",
    visits_week: "Visits this week", saved: "Saved", published_msg: "Published",
    kpi_visits: "visits", kpi_unscheduled: "unscheduled", kpi_drive: "driving (min)",
    kpi_munis: "municipalities", kpi_priority: "served priority", role_centre: "centre",
    role_municipality: "municipality", role_expert: "expert",
    days: ["Mon", "Tue", "Wed", "Thu", "Fri"], problem: "Error", lang_other: "日本語",
    not_planned_yet: "Not in a published plan",
    tab_messages: "Messages", msg_needs_call: "to call", msg_unsent: "not sent yet", msg_sent: "sent",
    messages_open_only: "hide sent", messages_none: "No messages about this week",
    msg_body: "Text", msg_attempts: "attempts", msg_by_phone: "by phone (no e-mail address)",
    ev_expert_unavailable: "expert unavailable", ev_visit_overrun: "visit ran long", ev_urgent_request: "urgent request",
    ev_cancelled: "cancelled", ev_no_show: "visit ended early", ev_location_closed: "closed",
    tab_matching: "Matching", tab_outcomes: "Outcomes", per_day: "visits/day",
    onsite_days: "on-site days", visits_total: "visits", online_n: "online", totals: "day total",
    over_cap: "over the cap", needs: "Needs", candidates_for: "Candidates", rank: "Rank",
    score: "Score", c_field: "field", c_topic: "topic", c_skill: "skill", c_distance: "distance",
    c_capacity: "capacity", c_outcome: "outcome", c_proximity: "proximity", why: "Why",
    assignment: "Assignment of all needs", floor: "serve each municipality's top need first",
    small_weight: "weight for small municipalities", run_assignment: "Compute",
    assigned: "assigned", unserved: "unserved", peers: "Similar municipalities",
    communities: "Communities of municipalities", similarity: "similarity",
    no_needs: "No needs", community: "Community", need_form: "File a need",
    topics: "Topics (comma-separated)", start: "Start", end: "End",
    effort_days: "Effort (person-days)", remote: "remote", held: "Held", notes: "Notes",
    satisfaction: "Satisfaction", save_outcome: "Record", season: "This fiscal year",
    satisfaction_share: "share satisfied (4 or 5)", target: "target", rated: "rated",
    recorded: "recorded", outcome_saved: "Outcome recorded", outcome_not_yet: "can be recorded once the visit has started",
    blackouts: "Blackouts (camps, closures)", add_blackout: "Add blackout", reason: "Reason",
    everyone: "everyone", delete: "Delete", blackout: "blackout",
    no_blackouts: "No blackouts this week", meets: "meets the target", below: "below the target",
    upload_title: "Import data (CSV, Excel)", table: "Table", t_needs: "needs",
    t_candidates: "candidates", t_engagements: "engagements", t_conflicts: "conflicts",
    upload: "Import", uploaded: "rows imported", withdraw: "Withdraw", need_edit: "Edit need",
    slots_title: "Proposed slots", slots_btn: "Slots", choose: "Choose this slot", close: "Close",
    slots_other_mode: "also offer the other mode (on-site / online)",
    slots_help_municipality: "Best first. Choosing one holds the slot until the centre confirms it.",
    slots_help_centre: "Best first. Choosing one fixes it into the published week (slots chosen by municipalities await you below).",
    slots_none: "No slot in the mode asked for", slots_empty: "No slots",
    mode_changed: "other mode", alt_time: "another time that day",
    picks_title: "Slots awaiting confirmation (chosen by municipalities)",
    legend_pending: "awaiting confirmation", pick_pending: "awaiting confirmation", confirm: "Confirm",
    other_slot: "Other slot", reject: "Turn down", undo_pick: "Take back", no_picks: "No slot awaits confirmation",
    chosen_pending: "Slot chosen: it awaits the centre's confirmation.",
    chosen_confirmed: "Slot fixed and added to the published week.", pick_rejected: "Choice taken back.",
    chosen_by_municipality: "chosen by the municipality",
    plan_word: "Plan", st_optimal: "optimal (proven)", st_gap: "at most {gap} % better possible",
    st_room: "could still improve", st_infeasible: "some published visits released", seconds: "s",
    k_company: "company", k_individual: "individual", untitled: "{fields} consultation",
    ok: "OK", back: "Go back",
    confirm_cancel: "Cancel this request?", confirm_cancel_ok: "Cancel the request",
    confirm_publish: "Publish this plan? Municipalities and experts will see the visits.",
    confirm_publish_ok: "Publish", confirm_reject: "Turn down the slot the municipality chose?",
    confirm_reject_ok: "Turn down", confirm_delete: "Delete this blackout?",
    confirm_delete_ok: "Delete", confirm_withdraw: "Withdraw this need?",
    confirm_withdraw_ok: "Withdraw",
    dup_question: "The same request is already there (same municipality, fields, dates and subject). Add it anyway?",
    dup_ok: "Add anyway", dup_open: "Show the original",
    show_request: "Show in the request list", file: "File", breakdown: "score parts", inbox_title: "Today's decisions", inbox_none: "Nothing to decide today",
    in_picks: "Slots chosen by municipalities", in_new: "New requests since the last plan", in_new_noplan: "Requests not planned yet",
    in_left: "Requests the plan left out", in_messages: "Messages to pass on", in_outcomes: "Outcomes to record (visits held)",
    in_more: "show {n} more", in_plan: "Plan this week", in_held_yes: "Held", in_held_no: "Not held",
    in_call: "call", in_mail: "e-mail waiting", unscheduled_no_plan: "This week is not planned yet ({n} submitted requests wait)",
    cost_visits: "{n} visits", cost_drive: "driving {n} min", cost_moved: "{n} other visits move",
    cost_dropped: "{n} other visits left out", cost_still: "no other visit moves",
    tab_timeline: "Timeline", seg_drive: "driving", seg_ferry: "ferry", seg_wait: "waiting",
    seg_onsite: "on-site", seg_online: "online", seg_lunch: "lunch break", seg_night: "night away",
    seg_appointment: "appointment", night_at: "night in {place}", starts_at: "starts at {place}",
    overtime_day: "overtime {n} min", kpi_nights: "nights away", kpi_night_cost: "night cost",
    kpi_overtime: "overtime minutes", kpi_late: "days late", due: "due date", followed_by: "followed by",
    gap_days: "{min}–{max} days after", gap_from: "{min} days after or later", after_request: "request", series_summary: "due date, follow-up of",
    rules_title: "Lunch break, nights away, overtime", lunch_rule: "lunch break {m} min ({a}–{b})",
    lunch_minutes: "lunch break (min)", lunch_window: "lunch break between",
    night_rule: "may stay the night in {places} (night cost {c}, at most {n} nights in a row)",
    night_places: "may stay the night in", night_any: "any municipality", night_cost: "night cost (a night)",
    max_nights: "nights in a row at most", overtime_max: "overtime up to (min)", overtime_cost: "cost of a minute of overtime",
    rules_saved: "Expert's settings saved",
    busy_title: "Appointments", busy_date: "date", busy_from: "from", busy_to: "to", busy_at: "place (optional)",
    busy_nowhere: "(no place)", busy_add: "Add appointment", busy_remove: "Remove", busy_none: "No appointments",
    busy_saved: "Appointments saved",
    after_none: "(none)", after_min: "at least (days after)", after_max: "at most (days after)",
    after_same: "the same experts as before",
    seg_long: "long drive (90 min or more)", all_days: "all days", tl_none: "Nothing planned this week",
    tl_leave: "leaves", tl_return: "back", tl_longest: "longest", tl_at_base: "works from the base",
    overtime_upto: "overtime up to {n} min ({c} a minute)",
    rq_search: "Search", rq_scope: "Weeks", rq_scope_week: "this week", rq_scope_all: "all weeks",
    rq_prev: "Previous", rq_next: "Next", rq_count: "{from}–{to} of {total}", rq_none: "No request matches",
    rq_any: "any", col_scheduled: "Scheduled", col_experts: "Experts", rq_not_yet: "not yet", after_first: "follow-up of",
    map_home: "Whole map", map_source: "Map data © OpenStreetMap contributors (ODbL)",
    mark_phoned: "Phoned", msg_phoned: "phoned", phoned_msg: "Marked as phoned",
  },
};

const state = {
  lang: localStorage.getItem("dxs_lang") || "ja",
  key: localStorage.getItem("dxs_key") || "",
  me: null, week: null, view: "week", munis: new Map(), office: null, experts: [],
  requests: [], jobs: [], job: null, visits: [], routes: [], unscheduled: [], source: "job",
  poll: null, editing: null, selectedExpert: null, shown: null, blackouts: [],
  needs: [], need: null, editingNeed: null, picks: [], slotsFor: null,
  published: [], outbox: [], inboxAll: new Set(), timeline: null,
  // the request table: sort, filters, search, page; the other weeks' rows when asked for
  rq: { sort: "dates", dir: 1, status: "", field: "", muni: "", q: "", page: 0, size: 50,
    scope: "week" },
  rqAll: null, fieldLabels: new Map(), coast: null, mapView: null, mapHome: null, mapLabels: [], mapTimeline: null,
};

// ------------------------------------------------------------------ helpers

function t(key) { return (TEXT[state.lang] || TEXT.ja)[key] ?? TEXT.ja[key] ?? key; }
const $ = (sel) => document.querySelector(sel);
const $$ = (sel) => Array.from(document.querySelectorAll(sel));

/** An element with attributes and children (strings become text nodes, never HTML). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== null && v !== undefined) el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined) {
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }
  return el;
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status; this.body = body || {};
  }
}

async function api(method, path, body) {
  const headers = { "Authorization": `Bearer ${state.key}`, "Accept-Language": state.lang };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers,
    body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = { detail: text }; }
  if (res.status === 401) { logout(t("bad_key")); }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Every row of a paged list (``limit``/``offset``, ``X-Total-Count``). */
async function apiAll(path) {
  const rows = [];
  const sep = path.includes("?") ? "&" : "?";
  for (let offset = 0; ; offset += 1000) {
    const page = await api("GET", `${path}${sep}limit=1000&offset=${offset}`);
    rows.push(...page);
    if (page.length < 1000) return rows;
  }
}

function isoDate(d) { return d.toISOString().slice(0, 10); }
function addDays(iso, n) {
  const d = new Date(iso + "T00:00:00Z"); d.setUTCDate(d.getUTCDate() + n); return isoDate(d);
}
function mondayOf(iso) {
  const d = new Date(iso + "T00:00:00Z"); const wd = (d.getUTCDay() + 6) % 7;
  return addDays(iso, -wd);
}
function weekDays() { return [0, 1, 2, 3, 4].map((i) => addDays(state.week, i)); }
function shortDate(iso) {
  const [, m, d] = iso.split("-"); return `${Number(m)}/${Number(d)}`;
}
function muniName(code) {
  const m = state.munis.get(code);
  if (!m) return code;
  return state.lang === "en" ? m.name_en : m.name_ja;
}
/** A place the service names beside its code (``{key}_name_ja``, ``{key}_name_en``: a
 * timeline's ``location``, ``from``, ``to``, ``start_at``, ``end_at``), else as the map
 * names the code. */
function placeName(x, key) {
  return x[`${key}_name_${state.lang === "en" ? "en" : "ja"}`] || muniName(x[key]);
}
function expertName(id) {
  const e = state.experts.find((x) => x.id === id);
  if (!e) return id;
  if (state.lang === "en") {
    const same = state.experts.filter((x) => x.fields[0] === e.fields[0]);
    const n = same.length > 1 ? ` ${same.indexOf(e) + 1}` : "";
    return `${fieldName(e.fields[0])} expert${n}`;
  }
  return e.name || id;
}
function requestName(id) {
  const q = state.requests.find((x) => x.id === id);
  if (!q) return t("untitled").replace("{fields}", "");
  return `${muniName(q.municipality)}「${requestTitle(q)}」`;
}
/** A request's subject, or its fields when it has none (never its id). */
function requestTitle(q) {
  if (q && q.title) return q.title;
  const fields = (q && q.fields) || [];
  return t("untitled").replace("{fields}", fields.map(fieldName).join("・"));
}
/** The plan's status as a coordinator reads it: proven optimal, or how much better a plan
 * could at most be (from the planner's objective and its ceiling), never the raw numbers. */
function planWord(status, objective, bound) {
  if (status === "optimal") return t("st_optimal");
  if (status === "infeasible") return t("st_infeasible");
  if (typeof objective === "number" && typeof bound === "number") {
    if (bound === objective) return t("st_optimal");
    const gap = Math.abs(bound - objective) / Math.max(1, Math.abs(bound)) * 100;
    return t("st_gap").replace("{gap}", gap < 0.1 ? "0.1" : gap.toFixed(1));
  }
  return t("st_room");
}
/** Ask before a step that cannot be undone; resolves true when the person confirms.
 * ``link`` ({text, go}): a way to look at something instead (the dialog closes, not confirmed). */
function confirmStep(question, detail, okWord, link) {
  return new Promise((resolve) => {
    const box = $("#confirm");
    $("#confirm-text").textContent = question;
    $("#confirm-detail").textContent = detail || "";
    $("#confirm-ok").textContent = okWord || t("ok");
    $("#confirm-back").textContent = t("back");
    const away = $("#confirm-link");
    away.hidden = !link;
    away.textContent = link ? link.text : "";
    const done = (yes) => {
      box.removeEventListener("close", onClose);
      $("#confirm-ok").onclick = null; $("#confirm-back").onclick = null; away.onclick = null;
      if (box.open) box.close();
      resolve(yes);
    };
    const onClose = () => done(false);
    box.addEventListener("close", onClose);
    $("#confirm-ok").onclick = () => done(true);
    $("#confirm-back").onclick = () => done(false);
    away.onclick = () => { done(false); link.go(); };
    box.showModal();
    $("#confirm-back").focus();
  });
}
/** A reason with the ids it names (experts, requests, municipality codes) replaced by
 * names, so a coordinator reads 広報担当 and 松山市「SNS相談」, not pr-1 and q1a2b3. */
function named(text) {
  if (!text) return text;
  const ids = new Map();
  for (const e of state.experts) ids.set(e.id, expertName(e.id));
  for (const q of state.requests) ids.set(q.id, requestName(q.id));
  for (const code of state.munis.keys()) ids.set(code, muniName(code));
  const keys = [...ids.keys()].sort((a, b) => b.length - a.length)
    .map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  if (!keys.length) return text;
  const re = new RegExp(`(^|[^A-Za-z0-9_-])(${keys.join("|")})(?![A-Za-z0-9_-])`, "g");
  return text.replace(re, (m, pre, id) => pre + ids.get(id));
}
/** A field's one label, from the service's catalogue (the same words as the feeds and
 * exports); a field the catalogue does not know is shown as it is. */
function fieldName(f) {
  const known = state.fieldLabels.get(f);
  return known ? known[state.lang === "en" ? "en" : "ja"] : f;
}
/** A stored moment (ISO 8601, UTC when it names no zone) as the programme reads clocks: Japan
 * time, ``2026-12-07 02:59``. */
function japanTime(iso) {
  const zoned = /(?:Z|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`;
  const d = new Date(new Date(zoned).getTime() + 9 * 3600 * 1000);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 16).replace("T", " ");
}
function hhmm(x) {
  if (typeof x === "number") return `${String(Math.floor(x / 60)).padStart(2, "0")}:${String(x % 60).padStart(2, "0")}`;
  return x;
}
function say(text, isError) {
  const el = $("#message");
  el.textContent = text || "";
  el.classList.toggle("error", Boolean(isError));
}
/** A form's label for an API field path (``fields``, ``body.window[0]``), or null. */
function formLabel(form, path) {
  const name = String(path).replace(/^body\./, "").split(/[.[]/)[0];
  const el = form.elements[name];
  const node = el instanceof RadioNodeList ? el[0] : el;
  const holder = node && (node.closest("label") || node.closest("fieldset"));
  const text = holder && (holder.querySelector(":scope > span, :scope > legend") || {}).textContent;
  if (text) return text.trim();
  if (name === "fields" && $("#field-boxes").closest("fieldset")) {
    return $("#field-boxes").closest("fieldset").querySelector("legend").textContent.trim();
  }
  return null;
}
/** An API error shown in a form: each field's problem once, named by the form's label. */
function showFormErrors(form, list, err) {
  const b = (err instanceof ApiError && err.body) || {};
  const errors = b.errors || [];
  if (!errors.length) { list.append(h("li", {}, b.detail || b.title || String(err.message))); return; }
  for (const e of errors) {
    const label = formLabel(form, e.path);
    list.append(h("li", { "data-path": e.path }, label ? `${label}: ${e.message}` : (b.detail || e.message)));
  }
}
function problemText(err) {
  if (!(err instanceof ApiError)) return String(err && err.message || err);
  const b = err.body || {};
  const lines = [b.detail || b.title || err.message];
  for (const e of b.errors || []) lines.push(`${e.path}: ${e.message}`);
  return lines.join("\n");
}

// ------------------------------------------------------------------ language

function applyLanguage() {
  document.documentElement.lang = state.lang;
  for (const el of $$("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  $("#lang").textContent = t("lang_other");
  document.title = `dxshare — ${t("title")}`;
  renderFieldBoxes();
}

// ------------------------------------------------------------------ start-up

async function start() {
  applyLanguage();
  if (!state.key) { showLogin(""); return; }
  try {
    state.me = await api("GET", "/v1/me");
  } catch (err) {
    showLogin(err.status === 401 ? t("bad_key") : problemText(err));
    return;
  }
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#tabs").hidden = false;
  $("#logout").hidden = false;
  const role = state.me.role;
  document.body.dataset.role = role;
  for (const el of $$("[data-roles]")) {
    el.hidden = !el.dataset.roles.split(" ").includes(role);
  }
  state.fieldLabels = new Map((state.me.fields || []).map((f) => [f.id, f]));
  renderFieldBoxes();
  const bound = state.me.municipality || state.me.expert || "";
  const fromHash = new URLSearchParams(location.hash.slice(1)).get("week");
  state.week = mondayOf(fromHash || state.me.week);
  $("#week").value = state.week;
  const [map, experts] = await Promise.all([api("GET", "/v1/map"), api("GET", "/v1/experts")]);
  state.office = map.office;
  for (const m of map.locations) state.munis.set(m.code, m);
  state.experts = experts;
  $("#who").textContent = `${t("role_" + role)}${bound ? " · " + (role === "municipality" ? muniName(bound) : expertName(bound)) : ""}`;
  fillMunicipalitySelect();
  resetForm();
  await loadWeek();
}

function showLogin(message) {
  $("#login").hidden = false;
  $("#app").hidden = true;
  $("#tabs").hidden = true;
  $("#logout").hidden = true;
  $("#login-error").textContent = message || "";
  $("#key").focus();
}

function logout(message) {
  state.key = "";
  localStorage.removeItem("dxs_key");
  if (state.poll) { clearInterval(state.poll); state.poll = null; }
  showLogin(message || "");
}

// ------------------------------------------------------------------ data of the week

async function loadWeek() {
  const role = state.me.role;
  location.hash = `week=${state.week}`;
  $("#print-week").textContent = `${state.week} – ${addDays(state.week, 4)}`;
  const jobs = [];
  if (role !== "expert") {
    state.requests = await apiAll(`/v1/requests?week=${state.week}`);
  } else {
    state.requests = [];
  }
  state.blackouts = role === "municipality" ? []
    : await api("GET", `/v1/blackouts?from=${state.week}&to=${addDays(state.week, 4)}`);
  state.picks = role === "expert" ? [] : await api("GET", `/v1/slot-picks?week=${state.week}`);
  if (role === "centre") {
    const [all, published, outbox] = await Promise.all([api("GET", "/v1/plan-jobs?limit=100"),
      api("GET", `/v1/visits?week=${state.week}`), apiAll("/v1/outbox?sent=false")]);
    for (const j of all) if (j.week === state.week) jobs.push(j);
    state.published = published;
    state.outbox = outbox.filter((m) => m.week === state.week);
  }
  if (state.rq.scope === "all" && role !== "expert") await loadAllRequests();
  state.jobs = jobs;
  state.job = null;
  const latest = jobs[0];
  if (latest) {
    state.job = await api("GET", latest.url);
    if (["queued", "running"].includes(state.job.status)) watchJob(state.job.url);
  }
  await loadVisits();
}

/** The visits shown: the latest plan job's plan (centre, "latest plan") or the published
 * visits of the week (everyone's own view). */
async function loadVisits() {
  const useJob = state.me.role === "centre" && state.source === "job" && state.job
    && state.job.plan && state.job.status === "done";
  const reqs = new Map(state.requests.map((q) => [q.id, q]));
  if (useJob) {
    const plan = state.job.plan;
    state.shown = state.job;
    state.visits = plan.visits.map((v) => ({ ...v, title: (reqs.get(v.request) || {}).title || "",
      confidential: Boolean((reqs.get(v.request) || {}).confidential),
      fields: (reqs.get(v.request) || {}).fields || null, municipality: v.location }));
    state.routes = plan.routes;
    state.unscheduled = plan.unscheduled.map((u) => ({ ...u, req: reqs.get(u.request) }));
  } else {
    const visits = await api("GET", `/v1/visits?week=${state.week}`);
    state.visits = visits.map((v) => ({ ...v, location: v.municipality,
      confidential: Boolean((reqs.get(v.request) || {}).confidential),
      fields: (reqs.get(v.request) || {}).fields || null }));
    state.routes = deriveRoutes(state.visits);
    state.shown = null;
    state.unscheduled = [];
    if (state.me.role === "municipality") state.unscheduled = await municipalityUnscheduled();
    if (state.me.role === "centre") {
      // the published plan's own left-out requests (and its KPIs), not an empty list
      const pub = state.jobs.filter((j) => j.published_at)
        .sort((a, b) => b.published_at.localeCompare(a.published_at))[0];
      if (pub) {
        state.shown = pub.id === (state.job && state.job.id) ? state.job : await api("GET", pub.url);
        const open = new Set(state.requests.filter((q) => q.status === "submitted").map((q) => q.id));
        state.unscheduled = ((state.shown.plan || {}).unscheduled || [])
          .filter((u) => !reqs.has(u.request) || open.has(u.request))
          .map((u) => ({ ...u, req: reqs.get(u.request) }));
      }
    }
  }
  renderAll();
  if (state.me.role === "expert") {
    // the expert's own lunch breaks, nights and overtime come with its timeline
    const week = state.week;
    api("GET", `/v1/timeline?week=${week}`).then((tl) => {
      if (tl.week === state.week && week === state.week) { state.weekTimeline = tl; renderWeek(); }
    }).catch(() => {});
  }
}

/** Per expert and date, the on-site stops in time order (base → stops → base), for
 * published visits, which carry no routes of their own. */
function deriveRoutes(visits) {
  const by = new Map();
  // Only experts whose whole day is known: an expert key sees its own visits, so a joint
  // partner's day (its other stops) is not there and must not be drawn as a route.
  const known = state.me.role === "expert" ? new Set([state.me.expert]) : null;
  for (const v of visits) {
    if (v.mode !== "onsite") continue;
    for (const e of v.experts) {
      if (known && !known.has(e)) continue;
      const k = `${e}|${v.date}`;
      if (!by.has(k)) by.set(k, []);
      by.get(k).push(v);
    }
  }
  const out = [];
  for (const [k, vs] of by) {
    const [expert, date] = k.split("|");
    vs.sort((a, b) => a.start.localeCompare(b.start));
    out.push({ expert, date, leave: null, return: null, stops: vs.map((v) => v.location),
      drive_minutes: null });
  }
  return out;
}

/** A municipality's requests of the week that a published plan left out, with the general
 * reasons the service gives it. */
async function municipalityUnscheduled() {
  const out = [];
  const open = state.requests.filter((q) => q.status === "submitted");
  const details = await Promise.all(open.map((q) => api("GET", q.url)));
  for (const d of details) {
    if (d.planning && d.planning.scheduled === false) {
      out.push({ request: d.id, req: d,
        reasons: d.planning.reasons.map((r) => r.reason),
        reasons_ja: d.planning.reasons.map((r) => r.reason_ja) });
    }
  }
  return out;
}

// ------------------------------------------------------------------ plan jobs

async function runPlan() {
  const limit = Number($("#time-limit").value) || 20;
  say("");
  try {
    const job = await api("POST", "/v1/plan-jobs", { week: state.week,
      keep_published: $("#keep").value, time_limit: limit });
    state.job = { ...job, plan: null };
    state.source = "job";
    $("#source").value = "job";
    renderJob();
    watchJob(job.url);
  } catch (err) { say(problemText(err), true); }
}

function watchJob(url) {
  if (state.poll) clearInterval(state.poll);
  const tick = async () => {
    try {
      const job = await api("GET", url);
      state.job = job;
      renderJob();
      if (!["queued", "running"].includes(job.status)) {
        clearInterval(state.poll); state.poll = null;
        // requests sent while it ran are in this plan: show them by their titles
        state.requests = await api("GET", `/v1/requests?week=${state.week}`);
        renderJob();
        await loadVisits();
      }
    } catch (err) {
      clearInterval(state.poll); state.poll = null; say(problemText(err), true);
    }
  };
  state.poll = setInterval(tick, 500);
  tick();
}

async function cancelPlan() {
  if (!state.job) return;
  try { state.job = await api("POST", `${state.job.url}/cancel`); renderJob(); }
  catch (err) { say(problemText(err), true); }
}

async function publish() {
  if (!state.job) return;
  if (!await confirmStep(t("confirm_publish"), `${state.week} – ${addDays(state.week, 4)}`, t("confirm_publish_ok"))) return;
  try {
    await api("POST", `${state.job.url}/publish`);
    say(t("published_msg"));
    await loadWeek();
  } catch (err) { say(problemText(err), true); }
}

function renderJob() {
  const job = state.job;
  const status = $("#plan-status");
  const bar = $("#plan-progress");
  const limit = Number($("#time-limit").value) || 20;
  $("#run-plan").textContent = state.jobs.length || job ? t("replan") : t("run_plan");
  if (!job) {
    status.textContent = t("no_job"); bar.value = 0; $("#publish").disabled = true;
    $("#cancel-plan").hidden = true; $("#kpis").replaceChildren(); renderChanges(null);
    renderPlanNotes(null); return;
  }
  const p = job.progress || {};
  const parts = [`${t("plan_word")}: ${t("j_" + job.status)}`];
  if (p.elapsed !== undefined && p.elapsed !== null) parts.push(`${t("elapsed")} ${Number(p.elapsed).toFixed(1)} ${t("seconds")}`);
  const plan = job.plan || {};
  const fallback = plan.event && plan.event.fallback;
  // a repair the model could not make says why in its own words (not "visits released")
  if (fallback) parts.push(state.lang === "ja" ? fallback.message_ja : fallback.message);
  else if (job.status === "done" && plan.status) parts.push(planWord(plan.status, plan.objective, plan.bound));
  // the search's progress speaks of a plan only while the search goes on: a failed or
  // cancelled job has no plan, whatever its last objective and ceiling were
  else if (["queued", "running"].includes(job.status) && typeof p.objective === "number") {
    parts.push(planWord(null, p.objective, p.bound));
  }
  parts.push(job.published_at ? `${t("published_at")} ${japanTime(job.published_at)}` : t("not_published"));
  const shown = state.source === "job" ? job : state.shown;
  if (job.reason && job.status !== "done") parts.push(jobReason(job, plan, shown === job));
  status.textContent = parts.join(" · ");
  status.dataset.status = job.status;
  const active = ["queued", "running"].includes(job.status);
  bar.value = active ? Math.min(0.99, (p.elapsed || 0) / limit) : (job.status === "done" ? 1 : 0);
  $("#publish").disabled = !(job.status === "done" && !job.published_at);
  $("#cancel-plan").hidden = !active;
  $("#run-plan").disabled = active;
  const k = shown && shown.plan && shown.plan.kpis;
  const kp = $("#kpis");
  kp.dataset.source = shown ? shown.id : "";
  kp.replaceChildren();
  if (k) {
    for (const [name, value] of [["kpi_visits", k.visits], ["kpi_unscheduled", k.unscheduled],
      ["kpi_priority", k.served_priority], ["kpi_drive", k.drive_minutes],
      ["kpi_munis", k.municipalities_served]]) {
      kp.append(h("span", { class: "kpi" }, h("b", {}, value ?? "–"), " ", t(name)));
    }
    // the expert's real week, where the plan has it (an expert who may stay away, overtime,
    // due dates): the plan's own figures, in the catalogue's words
    for (const [name, key] of [["kpi_nights", "nights"], ["kpi_night_cost", "night_cost"],
      ["kpi_overtime", "overtime_minutes"], ["kpi_late", "late_days"]]) {
      if (typeof k[key] === "number") {
        kp.append(h("span", { class: "kpi", "data-kpi": key }, h("b", {}, k[key]), " ", t(name)));
      }
    }
  }
  renderChanges(job.plan && job.plan.changes);
  // the notes of the plan whose figures are shown; a repair's fallback is in the status already
  renderPlanNotes(shown && shown.plan, shown === job ? fallback : null);
}

/** Why a job ended without a plan, in the page's language: a plan that could not be made says
 * why in its own notes (plan/1 ``messages_ja``, ``messages``), which the notes section shows
 * when it shows this job's plan, so the status line then only points there; else the
 * service's own reason (bad input, an internal error, a worker that stopped), ``reason_ja``
 * on the Japanese page (a job failed before the service kept it has only ``reason``). */
function jobReason(job, plan, notesShown) {
  const ja = state.lang === "ja" && Array.isArray(plan.messages_ja) && plan.messages_ja.length;
  const notes = ((ja ? plan.messages_ja : plan.messages) || [])
    .filter((m) => typeof m === "string" && m);
  if (!notes.length) return (state.lang === "ja" && job.reason_ja) || job.reason;
  return notesShown ? t("reason_in_notes") : notes.join(" / ");
}

/** The plan's own notes (plan/1 ``messages``, ``messages_ja``) in the page's language, e.g.
 * which published visits were released or why the week keeps to day trips: under the plan's
 * figures, hidden when the plan has none. ``said``: a note the status line already gives. */
function renderPlanNotes(plan, said) {
  const box = $("#plan-notes");
  const ja = state.lang === "ja" && plan && Array.isArray(plan.messages_ja) && plan.messages_ja.length;
  const notes = ((plan && (ja ? plan.messages_ja : plan.messages)) || [])
    .filter((m) => typeof m === "string" && m && !(said && (m === said.message || m === said.message_ja)));
  box.querySelector("ul").replaceChildren(...notes.map((m) => h("li", {}, m)));
  box.hidden = !notes.length;
}

/** The plan's ``changes`` against the previous plan, grouped by municipality (whom to call),
 * with experts and places by name. Hidden for a plan made without a previous one. */
function renderChanges(changes) {
  const box = $("#changes");
  box.hidden = !Array.isArray(changes);
  if (box.hidden) return;
  box.querySelector("summary").textContent = changes.length
    ? t("changes_title").replace("{n}", changes.length) : t("changes_none");
  const side = (v) => v ? `${shortDate(v.date)} ${v.start}–${v.end} ${v.experts.map(expertName).join("・")}` : "";
  const title = (rid) => requestTitle(state.requests.find((q) => q.id === rid));
  const byPlace = new Map();
  for (const c of changes) {
    if (!byPlace.has(c.location)) byPlace.set(c.location, []);
    byPlace.get(c.location).push(c);
  }
  box.querySelector("ul").replaceChildren(...[...byPlace].map(([loc, list]) =>
    h("li", { "data-municipality": loc }, h("b", {}, muniName(loc)),
      h("ul", {}, list.map((c) => h("li", { "data-request": c.request, "data-kind": c.kind },
        h("span", { class: "kind" }, t("ch_" + c.kind)), " ", title(c.request), ": ",
        [side(c.before), side(c.after)].filter(Boolean).join(" → ")))))));
}

// ------------------------------------------------------------------ views

function renderAll() {
  if (state.me.role === "centre") { renderJob(); renderInbox(); }
  renderWeek();
  renderRequests();
  renderPicks();
  renderUnscheduled();
  renderExperts();
  renderBlackouts();
  showView(state.view);
}

function showView(view) {
  const tab = $(`#tabs button[data-view="${view}"]`);
  if (!tab || tab.hidden) view = "week";
  state.view = view;
  for (const b of $$("#tabs button")) b.classList.toggle("active", b.dataset.view === view);
  for (const s of $$("main .view")) s.hidden = s.id !== `view-${view}`;
  // the matching and outcome views load their data when opened
  if (view === "matching") renderMatching().catch((err) => say(problemText(err), true));
  if (view === "outcomes") renderOutcomes().catch((err) => say(problemText(err), true));
  if (view === "messages") renderMessages().catch((err) => say(problemText(err), true));
  if (view === "timeline") renderTimeline().catch((err) => say(problemText(err), true));
  // drawn when shown (the coast and its labels are measured on screen), as fresh as the rest
  if (view === "map") renderMap();
  if (view === "requests") fillAfterSelect();
}

function visibleExperts() {
  if (state.me.role === "expert") return state.experts.filter((e) => e.id === state.me.expert);
  if (state.me.role === "municipality") {
    const ids = new Set(state.visits.flatMap((v) => v.experts));
    return state.experts.filter((e) => ids.has(e.id));
  }
  return state.experts;
}

function visitField(v, expertId) {
  const e = state.experts.find((x) => x.id === expertId);
  const own = e ? e.fields : [];
  const fields = v.fields || [];
  return fields.find((f) => own.includes(f)) || own[0] || fields[0] || "";
}

function renderWeek() {
  const grid = $("#week-grid");
  const days = weekDays();
  grid.replaceChildren();
  const src = $("#week-source");
  const fromJob = state.me.role === "centre" && state.source === "job" && state.job && state.job.plan;
  src.textContent = fromJob
    ? `${t("source_job")} (${state.job.published_at ? t("published_at") : t("not_published")})`
    : t("source_published");
  grid.append(h("div", { class: "corner" }));
  days.forEach((d, i) => grid.append(h("div", { class: "day-head" }, `${t("days")[i]} ${shortDate(d)}`)));
  const experts = visibleExperts();
  let count = 0;
  for (const e of experts) {
    const mine = state.visits.filter((v) => v.experts.includes(e.id));
    const onsite = mine.filter((v) => v.mode === "onsite");
    const use = contractUse(e, onsite);
    // a municipality sees only its own visits: counts of an expert's week made from them
    // would mislead (訪問日 1/3 for a full week), so they are the centre's and the expert's
    const whole = state.me.role !== "municipality";
    grid.append(h("div", { class: "expert-head", "data-expert": e.id },
      h("b", {}, expertName(e.id)), h("small", {}, e.fields.map(fieldName).join("・")),
      whole ? h("span", { class: "use" },
        capText("onsite-days", t("onsite_days"), use.days, e.max_onsite_days),
        capText("visits-total", t("visits_total"), onsite.length, e.max_visits_total),
        h("span", { class: "cap", "data-cap": "online" }, `${t("online_n")} ${mine.length - onsite.length}`)) : null));
    for (const d of days) {
      const blocked = state.blackouts.filter((b) => b.date === d
        && (b.experts.includes("*") || b.experts.includes(e.id)));
      const cell = h("div", { class: `cell${blocked.length ? " blackout" : ""}`, "data-expert": e.id,
        "data-date": d });
      for (const b of blocked) {
        cell.append(h("span", { class: "tag blackout", "data-blackout": b.id },
          `${t("blackout")}${b.reason ? ": " + b.reason : ""}`));
      }
      const vs = mine.filter((v) => v.date === d).sort((a, b) => a.start.localeCompare(b.start));
      // the slots municipalities chose, awaiting the centre: pending fixed visits
      const held = pendingPicks().filter((p) => p.date === d && p.experts.includes(e.id)
        && !vs.some((v) => v.request === p.request));
      const blocks = [...vs, ...held.map(pickAsVisit)].sort((a, b) => a.start.localeCompare(b.start));
      for (const v of blocks) { cell.append(visitBlock(v, e.id)); if (!v.pending) count += 1; }
      cell.append(...dayTags(e, d, vs));
      const n = vs.filter((v) => v.mode === "onsite").length;
      if (vs.length && whole) {
        cell.append(h("span", { class: "cell-total" },
          capText("per-day", t("per_day"), n, e.max_visits_per_day)));
      }
      grid.append(cell);
    }
  }
  if (experts.length && state.me.role !== "municipality") {
    grid.append(h("div", { class: "totals-head" }, h("b", {}, t("totals"))));
    for (const d of days) {
      const vs = state.visits.filter((v) => v.date === d);
      const on = vs.filter((v) => v.mode === "onsite");
      grid.append(h("div", { class: "cell totals", "data-date": d, "data-visits": vs.length },
        `${t("kpi_visits")} ${vs.length} · ${t("onsite")} ${on.length} · ${t("online_n")} ${vs.length - on.length}`));
    }
  }
  if (!experts.length) grid.append(h("p", { class: "empty" }, t("no_visits")));
  renderWeekDays(days);
  grid.dataset.count = String(count);
  grid.dataset.week = state.week;
  grid.style.gridTemplateColumns = `minmax(7em, 10em) repeat(${days.length}, minmax(9em, 1fr))`;
}

/** The plan the week shows, when the page has it whole (the centre: the latest plan or the
 * published one), for what the visits alone do not say: lunch breaks, nights, overtime. */
function shownPlan() {
  if (state.me.role !== "centre") return null;
  const fromJob = state.source === "job" && state.job && state.job.status === "done" && state.job.plan;
  return fromJob ? state.job.plan : (state.shown && state.shown.plan) || null;
}

/** An expert-day's own time: where it starts after a night away and where it stays the
 * night (``start_at``/``end_at``), its lunch breaks and its overtime (minutes past the end of
 * work, the later of the drive home and the last consultation). The centre reads them from
 * the plan shown; an expert from the service's timeline of its own days (loaded after the
 * week is drawn); null when the page has neither. */
function ownTime(e, d, vs) {
  const plan = shownPlan();
  if (!plan) {
    const tl = state.weekTimeline && state.weekTimeline.week === state.week ? state.weekTimeline : null;
    const day = tl && tl.days.find((x) => x.expert === e.id && x.date === d);
    if (!day) return null;
    return { start_at: day.start_at, end_at: day.end_at, overtime: day.overtime_minutes,
      breaks: day.segments.filter((x) => x.kind === "lunch") };
  }
  const route = (plan.routes || []).find((r) => r.expert === e.id && r.date === d);
  const ends = [...vs.map((v) => toMin(hhmm(v.end))), ...(route ? [toMin(route.return)] : [])];
  // plan-request/1's default end of work is 17:15
  const over = e.overtime && ends.length ? Math.max(...ends) - toMin(e.work_end || "17:15") : 0;
  return { start_at: route && route.start_at, end_at: route && route.end_at, overtime: over,
    breaks: (plan.breaks || []).filter((x) => x.expert === e.id && x.date === d) };
}

/** An expert-day's own time (``ownTime``) as tags in its cell of the week. */
function dayTags(e, d, vs) {
  const own = ownTime(e, d, vs);
  if (!own) return [];
  const out = [];
  if (own.start_at) {
    out.push(h("span", { class: "tag night-start", "data-place": own.start_at },
      t("starts_at").replace("{place}", muniName(own.start_at))));
  }
  for (const b of own.breaks) {
    out.push(h("span", { class: "tag lunch", "data-start": b.start }, `${t("seg_lunch")} ${b.start}–${b.end}`));
  }
  if (own.end_at) {
    out.push(h("span", { class: "tag night", "data-place": own.end_at },
      t("night_at").replace("{place}", muniName(own.end_at))));
  }
  if (own.overtime > 0) {
    out.push(h("span", { class: "tag overtime", "data-minutes": own.overtime },
      t("overtime_day").replace("{n}", own.overtime)));
  }
  return out;
}

/** The week as a list of days (what a phone shows instead of the grid): each day's visits
 * in time order with who goes, the slots awaiting the centre, and the day's blackouts. */
const PHONE = window.matchMedia("(max-width: 600px)");

function renderWeekDays(days) {
  const list = $("#week-days");
  // drawn only where it is shown, so that each visit has one block on the page
  if (!PHONE.matches) { list.replaceChildren(); return; }
  const shown = new Set(visibleExperts().map((e) => e.id));
  list.replaceChildren(...days.map((d, i) => {
    const vs = state.visits.filter((v) => v.date === d && v.experts.some((x) => shown.has(x)));
    const held = pendingPicks().filter((p) => p.date === d && !vs.some((v) => v.request === p.request));
    const blocks = [...vs, ...held.map(pickAsVisit)].sort((a, b) => a.start.localeCompare(b.start));
    const off = state.blackouts.filter((b) => b.date === d);
    return h("section", { class: "day", "data-date": d },
      h("h3", {}, `${t("days")[i]} ${shortDate(d)}`),
      off.map((b) => h("p", { class: "tag blackout" }, `${t("blackout")}: ${b.experts.includes("*")
        ? t("everyone") : b.experts.map(expertName).join(" + ")}${b.reason ? " · " + b.reason : ""}`)),
      blocks.length ? h("ul", {}, blocks.map((v) => h("li", {},
        h("span", { class: "day-expert" }, v.experts.map(expertName).join(" + ")),
        visitBlock(v, v.experts.find((x) => shown.has(x)) || v.experts[0]))))
        : h("p", { class: "empty" }, t("no_visits")),
      visibleExperts().map((e) => {
        const tags = dayTags(e, d, vs.filter((v) => v.experts.includes(e.id)));
        return tags.length ? h("p", { class: "own-time", "data-expert": e.id },
          h("span", { class: "day-expert" }, expertName(e.id)), " ", tags) : null;
      }));
  }));
}

/** Each cell of a table's body named by its column's heading (``data-label``), so that a
 * table shown as cards on a phone says what each value is. */
function labelCells(table) {
  const heads = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
  for (const tr of table.querySelectorAll("tbody tr")) {
    Array.from(tr.children).forEach((c, i) => { if (heads[i]) c.dataset.label = heads[i]; });
  }
}

/** An expert's contract use in the shown week: on-site days. */
function contractUse(e, onsite) {
  return { days: new Set(onsite.map((v) => v.date)).size };
}

/** ``label n / cap`` (or ``label n`` without a cap), marked when over the cap. */
function capText(kind, label, n, cap) {
  const has = cap !== null && cap !== undefined;
  return h("span", { class: `cap${has && n > cap ? " over" : ""}`, "data-cap": kind,
    "data-n": n, "data-max": has ? cap : null,
    title: has && n > cap ? t("over_cap") : null }, has ? `${label} ${n}/${cap}` : `${label} ${n}`);
}

function visitBlock(v, expertId) {
  const joint = v.experts.length > 1;
  const field = visitField(v, expertId);
  const cls = ["visit", `field-${field}`, v.mode === "online" ? "online" : "onsite",
    joint ? "joint" : "", v.confidential ? "confidential" : "", v.pending ? "pending" : ""]
    .filter(Boolean).join(" ");
  const partners = v.experts.filter((x) => x !== expertId);
  // a pending slot opens its decision in the inbox; every other block its detail
  const open = v.pending && state.me.role === "centre" ? () => openPending(v.request)
    : v.pending ? null : () => openVisit(v);
  const block = h("div", { class: cls, "data-request": v.request, "data-experts": v.experts.join(" "),
      "data-mode": v.mode, tabindex: "0", role: open ? "button" : null,
      onclick: open,
      onkeydown: open ? (ev) => { if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); open(); } } : null,
      onmouseenter: () => highlight(v.request, true), onmouseleave: () => highlight(v.request, false),
      onfocus: () => highlight(v.request, true), onblur: () => highlight(v.request, false) },
    h("span", { class: "time" }, `${hhmm(v.start)}–${hhmm(v.end)}`),
    h("span", { class: "place" }, muniName(v.location)),
    h("span", { class: "field" }, fieldName(field)),
    v.mode === "online" ? h("span", { class: "tag online" }, t("online")) : null,
    joint ? h("span", { class: "tag joint" }, `${t("joint_with")}: ${v.experts.map(expertName).join(" + ")}`) : null,
    v.confidential ? h("span", { class: "tag confidential" }, t("legend_confidential")) : null,
    v.pending ? h("span", { class: "tag pending" }, t("pick_pending")) : null,
    v.changed ? h("span", { class: "tag changed" }, t("visit_changed")) : null,
    v.title ? h("span", { class: "title" }, v.title) : null);
  block.title = [requestName(v.request), v.title, partners.length ? `${t("joint_with")}: ${v.experts.map(expertName).join(" + ")}` : ""].filter(Boolean).join("\n");
  return block;
}

function highlight(request, on) {
  for (const b of $$(`.visit[data-request="${CSS.escape(request)}"]`)) b.classList.toggle("hl", on);
}

// ------------------------------------------------------------------ map

function renderMap() {
  const daySel = $("#map-day");
  const expSel = $("#map-expert");
  const days = weekDays();
  const keepDay = daySel.value;
  const keepExpert = expSel.value;
  daySel.replaceChildren(...days.map((d, i) => h("option", { value: d }, `${t("days")[i]} ${shortDate(d)}`)));
  const withRoutes = days.find((d) => state.routes.some((r) => r.date === d));
  daySel.value = days.includes(keepDay) ? keepDay : (withRoutes || days[0]);
  expSel.replaceChildren(h("option", { value: "" }, t("all_experts")),
    ...visibleExperts().map((e) => h("option", { value: e.id }, expertName(e.id))));
  expSel.value = keepExpert && visibleExperts().some((e) => e.id === keepExpert) ? keepExpert : "";
  drawMap();
  // the route list's times come from the service's timeline of the same plan
  if (state.me.role !== "municipality") {
    const fromJob = state.me.role === "centre" && state.source === "job" && state.job
      && state.job.plan && state.job.status === "done";
    api("GET", `/v1/timeline?week=${state.week}${fromJob ? `&job=${state.job.id}` : ""}`)
      .then((tl) => { if (tl.week === state.week) { state.mapTimeline = tl; drawMap(); } })
      .catch(() => {});
  }
}

/** The coastline (``/static/ehime.geojson``, OpenStreetMap land polygons cut to the
 * prefecture's frame; see SOURCES), loaded once. */
async function coastline() {
  if (!state.coast) {
    const res = await fetch("/static/ehime.geojson");
    state.coast = res.ok ? await res.json() : { frame: null, features: [] };
  }
  return state.coast;
}

/** Map units per degree of latitude; longitude is shortened by cos(latitude). */
const MAP_SCALE = 1000;

function mapProjection(frame) {
  const kx = Math.cos((((frame[1] + frame[3]) / 2) * Math.PI) / 180);
  return (lon, lat) => [(lon - frame[0]) * kx * MAP_SCALE, (frame[3] - lat) * MAP_SCALE];
}

async function drawMap() {
  const map = $("#map");
  const locs = Array.from(state.munis.values()).filter((m) => m.lat !== null && m.lon !== null);
  if (!locs.length) return;
  const coast = await coastline();
  const frame = coast.frame || [Math.min(...locs.map((m) => m.lon)) - 0.3, Math.min(...locs.map((m) => m.lat)) - 0.3,
    Math.max(...locs.map((m) => m.lon)) + 0.3, Math.max(...locs.map((m) => m.lat)) + 0.3];
  const P = mapProjection(frame);
  const pts = new Map(locs.map((m) => [m.code, P(m.lon, m.lat)]));
  const [fw, fh] = P(frame[2], frame[1]);
  map.setAttribute("viewBox", `0 0 ${fw} ${fh}`);
  map.dataset.full = `0 0 ${fw} ${fh}`;
  map.replaceChildren();
  const defs = svg("defs", {});
  map.append(defs, svg("rect", { class: "sea", x: 0, y: 0, width: fw, height: fh }));
  const land = svg("g", { class: "coast" });
  for (const f of coast.features) {
    const d = f.geometry.coordinates.map((poly) => poly.map((ring) => "M" + ring.map(([lon, lat]) => {
      const [x, y] = P(lon, lat); return `${x.toFixed(1)},${y.toFixed(1)}`;
    }).join("L") + "Z").join("")).join("");
    land.append(svg("path", { class: `land ${f.properties.part}`, d }));
  }
  map.append(land);
  const day = $("#map-day").value;
  const only = $("#map-expert").value;
  const routes = mapRoutes(day, only);
  const list = $("#route-list");
  list.replaceChildren();
  const colourOf = (id) => EXPERT_COLOURS[Math.max(0, state.experts.findIndex((e) => e.id === id)) % EXPERT_COLOURS.length];
  const labels = [];   // what the label placer must fit: [text, x, y, class, group]
  const routeLayer = svg("g", { class: "routes" });
  routes.forEach((r, idx) => {
    const colour = colourOf(r.expert);
    const markerId = `arrow-${idx}`;
    defs.append(svg("marker", { id: markerId, viewBox: "0 0 10 10", refX: "9", refY: "5",
      markerWidth: "5", markerHeight: "5", orient: "auto-start-reverse" },
    svg("path", { d: "M0,0 L10,5 L0,10 z", fill: colour })));
    const base = (state.experts.find((e) => e.id === r.expert) || {}).base || state.office;
    // a day after a night away starts where it stayed; a day before one ends where it stays
    const seq = [r.start_at || base, ...r.stops, r.end_at || base].filter((c, i, a) => i === 0 || c !== a[i - 1]);
    const off = (idx - (routes.length - 1) / 2) * 4;
    const g = svg("g", { class: "route", "data-expert": r.expert });
    for (let i = 0; i + 1 < seq.length; i++) {
      const a = state.munis.get(seq[i]); const b = state.munis.get(seq[i + 1]);
      if (!a || !b) continue;
      let [x1, y1] = pts.get(a.code); let [x2, y2] = pts.get(b.code);
      const len = Math.hypot(x2 - x1, y2 - y1) || 1;
      const nx = (-(y2 - y1) / len) * off; const ny = ((x2 - x1) / len) * off;
      x1 += nx; y1 += ny; x2 += nx; y2 += ny;
      const ferry = Boolean(a.island) !== Boolean(b.island);
      if (ferry) {
        // the part nearest the island is the crossing, drawn dashed and named with its minutes
        const f = 0.45;
        const [ix, iy, ox, oy] = b.island ? [x2, y2, x1, y1] : [x1, y1, x2, y2];
        const mx = ix + (ox - ix) * f; const my = iy + (oy - iy) * f;
        const island = b.island ? b : a;
        const road = b.island ? [x1, y1, mx, my] : [mx, my, x2, y2];
        const sea = b.island ? [mx, my, x2, y2] : [x1, y1, mx, my];
        g.append(svg("line", { class: "leg", x1: road[0], y1: road[1], x2: road[2], y2: road[3], stroke: colour }));
        g.append(svg("line", { class: "leg ferry", x1: sea[0], y1: sea[1], x2: sea[2], y2: sea[3],
          stroke: colour, "marker-end": `url(#${markerId})` }));
        // one name per crossing of a route: there and back are the same ferry
        if (!g.dataset.ferryNamed) {
          g.dataset.ferryNamed = "1";
          labels.push([`${t("ferry")} ${island.ferry_minutes ?? ""}${t("minutes")}`, (sea[0] + sea[2]) / 2,
            (sea[1] + sea[3]) / 2, "ferry-label", g]);
        }
      } else {
        g.append(svg("line", { class: "leg", x1, y1, x2, y2, stroke: colour, "marker-end": `url(#${markerId})` }));
      }
    }
    r.stops.filter((c, i, a) => i === 0 || c !== a[i - 1]).forEach((c, i) => {
      const [x, y] = pts.get(c) || [0, 0];
      g.append(svg("circle", { class: "stop-no", cx: x + off, cy: y, r: 7, fill: colour, "data-stop": i + 1 }));
      g.append(svg("text", { class: "stop-no-text", x: x + off, y: y + 3, "data-y": y }, i + 1));
    });
    for (const [night, place] of [["start", r.start_at], ["end", r.end_at]]) {
      if (!place || !pts.has(place)) continue;
      const [x, y] = pts.get(place);
      const text = t(night === "end" ? "night_at" : "starts_at").replace("{place}", muniName(place));
      const mark = svg("g", { class: "night-mark", "data-night": night, "data-place": place,
        "data-x": x, "data-y": y, transform: `translate(${x},${y})`, role: "img", "aria-label": text },
      svg("title", {}, text), svg("path", { class: "moon", d: MOON }));
      g.append(mark);
      labels.push([text, x, y, "night-label", g]);
    }
    routeLayer.append(g);
    list.append(routeItem(r, base, colour));
  });
  map.append(routeLayer);
  if (!routes.length) list.append(h("li", { class: "empty" }, t("no_routes")));
  const places = svg("g", { class: "places" });
  for (const m of locs) {
    const [x, y] = pts.get(m.code);
    const isOffice = m.code === state.office;
    const g = svg("g", { class: `place${isOffice ? " office" : ""}${m.island ? " island" : ""}`, "data-code": m.code,
      "data-kind": m.kind });
    g.append(isOffice
      ? svg("rect", { class: "dot", x: x - 5, y: y - 5, width: 10, height: 10, "data-x": x, "data-y": y })
      : svg("circle", { class: "dot", cx: x, cy: y, r: m.kind === "city" ? 4.5 : 3.5 }));
    labels.unshift([isOffice ? `${muniName(m.code)} (${t("base")})` : muniName(m.code), x, y, "place-label", g]);
    places.append(g);
  }
  map.append(places);
  state.mapLabels = labels;
  const keep = state.mapView && state.mapView.week === state.week ? state.mapView : null;
  setMapView(keep || { ...homeView(pts), week: state.week });
}

/** A crescent moon beside a place, in screen pixels around it (scaled with the zoom): where an
 * expert stays the night, unlike a visit's numbered dot. */
const MOON = "M 13,-21 A 8,8 0 1 0 21,-9 A 6,6 0 0 1 13,-21 Z";

/** The routes of ``day`` (one expert's, or all) with where each starts and ends: the plan's
 * own ``start_at``/``end_at``, else the service's timeline's (published visits carry no route
 * of their own), and a day away that has no stop (home from a night's place) from it too. */
function mapRoutes(day, only) {
  const tl = ((state.mapTimeline || {}).days || []).filter((d) => d.date === day && (!only || d.expert === only));
  const out = state.routes.filter((r) => r.date === day && (!only || r.expert === only)).map((r) => {
    const d = tl.find((x) => x.expert === r.expert) || {};
    return { ...r, start_at: r.start_at || d.start_at || null, end_at: r.end_at || d.end_at || null };
  });
  for (const d of tl) {
    if ((d.start_at || d.end_at) && !out.some((r) => r.expert === d.expert)) {
      out.push({ expert: d.expert, date: d.date, stops: [], start_at: d.start_at, end_at: d.end_at });
    }
  }
  return out;
}

/** The prefecture's halls with a margin: the view the map opens on. */
function homeView(pts) {
  const xs = [...pts.values()].map((p) => p[0]); const ys = [...pts.values()].map((p) => p[1]);
  const pad = 60;
  return { x: Math.min(...xs) - pad * 2.2, y: Math.min(...ys) - pad, w: Math.max(...xs) - Math.min(...xs) + pad * 3.2,
    h: Math.max(...ys) - Math.min(...ys) + pad * 2 };
}

/** Show ``view`` (map units) and lay the labels out again at the new scale. */
function setMapView(view) {
  const map = $("#map");
  state.mapView = view;
  map.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
  map.dataset.zoom = (state.mapHome ? state.mapHome.w / view.w : 1).toFixed(2);
  if (!state.mapHome || state.mapHome.week !== view.week) state.mapHome = { ...view };
  placeLabels();
}

/** Labels that never overlap each other, the places' dots or the stop numbers: each tries
 * eight places around its point, near then farther; one that finds no room is left out at
 * this zoom (its place keeps its name as a tooltip) and comes back when zoomed in. */
function placeLabels() {
  const map = $("#map");
  for (const el of $$("#map text.map-label")) el.remove();
  const view = state.mapView;
  const rect = map.getBoundingClientRect();
  // map units per screen pixel (the drawing is fitted inside the box, by width or height)
  const unit = rect.width && rect.height ? Math.max(view.w / rect.width, view.h / rect.height) : 1;
  const size = 12 * unit;
  const taken = [];
  const box = (x, y, w, hh) => ({ x1: x, y1: y, x2: x + w, y2: y + hh });
  const hit = (a) => taken.some((b) => a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2);
  // dots and stop numbers keep their size on screen at every zoom
  for (const el of $$("#map circle.dot")) el.setAttribute("r", (el.closest(".island, [data-kind=city]") ? 4.5 : 4) * unit);
  for (const el of $$("#map rect.dot")) {
    const x = Number(el.dataset.x); const y = Number(el.dataset.y);
    for (const [k, v] of [["x", x - 5 * unit], ["y", y - 5 * unit], ["width", 10 * unit], ["height", 10 * unit]]) el.setAttribute(k, v);
  }
  for (const el of $$("#map circle.stop-no")) el.setAttribute("r", 8 * unit);
  for (const el of $$("#map .night-mark")) {
    el.setAttribute("transform", `translate(${el.dataset.x},${el.dataset.y}) scale(${unit})`);
  }
  for (const el of $$("#map text.stop-no-text")) {
    el.setAttribute("font-size", 10 * unit);
    el.setAttribute("y", Number(el.dataset.y) + 3.5 * unit);
  }
  for (const el of $$("#map .night-mark")) {   // its box in map units (getBBox is its own)
    taken.push(box(Number(el.dataset.x) + 3 * unit, Number(el.dataset.y) - 31 * unit, 20 * unit, 24 * unit));
  }
  for (const el of $$("#map .dot, #map .stop-no")) {
    const bb = el.getBBox();
    const m = 2 * unit;
    taken.push(box(bb.x - m, bb.y - m, bb.width + 2 * m, bb.height + 2 * m));
  }
  // inside the shown part of the map, and clear of the zoom buttons over its corner
  const fitted = { x: view.x + (view.w - rect.width * unit) / 2, y: view.y + (view.h - rect.height * unit) / 2 };
  const inView = (b) => b.x1 >= fitted.x && b.y1 >= fitted.y && b.x2 <= fitted.x + rect.width * unit
    && b.y2 <= fitted.y + rect.height * unit;
  const tools = $(".map-tools").getBoundingClientRect();
  if (tools.width) {
    taken.push(box(fitted.x + (tools.left - rect.left) * unit, fitted.y + (tools.top - rect.top) * unit,
      tools.width * unit, tools.height * unit));
  }
  const measure = svg("text", { class: "map-label place-label", "font-size": size, x: 0, y: 0 });
  map.append(measure);
  let shown = 0;
  for (const [text, x, y, cls, group] of state.mapLabels) {
    measure.textContent = text;
    const w = measure.getComputedTextLength() + 2 * unit; const hh = size * 1.15;
    let spot = null;
    for (const d of [8, 18]) {
      const g = d * unit;
      for (const [dx, dy] of [[g, -hh / 2], [-g - w, -hh / 2], [-w / 2, -g - hh], [-w / 2, g], [g, -g - hh * 0.6],
        [g, g - hh * 0.4], [-g - w, -g - hh * 0.6], [-g - w, g - hh * 0.4]]) {
        const b = box(x + dx, y + dy, w, hh);
        if (inView(b) && !hit(b)) { spot = b; break; }
      }
      if (spot) break;
    }
    if (group.classList.contains("place")) group.querySelector(".dot").setAttribute("data-name", text);
    if (!spot) continue;
    taken.push(spot);
    shown += 1;
    group.append(svg("text", { class: `map-label ${cls}`, "font-size": size, x: spot.x1 + unit,
      y: spot.y1 + size * 0.92 }, text));
  }
  measure.remove();
  map.dataset.labels = String(shown);
}

/** Zoom by ``factor`` (over 1: closer) around the map point (cx, cy), within limits. */
function zoomMap(factor, cx, cy) {
  const v = state.mapView; const home = state.mapHome;
  if (!v || !home) return;
  const w = Math.min(home.w * 2, Math.max(home.w / 12, v.w / factor));
  const k = w / v.w;
  const x = cx ?? v.x + v.w / 2; const y = cy ?? v.y + v.h / 2;
  setMapView({ ...v, x: x - (x - v.x) * k, y: y - (y - v.y) * k, w, h: v.h * k });
}

function panMap(dx, dy) {
  const v = state.mapView;
  if (v) setMapView({ ...v, x: v.x + dx, y: v.y + dy });
}

/** Wheel and pinch zoom, drag to pan, and buttons (and keys) for both. */
function wireMap() {
  const map = $("#map");
  const toMap = (ev) => {
    const r = map.getBoundingClientRect(); const v = state.mapView;
    return [v.x + ((ev.clientX - r.left) / r.width) * v.w, v.y + ((ev.clientY - r.top) / r.height) * v.h];
  };
  map.addEventListener("wheel", (ev) => {
    if (!state.mapView) return;
    ev.preventDefault();
    const [x, y] = toMap(ev);
    zoomMap(ev.deltaY < 0 ? 1.25 : 0.8, x, y);
  }, { passive: false });
  const down = new Map();
  let pinch = null;
  map.addEventListener("pointerdown", (ev) => { down.set(ev.pointerId, [ev.clientX, ev.clientY]); map.setPointerCapture(ev.pointerId); });
  map.addEventListener("pointermove", (ev) => {
    if (!down.has(ev.pointerId) || !state.mapView) return;
    const r = map.getBoundingClientRect();
    const unit = Math.max(state.mapView.w / r.width, state.mapView.h / r.height);
    const [px, py] = down.get(ev.pointerId);
    down.set(ev.pointerId, [ev.clientX, ev.clientY]);
    if (down.size === 2) {
      const [a, b] = [...down.values()];
      const dist = Math.hypot(a[0] - b[0], a[1] - b[1]);
      if (pinch) zoomMap(dist / pinch);
      pinch = dist;
      return;
    }
    panMap((px - ev.clientX) * unit, (py - ev.clientY) * unit);
  });
  const up = (ev) => { down.delete(ev.pointerId); if (down.size < 2) pinch = null; };
  map.addEventListener("pointerup", up);
  map.addEventListener("pointercancel", up);
  $("#map-in").addEventListener("click", () => zoomMap(1.5));
  $("#map-out").addEventListener("click", () => zoomMap(1 / 1.5));
  $("#map-home").addEventListener("click", () => setMapView({ ...state.mapHome }));
  map.addEventListener("keydown", (ev) => {
    const v = state.mapView; if (!v) return;
    const step = { ArrowLeft: [-0.1, 0], ArrowRight: [0.1, 0], ArrowUp: [0, -0.1], ArrowDown: [0, 0.1] }[ev.key];
    if (step) { ev.preventDefault(); panMap(step[0] * v.w, step[1] * v.h); }
    if (ev.key === "+" || ev.key === "=") zoomMap(1.5);
    if (ev.key === "-") zoomMap(1 / 1.5);
  });
  new ResizeObserver(() => { if (state.mapView && !$("#view-map").hidden) placeLabels(); }).observe(map);
}

/** A route in the list under the map: leave, each stop with its time, each drive with its
 * minutes (the ferry's marked), back home; the service's timeline gives the legs' times. */
function routeItem(r, base, colour) {
  const day = ((state.mapTimeline || {}).days || []).find((d) => d.expert === r.expert && d.date === r.date);
  const steps = [];
  const from = r.start_at || base; const to = r.end_at || base;
  if (r.start_at) steps.push(h("span", { class: "night-text" }, t("starts_at").replace("{place}", muniName(from))));
  if (day) {
    if (day.leave) steps.push(`${day.leave} ${muniName(from)}`);
    for (const s of day.segments) {
      if (s.kind === "drive") {
        steps.push(h("span", { class: `leg-text${s.ferry_minutes ? " ferry" : ""}` },
          `${t("drive")} ${s.minutes}${t("minutes")}${s.ferry_minutes ? `（${t("ferry")} ${s.ferry_minutes}${t("minutes")}）` : ""}`));
      } else if (s.kind === "onsite") {
        steps.push(h("b", {}, `${s.start}–${s.end} ${placeName(s, "location")}`));
      }
    }
    if (day.return) steps.push(`${day.return} ${muniName(to)}`);
  } else {
    steps.push(...[from, ...r.stops, to].map(muniName));
  }
  if (r.end_at) steps.push(h("span", { class: "night-text" }, t("night_at").replace("{place}", muniName(to))));
  const ferry = r.stops.some((c) => (state.munis.get(c) || {}).island);
  const parts = [];
  steps.forEach((x, i) => { if (i) parts.push(" → "); parts.push(x); });
  return h("li", { style: `border-left-color:${colour}`, "data-expert": r.expert },
    h("b", {}, expertName(r.expert)), " ",
    day ? `(${t("drive")} ${day.drive_minutes}${t("minutes")}) ` : "",
    h("span", { class: "steps" }, parts),
    ferry ? h("span", { class: "tag ferry" }, t("ferry")) : null);
}

// ------------------------------------------------------------------ timeline

/** A drive at least this long (minutes) is marked on the timeline. */
const LONG_DRIVE = 90;

function toMin(x) { const [hh, mm] = x.split(":"); return Number(hh) * 60 + Number(mm); }

/** Each expert's days on an hour axis: drives (the ferry part marked), waiting, on-site and
 * online consultations, as the service times them from the plan's legs and travel minutes
 * (``/v1/timeline``). Kinds the page does not know yet (a planner's lunch or night away)
 * are drawn as blocks named by their kind. */
async function renderTimeline() {
  const fromJob = state.me.role === "centre" && state.source === "job" && state.job
    && state.job.plan && state.job.status === "done";
  const url = `/v1/timeline?week=${state.week}${fromJob ? `&job=${state.job.id}` : ""}`;
  const answer = await api("GET", url);
  if (answer.week !== state.week) return;   // the week changed while this was on its way
  state.timeline = answer;
  const daySel = $("#tl-day"); const expSel = $("#tl-expert");
  const keepDay = daySel.value; const keepExpert = expSel.value;
  const days = weekDays();
  daySel.replaceChildren(h("option", { value: "" }, t("all_days")),
    ...days.map((d, i) => h("option", { value: d }, `${t("days")[i]} ${shortDate(d)}`)));
  daySel.value = days.includes(keepDay) ? keepDay : "";
  const shown = visibleExperts();
  expSel.replaceChildren(h("option", { value: "" }, t("all_experts")),
    ...shown.map((e) => h("option", { value: e.id }, expertName(e.id))));
  expSel.value = shown.some((e) => e.id === keepExpert) ? keepExpert : "";
  drawTimeline();
}

function drawTimeline() {
  const box = $("#timeline");
  const data = state.timeline;
  if (!data) return;
  const day = $("#tl-day").value; const only = $("#tl-expert").value;
  const rows = data.days.filter((d) => (!day || d.date === day) && (!only || d.expert === only));
  box.dataset.week = data.week;
  if (!rows.length) { box.replaceChildren(h("p", { class: "empty" }, t("tl_none"))); return; }
  // one axis for every row: whole hours around the working hours and every segment
  let lo = Infinity; let hi = -Infinity;
  for (const d of rows) {
    for (const x of [d.work_start, d.work_end, ...d.segments.flatMap((s) => [s.start, s.end])]) {
      if (!x) continue;
      lo = Math.min(lo, toMin(x)); hi = Math.max(hi, toMin(x));
    }
  }
  lo = Math.floor(lo / 60) * 60; hi = Math.ceil(hi / 60) * 60;
  const pct = (x) => `${((toMin(x) - lo) / (hi - lo)) * 100}%`;
  const span = (a, b) => `${((toMin(b) - toMin(a)) / (hi - lo)) * 100}%`;
  const ticks = [];
  for (let m = lo; m <= hi; m += 60) {
    ticks.push(h("span", { class: `tick${(m / 60) % 2 ? " odd" : ""}`, style: `left:${((m - lo) / (hi - lo)) * 100}%` }, `${m / 60}`));
  }
  const out = [h("div", { class: "tl-axis", "aria-hidden": "true" }, h("span", { class: "tl-who" }), h("div", { class: "tl-hours" }, ticks))];
  const dayIndex = (iso) => weekDays().indexOf(iso);
  for (const d of rows) {
    const bar = h("div", { class: "tl-bar" });
    if (d.work_start && d.work_end) {
      bar.append(h("span", { class: "tl-work", style: `left:${pct(d.work_start)};width:${span(d.work_start, d.work_end)}` }));
    }
    if (d.overtime_minutes > 0 && d.work_end) {
      // the minutes past the end of work, hatched behind the day's last blocks
      const end = hhmm(toMin(d.work_end) + d.overtime_minutes);
      bar.append(h("span", { class: "tl-overtime", style: `left:${pct(d.work_end)};width:${span(d.work_end, end)}` }));
    }
    for (const s of d.segments) bar.append(timelineSegment(s, pct, span));
    const facts = d.leave
      ? [`${t("tl_leave")} ${d.leave}`, `${t("tl_return")} ${d.return}`,
        `${t("seg_drive")} ${d.drive_minutes}${t("minutes")}（${t("tl_longest")} ${d.longest_drive}${t("minutes")}）`,
        `${t("seg_wait")} ${d.wait_minutes}${t("minutes")}`]
      : d.start_at || d.end_at ? [] : [t("tl_at_base")];   // a day spent where it stayed
    out.push(h("div", { class: "tl-row", "data-expert": d.expert, "data-date": d.date },
      h("div", { class: "tl-who" }, h("b", {}, expertName(d.expert)), " ",
        h("span", {}, `${t("days")[dayIndex(d.date)] || ""} ${shortDate(d.date)}`)),
      h("div", { class: "tl-track" }, bar, h("p", { class: "tl-facts" }, facts.join(" · "),
        ...dayFacts(d)))));
  }
  box.replaceChildren(...out);
}

/** A day's own facts beside its times: where it starts after a night away, where it stays
 * the night, and its overtime; each its own element, read as it is written. */
function dayFacts(d) {
  const out = [];
  if (d.start_at) {
    out.push(h("span", { class: "tl-night", "data-night": "start", "data-place": d.start_at },
      t("starts_at").replace("{place}", placeName(d, "start_at"))));
  }
  if (d.end_at) {
    out.push(h("span", { class: "tl-night", "data-night": "end", "data-place": d.end_at },
      t("night_at").replace("{place}", placeName(d, "end_at"))));
  }
  if (d.overtime_minutes > 0) {
    out.push(h("span", { class: "tl-overtime-text", "data-minutes": d.overtime_minutes },
      t("overtime_day").replace("{n}", d.overtime_minutes)));
  }
  return out.flatMap((x, i) => (i || d.leave || !(d.start_at || d.end_at) ? [" · ", x] : [x]));
}

function timelineSegment(s, pct, span) {
  const words = {
    drive: () => `${t("seg_drive")} ${placeName(s, "from")} → ${placeName(s, "to")} ${s.minutes}${t("minutes")}`
      + (s.ferry_minutes ? `（${t("seg_ferry")} ${s.ferry_minutes}${t("minutes")}）` : ""),
    wait: () => `${t("seg_wait")} ${s.minutes}${t("minutes")}`,
    onsite: () => `${t("seg_onsite")} ${placeName(s, "location")}${s.title ? " · " + s.title : ""}`,
    online: () => `${t("seg_online")} ${placeName(s, "location")}${s.title ? " · " + s.title : ""}`,
    appointment: () => `${t("seg_appointment")} ${placeName(s, "location")}`,
  };
  const text = `${s.start}–${s.end} ${(words[s.kind] || (() => t("seg_" + s.kind)))()}`;
  const long = s.kind === "drive" && s.minutes >= LONG_DRIVE;
  const short = s.kind === "drive" ? `${s.minutes}${t("minutes")}`
    : s.kind === "wait" ? `${s.minutes}${t("minutes")}`
      : s.location ? placeName(s, "location") : t("seg_" + s.kind);
  const el = h("span", { class: `seg seg-${s.kind}${long ? " long" : ""}`, "data-kind": s.kind,
    "data-start": s.start, "data-end": s.end, title: text,
    style: `left:${pct(s.start)};width:${span(s.start, s.end)}` },
  h("span", { class: "seg-text" }, short), h("span", { class: "sr-only" }, text));
  if (s.kind === "drive" && s.ferry_minutes) {
    // the crossing is at the island end of the leg: the end going there, the start coming back
    const share = `${Math.min(100, (s.ferry_minutes / s.minutes) * 100)}%`;
    const toIsland = (state.munis.get(s.to) || {}).island;
    el.append(h("span", { class: "seg-ferry", style: `width:${share};${toIsland ? "right" : "left"}:0` }));
  }
  return el;
}

// ------------------------------------------------------------------ requests

function renderFieldBoxes() {
  const box = $("#field-boxes");
  const checked = new Set($$("#field-boxes input:checked").map((i) => i.value));
  box.replaceChildren(...FIELDS.map((f) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "fields", value: f, checked: checked.has(f) }), fieldName(f))));
}

function fillMunicipalitySelect() {
  const sel = $("#request-form select[name=municipality]");
  sel.replaceChildren(...Array.from(state.munis.values()).filter((m) => m.code !== state.office)
    .map((m) => h("option", { value: m.code }, muniName(m.code))));
}

/** The rows the request table works on: the week's requests, or every week's (loaded when
 * asked for), each with the visit that schedules it (in the shown plan or published). */
function requestRows() {
  if (state.rq.scope === "all" && state.rqAll) {
    const visit = new Map(state.rqAll.visits.map((v) => [v.request, v]));
    for (const v of state.visits) visit.set(v.request, v);
    return state.rqAll.requests.map((q) => ({ q, v: visit.get(q.id) || null }));
  }
  const visit = new Map(state.visits.map((v) => [v.request, v]));
  return state.requests.map((q) => ({ q, v: visit.get(q.id) || null }));
}

const STATUS_ORDER = ["draft", "submitted", "scheduled", "done", "cancelled"];

/** The sort key of a row for a column (ties: dates, then the request's own order). */
function requestKey(row, col) {
  const { q, v } = row;
  switch (col) {
    case "municipality": return muniName(q.municipality);
    case "title": return requestTitle(q);
    case "duration": return q.duration_min;
    case "priority": return q.priority;
    case "status": return STATUS_ORDER.indexOf(q.status);
    case "scheduled": return v ? `${v.date} ${hhmm(v.start)}` : null;   // last either way
    default: return `${q.earliest} ${q.latest}`;
  }
}

/** The rows that pass the filters and the search, sorted. */
function filteredRequests() {
  const { status, field, muni, q: text, sort, dir } = state.rq;
  const words = text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const rows = requestRows().filter(({ q, v }) => {
    if (status && q.status !== status) return false;
    if (field && !q.fields.includes(field)) return false;
    if (muni && q.municipality !== muni) return false;
    if (!words.length) return true;
    const hay = [muniName(q.municipality), requestTitle(q), q.title || "", ...q.fields.map(fieldName),
      t("s_" + q.status), v ? v.experts.map(expertName).join(" ") : ""].join(" ").toLowerCase();
    return words.every((w) => hay.includes(w));
  });
  const coll = new Intl.Collator(state.lang === "en" ? "en" : "ja", { numeric: true });
  const cmp = (a, b) => (typeof a === "number" && typeof b === "number" ? a - b : coll.compare(String(a), String(b)));
  const keyed = (a, b) => (a === null || b === null ? (a === null) - (b === null) : dir * cmp(a, b));
  return rows.map((r, i) => [r, requestKey(r, sort), requestKey(r, "dates"), i])
    .sort((a, b) => keyed(a[1], b[1]) || cmp(a[2], b[2]) || a[3] - b[3]).map((x) => x[0]);
}

function fillRequestFilters() {
  const keep = (sel, value) => { sel.value = value; if (sel.value !== value) sel.value = ""; };
  const st = $("#rq-status");
  st.replaceChildren(h("option", { value: "" }, t("rq_any")),
    ...STATUS_ORDER.map((x) => h("option", { value: x }, t("s_" + x))));
  keep(st, state.rq.status);
  const fl = $("#rq-field");
  fl.replaceChildren(h("option", { value: "" }, t("rq_any")), ...FIELDS.map((f) => h("option", { value: f }, fieldName(f))));
  keep(fl, state.rq.field);
  const mu = $("#rq-muni");
  mu.replaceChildren(h("option", { value: "" }, t("rq_any")), ...Array.from(state.munis.values())
    .filter((m) => m.code !== state.office).map((m) => h("option", { value: m.code }, muniName(m.code))));
  keep(mu, state.rq.muni);
  $("#rq-scope").value = state.rq.scope;
}

function renderRequests() {
  fillRequestFilters();
  const rows = filteredRequests();
  const { size } = state.rq;
  const pages = Math.max(1, Math.ceil(rows.length / size));
  state.rq.page = Math.min(state.rq.page, pages - 1);
  const first = state.rq.page * size;
  const shown = rows.slice(first, first + size);
  const table = $("#requests-table");
  for (const th of table.querySelectorAll("th[data-sort]")) {
    const on = th.dataset.sort === state.rq.sort;
    th.setAttribute("aria-sort", on ? (state.rq.dir > 0 ? "ascending" : "descending") : "none");
  }
  const body = $("#requests-table tbody");
  body.replaceChildren(...shown.map(requestRow));
  if (!shown.length) body.append(h("tr", { class: "empty" }, h("td", { colspan: "11" }, t("rq_none"))));
  table.dataset.total = String(rows.length);
  $("#rq-count").textContent = rows.length
    ? t("rq_count").replace("{total}", rows.length).replace("{from}", first + 1).replace("{to}", first + shown.length) : "";
  $("#rq-prev").disabled = state.rq.page === 0;
  $("#rq-next").disabled = state.rq.page >= pages - 1;
  $(".pager").hidden = pages <= 1;
  labelCells(table);
}

function requestRow({ q, v }) {
  const editable = ["draft", "submitted"].includes(q.status);
  const pick = pendingPicks().find((p) => p.request === q.id);
  const actions = h("td", { class: "actions" },
    editable ? h("button", { type: "button", onclick: () => editRequest(q) }, t("edit")) : null,
    q.status === "draft" ? h("button", { type: "button", onclick: () => transition(q, "submit") }, t("submit")) : null,
    ["draft", "submitted", "scheduled"].includes(q.status)
      ? h("button", { type: "button", class: "danger", onclick: () => transition(q, "cancel") }, t("cancel")) : null,
    editable ? h("button", { type: "button", class: "slots-btn", onclick: () => showSlots(q) }, t("slots_btn")) : null,
    pick && state.me.role === "municipality"
      ? h("button", { type: "button", class: "undo-pick", onclick: () => dropPick(q) }, t("undo_pick")) : null);
  return h("tr", { "data-id": q.id, "data-municipality": q.municipality },
    h("td", {}, muniName(q.municipality)),
    h("td", {}, requestTitle(q), q.confidential ? h("span", { class: "tag confidential" }, t("legend_confidential")) : null,
      afterFirst(q)),
    h("td", {}, q.fields.map(fieldName).join(" + ")),
    h("td", {}, t(q.mode)), h("td", {}, q.duration_min), h("td", {}, q.priority),
    h("td", {}, `${shortDate(q.earliest)}–${shortDate(q.latest)}`),
    h("td", { class: "scheduled" }, v ? `${shortDate(v.date)} ${hhmm(v.start)}–${hhmm(v.end)}` : t("rq_not_yet")),
    h("td", { class: "experts" }, v ? v.experts.map(expertName).join(" + ") : ""),
    h("td", { class: `status s-${q.status}` }, t("s_" + q.status),
      pick ? h("span", { class: "pick", "data-pick": pick.id },
        `${t("pick_pending")} ${shortDate(pick.date)} ${pick.start}`) : null), actions);
}

/** A series' gap in words: 「7〜21日後」, 「7日後以降」 without an upper limit. */
function seriesGap(x) {
  const min = x.min_days ?? 1;
  return x.max_days ? t("gap_days").replace("{min}", min).replace("{max}", x.max_days)
    : t("gap_from").replace("{min}", min);
}

/** A session of a series as people name it: municipality, field and subject, never its id. */
function sessionName(f) {
  return `${f.municipality ? muniName(f.municipality) + " " : ""}${(f.fields || []).map(fieldName).join("・")}「${requestTitle(f)}」`;
}

/** A request's series and due date under its subject: the session it follows, by name and
 * the date it was made, with the gap asked for 「前回の相談: 松山市 広報「研修 第1回」 (3/5) · 7〜21日後」;
 * each session that follows it 「次回の相談: …」; its due date 「期限: 4/7」. */
function afterFirst(q) {
  const out = [];
  const f = q.after_first;
  if (f) {
    const when = f.date ? shortDate(f.date) : t("rq_not_yet");
    out.push(h("div", { class: "after-first" },
      `${t("after_first")}: ${sessionName(f)} (${when}) · ${seriesGap(q.after || {})}`));
  }
  for (const x of q.followups || []) {
    const when = x.date ? shortDate(x.date) : t("rq_not_yet");
    out.push(h("div", { class: "followup" }, `${t("followed_by")}: ${sessionName(x)} (${when}) · ${seriesGap(x)}`));
  }
  if (q.due) out.push(h("div", { class: "due" }, `${t("due")}: ${shortDate(q.due)}`));
  return out;
}

/** Every week's requests and published visits, for the table's "all weeks". */
async function loadAllRequests() {
  const [requests, visits] = await Promise.all([apiAll("/v1/requests"), api("GET", "/v1/visits")]);
  state.rqAll = { requests, visits: visits.map((v) => ({ ...v, location: v.municipality })) };
}

/** The table's controls: each change starts again at the first page. */
function wireRequestTable() {
  const again = () => { state.rq.page = 0; renderRequests(); };
  let timer = null;
  $("#rq-search").addEventListener("input", (ev) => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.rq.q = ev.target.value; again(); }, 150);
  });
  $("#rq-status").addEventListener("change", (ev) => { state.rq.status = ev.target.value; again(); });
  $("#rq-field").addEventListener("change", (ev) => { state.rq.field = ev.target.value; again(); });
  $("#rq-muni").addEventListener("change", (ev) => { state.rq.muni = ev.target.value; again(); });
  $("#rq-scope").addEventListener("change", async (ev) => {
    state.rq.scope = ev.target.value;
    if (state.rq.scope === "all") {
      try { await loadAllRequests(); } catch (err) { say(problemText(err), true); }
    }
    again();
  });
  for (const th of $$("#requests-table th[data-sort]")) {
    th.querySelector("button").addEventListener("click", () => {
      const col = th.dataset.sort;
      state.rq.dir = state.rq.sort === col ? -state.rq.dir : 1;
      state.rq.sort = col;
      again();
    });
  }
  $("#rq-prev").addEventListener("click", () => { state.rq.page -= 1; renderRequests(); });
  $("#rq-next").addEventListener("click", () => { state.rq.page += 1; renderRequests(); });
}

/** Turn to the page of the table that holds request ``id``, clearing filters that hide it. */
function pageToRequest(id) {
  let at = filteredRequests().findIndex((r) => r.q.id === id);
  if (at < 0) {
    Object.assign(state.rq, { status: "", field: "", muni: "", q: "" });
    $("#rq-search").value = "";
    at = filteredRequests().findIndex((r) => r.q.id === id);
  }
  if (at >= 0) state.rq.page = Math.floor(at / state.rq.size);
  renderRequests();
}

// ------------------------------------------------------------------ slot proposals

/** The slots municipalities chose this week that await the centre, one per request. */
function pendingPicks() {
  const open = new Set(state.requests.filter((q) => ["draft", "submitted"].includes(q.status))
    .map((q) => q.id));
  return state.picks.filter((p) => p.status === "pending" && open.has(p.request));
}

/** A pending pick drawn in the week grid like a visit, marked as awaiting confirmation. */
function pickAsVisit(p) {
  const q = state.requests.find((x) => x.id === p.request) || {};
  return { request: p.request, experts: p.experts, mode: p.mode, date: p.date, start: p.start,
    end: p.end, location: p.municipality, municipality: p.municipality, title: q.title || "",
    confidential: Boolean(q.confidential), fields: q.fields || null, pending: true };
}

/** Ask for the request's best slots and show them to choose from. */
async function showSlots(q) {
  state.slotsFor = q;
  const card = $("#slots-card");
  card.hidden = false;
  $("#slots-request").textContent = requestName(q.id);
  $("#slots-help").textContent = t(state.me.role === "centre" ? "slots_help_centre" : "slots_help_municipality");
  $("#slots-list").replaceChildren();
  $("#slots-none").hidden = true;
  if (!$("#view-requests").hidden) card.scrollIntoView({ block: "start" });
  const other = $("#slots-other-mode").checked ? "also" : "fallback";
  let answer;
  try {
    answer = await api("POST", `${q.url}/slot-proposals`, { top: 3, other_mode: other });
  } catch (err) { say(problemText(err), true); return; }
  renderSlots(q, answer);
}

function renderSlots(q, answer) {
  const list = $("#slots-list");
  list.dataset.request = q.id;
  list.replaceChildren(...answer.proposals.map((p) => {
    const days = t("days");
    const wd = days[(new Date(p.date + "T00:00:00Z").getUTCDay() + 6) % 7] || "";
    const cost = p.objective_change !== undefined ? h("span", { class: "cost" }, slotCost(p)) : null;
    return h("li", { "data-date": p.date, "data-start": p.start, "data-mode": p.mode },
      h("span", { class: "slot-when" }, `${shortDate(p.date)}（${wd}）${p.start}–${p.end}`), " ",
      t(p.mode), " ", p.experts.map(expertName).join(" + "),
      p.mode_changed ? h("span", { class: "tag pending" }, t("mode_changed")) : null,
      p.alternative ? h("span", { class: "tag blackout" }, t("alt_time")) : null,
      cost,
      h("button", { type: "button", class: "choose", onclick: () => chooseSlot(q, p) }, t("choose")));
  }));
  const none = answer.unscheduled;
  $("#slots-none").hidden = !none && answer.proposals.length > 0;
  $("#slots-none-head").textContent = none ? t("slots_none") : t("slots_empty");
  const reasons = !none ? [] : (none.reasons || []).map((r, i) => typeof r === "string"
    ? named(state.lang === "ja" && none.reasons_ja ? none.reasons_ja[i] : r)
    : (state.lang === "ja" ? r.reason_ja : r.reason));
  $("#slots-reasons").replaceChildren(...reasons.map((r) => h("li", {}, r)));
}

/** What a slot costs the week, as the centre reads it: 「+1 件、運転 +44 分、他の訪問 1 件が移動」
 * (visits gained, driving added, other visits moved or left out), never the planner's score. */
function slotCost(p) {
  const signed = (n) => `${n > 0 ? "+" : n < 0 ? "−" : "±"}${Math.abs(n)}`;
  const moved = (p.moved || []).filter((c) => c.kind === "moved").length;
  const dropped = (p.moved || []).filter((c) => c.kind === "dropped").length;
  const parts = [t("cost_visits").replace("{n}", signed(p.visits_added ?? 1)),
    t("cost_drive").replace("{n}", signed(p.drive_minutes_added || 0))];
  if (moved) parts.push(t("cost_moved").replace("{n}", moved));
  if (dropped) parts.push(t("cost_dropped").replace("{n}", dropped));
  if (!moved && !dropped) parts.push(t("cost_still"));
  return parts.join(state.lang === "ja" ? "、" : ", ");
}

async function chooseSlot(q, p) {
  try {
    const pick = await api("POST", `${q.url}/accept-slot`, p.choose);
    say(t(pick.status === "confirmed" ? "chosen_confirmed" : "chosen_pending"));
    $("#slots-card").hidden = true;
    state.slotsFor = null;
    await loadWeek();
  } catch (err) { say(problemText(err), true); }
}

async function dropPick(q) {
  try {
    await api("DELETE", `${q.url}/slot-pick`);
    say(t("pick_rejected"));
    await loadWeek();
  } catch (err) { say(problemText(err), true); }
}

/** The centre's list of slots municipalities chose: confirm, choose another, or turn down. */
function renderPicks() {
  if (state.me.role !== "centre") return;
  const list = $("#picks-list");
  const picks = pendingPicks();
  list.replaceChildren(...picks.map(pickItem));
  if (!picks.length) list.append(h("li", { class: "empty" }, t("no_picks")));
}

/** A slot a municipality chose, with what the centre can do about it: confirm it, choose
 * another slot, or turn it down (after asking). */
function pickItem(p) {
  const q = state.requests.find((x) => x.id === p.request);
  return h("li", { "data-pick": p.id, "data-request": p.request },
    h("b", {}, requestName(p.request)), " ",
    `${shortDate(p.date)} ${p.start}–${p.end} ${t(p.mode)} ${p.experts.map(expertName).join(" + ")}`,
    h("span", { class: "tag pending" }, t("chosen_by_municipality")),
    h("button", { type: "button", class: "confirm", onclick: () => chooseSlot(q, { choose: {
      experts: p.experts, date: p.date, start: p.start, mode: p.mode } }) }, t("confirm")),
    h("button", { type: "button", class: "other", onclick: () => openSlots(q) }, t("other_slot")),
    h("button", { type: "button", class: "danger reject", onclick: async () => {
      if (await confirmStep(t("confirm_reject"), requestName(p.request), t("confirm_reject_ok"))) dropPick(q);
    } }, t("reject")));
}

/** The request's slots, on the request view, scrolled to. */
function openSlots(q) {
  showView("requests");
  return showSlots(q);
}

// ------------------------------------------------------------------ inbox (centre)

/** The centre's decisions for the shown week, each with its action in place: slots chosen
 * by municipalities, requests not in the latest plan, requests the plan left out, messages
 * to pass on, outcomes to record for visits that have started. */
function renderInbox() {
  const box = $("#inbox-body");
  const picks = pendingPicks();
  const picked = new Set(picks.map((p) => p.request));
  const plan = state.job && state.job.status === "done" && state.job.plan;
  const inPlan = new Set(plan ? [...plan.visits, ...plan.unscheduled].map((x) => x.request) : []);
  const open = state.requests.filter((q) => q.status === "submitted" && !picked.has(q.id));
  const fresh = open.filter((q) => !inPlan.has(q.id));
  const openIds = new Set(open.map((q) => q.id));
  const left = state.unscheduled.filter((u) => openIds.has(u.request) && !fresh.some((q) => q.id === u.request));
  const outcomes = state.published.filter((v) => v.started && v.held === null);
  const slotsBtn = (q) => h("button", { type: "button", class: "slots-btn", onclick: () => openSlots(q) }, t("slots_btn"));
  const parts = [
    ["picks", t("in_picks"), picks.map(pickItem), null],
    ["new", plan ? t("in_new") : t("in_new_noplan"), fresh.map((q) => h("li", { "data-request": q.id },
      h("b", {}, requestName(q.id)), " ", `${q.fields.map(fieldName).join(" + ")} · ${t(q.mode)} · ${shortDate(q.earliest)}–${shortDate(q.latest)}`,
      slotsBtn(q))),
    h("button", { type: "button", class: "plan-now", onclick: runPlan,
      disabled: Boolean(state.job && ["queued", "running"].includes(state.job.status)) }, t("in_plan"))],
    ["left", t("in_left"), left.map((u) => {
      const q = u.req || state.requests.find((x) => x.id === u.request);
      const reasons = (state.lang === "ja" && u.reasons_ja && u.reasons_ja.length ? u.reasons_ja : u.reasons) || [];
      return h("li", { "data-request": u.request }, h("b", {}, requestName(u.request)), " ",
        reasons.length ? h("small", { class: "muted" }, named(reasons[0])) : null, q ? slotsBtn(q) : null);
    }), null],
    ["messages", t("in_messages"), state.outbox.map((m) => h("li", { "data-message": m.id },
      h("b", {}, m.recipient_kind === "municipality" ? muniName(m.recipient) : expertName(m.recipient)), " ",
      h("span", { class: m.needs_call ? "tag pending" : "tag" }, m.needs_call ? t("in_call") : t("in_mail")), " ",
      phonedButton(m),
      h("details", { class: "message-body" }, h("summary", {}, m.subject), h("pre", {}, m.body)))), null],
    ["outcomes", t("in_outcomes"), outcomes.map((v) => h("li", { "data-visit": v.id, "data-request": v.request },
      h("b", {}, `${shortDate(v.date)} ${v.start}`), " ", `${muniName(v.municipality)}「${v.title || requestTitle(state.requests.find((q) => q.id === v.request))}」 `,
      h("small", { class: "muted" }, v.experts.map(expertName).join(" + ")),
      h("button", { type: "button", class: "held-yes", onclick: () => quickOutcome(v, true) }, t("in_held_yes")),
      h("button", { type: "button", class: "held-no", onclick: () => quickOutcome(v, false) }, t("in_held_no")))), null],
  ].filter(([, , items]) => items.length);
  box.replaceChildren(...parts.map(([key, title, items, action]) => {
    const all = state.inboxAll.has(key);
    const shown = all ? items : items.slice(0, 5);
    return h("section", { class: "inbox-part", "data-part": key },
      h("h3", {}, `${title} `, h("span", { class: "count" }, items.length), action ? " " : null, action),
      h("ul", {}, shown),
      items.length > shown.length ? h("button", { type: "button", class: "link more",
        onclick: () => { state.inboxAll.add(key); renderInbox(); } },
      t("in_more").replace("{n}", items.length - shown.length)) : null);
  }));
  if (!parts.length) box.append(h("p", { class: "empty" }, t("inbox_none")));
  $("#inbox").dataset.count = String(parts.reduce((n, p) => n + p[2].length, 0));
}

async function quickOutcome(v, held) {
  try {
    await api("PUT", `${v.url}/outcome`, { held, notes: v.notes || null, satisfaction: v.satisfaction || null });
    say(t("outcome_saved"));
    await loadWeek();
  } catch (err) { say(problemText(err), true); }
}

/** A visit's detail, with what the person may do about it: record its outcome once it has
 * started (centre, the visited municipality), choose other slots or edit the request while
 * it is open (centre), see the request in its list. */
function openVisit(v) {
  const box = $("#visit-detail");
  const role = state.me.role;
  const q = state.requests.find((x) => x.id === v.request);
  const pub = (role === "expert" ? state.visits : state.published.length ? state.published : state.visits)
    .find((x) => x.request === v.request && x.id !== undefined);
  const wd = t("days")[(new Date(v.date + "T00:00:00Z").getUTCDay() + 6) % 7] || "";
  $("#visit-detail-title").textContent = q ? requestName(v.request)
    : `${muniName(v.location || v.municipality)}「${v.title || requestTitle(null)}」`;
  $("#visit-detail-body").replaceChildren(...[
    h("p", {}, h("b", {}, `${shortDate(v.date)}（${wd}）${hhmm(v.start)}–${hhmm(v.end)}`), " ",
      `${t(v.mode)} · ${muniName(v.location || v.municipality)}`),
    h("p", {}, v.experts.map(expertName).join(" + ")),
    q ? h("p", { class: "muted" }, `${q.fields.map(fieldName).join(" + ")} · ${t("col_status")}: ${t("s_" + q.status)}`) : null,
    ...(q ? afterFirst(q) : []),
    pub && pub.held !== null && pub.held !== undefined
      ? h("p", { class: "muted" }, `${t("held")}: ${pub.held ? t("in_held_yes") : t("in_held_no")}`) : null,
  ].filter(Boolean));
  const close = () => box.close();
  const act = (label, cls, fn) => h("button", { type: "button", class: cls,
    onclick: async () => { close(); await fn(); } }, label);
  const writer = role === "centre" || (role === "municipality" && v.municipality === state.me.municipality);
  const actions = [];
  if (pub && pub.started && writer) {
    actions.push(act(t("in_held_yes"), "held-yes", () => quickOutcome(pub, true)),
      act(t("in_held_no"), "held-no", () => quickOutcome(pub, false)));
  }
  if (q && role === "centre" && ["draft", "submitted"].includes(q.status)) {
    actions.push(act(t("slots_btn"), "slots-btn", () => openSlots(q)));
  }
  if (q && ["draft", "submitted"].includes(q.status) && role !== "expert") {
    actions.push(act(t("edit"), "edit", () => editRequest(q)));
  }
  if (q && role !== "expert") actions.push(act(t("show_request"), "show-request", () => openRequest(q)));
  actions.push(h("button", { type: "button", class: "close", onclick: close }, t("close")));
  $("#visit-detail-actions").replaceChildren(...actions);
  box.dataset.request = v.request;
  box.showModal();
  actions[0].focus();
}

/** A pending block of the week opens its decision: the inbox item with its actions. */
function openPending(request) {
  const item = $(`#inbox li[data-request="${CSS.escape(request)}"]`);
  if (!item) return;
  for (const x of $$("#inbox li.hl")) x.classList.remove("hl");
  item.classList.add("hl");
  item.scrollIntoView({ block: "center" });
  const first = item.querySelector("button");
  if (first) first.focus();
}

function resetForm() {
  const f = $("#request-form");
  f.reset();
  state.editing = null;
  $("#form-title").textContent = t("form_new");
  $("#form-title").dataset.i18n = "form_new";
  $("#new-request").hidden = true;
  $("#submit-now-label").hidden = false;
  f.earliest.value = state.week || "";
  f.latest.value = state.week ? addDays(state.week, 4) : "";
  f.after_same.checked = true;
  $("#series-box").open = false;
  state.afterChoice = "";
  f.after_request.value = "";
  for (const i of $$("#field-boxes input")) i.checked = false;
  $("#form-errors").replaceChildren();
  for (const el of $$("#request-form .invalid")) el.classList.remove("invalid");
}

function editRequest(q) {
  const f = $("#request-form");
  resetForm();
  state.editing = q;
  $("#form-title").textContent = t("form_edit");
  $("#form-title").dataset.i18n = "form_edit";
  $("#new-request").hidden = false;
  $("#submit-now-label").hidden = q.status !== "draft";
  f.elements.submit.checked = false;
  f.municipality.value = q.municipality;
  f.elements.title.value = q.title || "";
  for (const i of $$("#field-boxes input")) i.checked = q.fields.includes(i.value);
  f.mode.value = q.mode; f.duration_min.value = q.duration_min; f.priority.value = q.priority;
  f.earliest.value = q.earliest; f.latest.value = q.latest;
  f.window_start.value = q.window ? q.window[0] : ""; f.window_end.value = q.window ? q.window[1] : "";
  f.confidential.checked = q.confidential;
  f.due.value = q.due || "";
  const a = q.after || {};
  f.after_min.value = a.request ? a.min_days ?? 1 : ""; f.after_max.value = a.max_days ?? "";
  f.after_same.checked = a.same_experts ?? true;
  state.afterChoice = a.request || "";
  $("#series-box").open = Boolean(q.due || a.request);   // folded unless the request has them
  showView("requests");
  f.elements.title.focus();
}

function formBody() {
  const f = $("#request-form");
  const body = {
    title: f.elements.title.value.trim(),
    fields: $$("#field-boxes input:checked").map((i) => i.value),
    mode: f.mode.value,
    duration_min: Number(f.duration_min.value),
    priority: Number(f.priority.value),
    earliest: f.earliest.value || null,
    latest: f.latest.value || null,
    confidential: f.confidential.checked,
  };
  if (f.window_start.value || f.window_end.value) body.window = [f.window_start.value, f.window_end.value];
  else if (state.editing && state.editing.window) body.window = null;
  if (f.due.value) body.due = f.due.value;
  else if (state.editing && state.editing.due) body.due = null;
  if (f.after_request.value) {
    body.after = { request: f.after_request.value, min_days: Number(f.after_min.value) || 1,
      max_days: f.after_max.value ? Number(f.after_max.value) : null, same_experts: f.after_same.checked };
  } else if (state.editing && state.editing.after) body.after = null;
  if (!state.editing) {
    body.submit = f.elements.submit.checked;
    if (state.me.role === "centre") body.municipality = f.municipality.value;
  }
  return body;
}

/** The sessions a request may follow: the other requests of the form's municipality, not
 * cancelled, each named by its field, subject and dates (never its id), filled when the form
 * is shown; the session chosen (``state.afterChoice``) stays chosen, and of two fills on their
 * way the later one is drawn. */
async function fillAfterSelect() {
  const f = $("#request-form");
  const sel = f.after_request;
  const token = (state.afterFill = (state.afterFill || 0) + 1);
  const muni = state.me.role === "centre" ? f.municipality.value : state.me.municipality;
  const all = muni ? await apiAll(`/v1/requests?municipality=${encodeURIComponent(muni)}`).catch(() => []) : [];
  if (token !== state.afterFill) return;
  const mine = all.filter((q) => q.status !== "cancelled" && q.id !== (state.editing && state.editing.id));
  sel.replaceChildren(h("option", { value: "" }, t("after_none")), ...mine.map((q) => h("option", { value: q.id },
    `${sessionName(q)} ${shortDate(q.earliest)}–${shortDate(q.latest)}`)));
  sel.value = mine.some((q) => q.id === state.afterChoice) ? state.afterChoice : "";
  sel.dataset.filled = muni || "";
}

/** A request already stored that the new one repeats (same municipality, fields, dates and
 * subject, not cancelled), or null. */
async function likelyDuplicate(body) {
  const muni = body.municipality || state.me.municipality;
  if (!muni || !body.earliest || !body.latest) return null;
  const same = (a, b) => [...a].sort().join(",") === [...b].sort().join(",");
  const rows = await apiAll(`/v1/requests?week=${mondayOf(body.earliest)}&municipality=${encodeURIComponent(muni)}`);
  return rows.find((q) => q.status !== "cancelled" && q.municipality === muni
    && q.earliest === body.earliest && q.latest === body.latest && same(q.fields, body.fields)
    && (q.title || "").trim() === (body.title || "").trim()) || null;
}

/** Show a request in the request table (its week first, if another), marked. */
async function openRequest(q) {
  if (!state.requests.some((x) => x.id === q.id)) {
    state.week = mondayOf(q.earliest);
    $("#week").value = state.week;
    await loadWeek();
  }
  showView("requests");
  pageToRequest(q.id);
  const row = $(`#requests-table tr[data-id="${CSS.escape(q.id)}"]`);
  if (!row) return;
  for (const r of $$("#requests-table tr.hl")) r.classList.remove("hl");
  row.classList.add("hl");
  row.scrollIntoView({ block: "center" });
}

async function saveRequest(ev) {
  ev.preventDefault();
  const f = $("#request-form");
  const errors = $("#form-errors");
  errors.replaceChildren();
  for (const el of $$("#request-form .invalid")) el.classList.remove("invalid");
  try {
    let created = null;
    if (state.editing) {
      const q = await api("PATCH", state.editing.url, formBody());
      if (q.status === "draft" && f.elements.submit.checked) await api("POST", `${q.url}/submit`);
    } else {
      const body = formBody();
      const dup = await likelyDuplicate(body);
      if (dup && !await confirmStep(t("dup_question"),
        `${muniName(dup.municipality)}「${requestTitle(dup)}」 ${shortDate(dup.earliest)}–${shortDate(dup.latest)} · ${t("s_" + dup.status)}`,
        t("dup_ok"), { text: t("dup_open"), go: () => openRequest(dup) })) return;
      created = await api("POST", "/v1/requests", body);
    }
    resetForm();
    say(t("saved"));
    await loadWeek();
    // a new request: its best slots at once, to choose from
    if (created) await showSlots(created);
  } catch (err) {
    const b = (err instanceof ApiError && err.body) || {};
    showFormErrors(f, errors, err);
    for (const e of b.errors || []) {
      const name = String(e.path).replace(/^body\./, "").split(/[.[]/)[0];
      if (name === "after" || name === "due") $("#series-box").open = true;
      const el = name === "window" ? f.window_start : (name === "fields" ? $("#field-boxes") : f.elements[name]);
      if (el && el.classList) el.classList.add("invalid");
    }
  }
}

async function transition(q, action) {
  if (action === "cancel" && !await confirmStep(t("confirm_cancel"), requestName(q.id), t("confirm_cancel_ok"))) return;
  try { await api("POST", `${q.url}/${action}`); await loadWeek(); }
  catch (err) { say(problemText(err), true); }
}

// ------------------------------------------------------------------ unscheduled

function renderUnscheduled() {
  const list = $("#unscheduled-list");
  list.replaceChildren();
  for (const u of state.unscheduled) {
    const q = u.req || {};
    const reasons = (state.lang === "ja" && u.reasons_ja && u.reasons_ja.length ? u.reasons_ja : u.reasons)
      .map(named);
    list.append(h("li", { "data-request": u.request },
      h("div", { class: "head" }, h("b", {}, q.municipality ? muniName(q.municipality) : ""), " ",
        requestTitle(q.id ? q : null), " ",
        q.fields ? h("span", { class: "muted" }, `${q.fields.map(fieldName).join(" + ")} · ${t(q.mode)} · ${t("col_priority")} ${q.priority}`) : null),
      h("ul", { class: "reasons" }, (reasons || []).map((r) => h("li", {}, r)))));
  }
  const waiting = state.requests.filter((q) => q.status === "submitted").length;
  const planned = state.me.role !== "centre" || state.shown || (state.job && state.job.plan);
  if (!state.unscheduled.length) {
    list.append(h("li", { class: "empty" }, planned || !waiting ? t("unscheduled_none")
      : t("unscheduled_no_plan").replace("{n}", waiting)));
  }
}

// ------------------------------------------------------------------ messages

/** Whether a message is sent, waits to be sent (e-mail), or needs a call (no address). */
function messageStatus(m) { return m.phoned ? "phoned" : m.sent ? "sent" : m.needs_call ? "needs_call" : "unsent"; }

/** The centre phoned the recipient of a 連絡が必要 message: it leaves the open messages. */
async function markPhoned(m) {
  try {
    await api("POST", `/v1/outbox/${m.id}/phoned`);
    state.outbox = state.outbox.filter((x) => x.id !== m.id);
    say(t("phoned_msg"));
    renderInbox();
    if (state.view === "messages") await renderMessages();
  } catch (err) { say(problemText(err), true); }
}

function phonedButton(m) {
  return state.me.role === "centre" && m.needs_call
    ? h("button", { type: "button", class: "phoned", onclick: () => markPhoned(m) }, t("mark_phoned")) : null;
}

/** The messages about the week's events (the outbox): whom to call, what waits to be sent,
 * what was sent, with the text each recipient reads. Everyone sees only their own. */
async function renderMessages() {
  const week = state.week;
  const rows = await apiAll(`/v1/outbox?week=${week}`);
  if (week !== state.week) return;          // the week changed meanwhile
  const count = { needs_call: 0, unsent: 0, sent: 0, phoned: 0 };
  for (const m of rows) count[messageStatus(m)] += 1;
  $("#messages-summary").replaceChildren(...["needs_call", "unsent", "sent", "phoned"].map((k) =>
    h("span", { class: "kpi", "data-status": k }, h("b", {}, count[k]), " ", t("msg_" + k))));
  const hideSent = $("#messages-open").checked;
  const list = $("#messages-list");
  list.replaceChildren(...rows.filter((m) => !hideSent || !m.sent).map((m) => {
    const status = messageStatus(m);
    const who = m.recipient_kind === "municipality" ? muniName(m.recipient) : expertName(m.recipient);
    const when = japanTime(m.created_at);
    const how = m.address || t("msg_by_phone");
    return h("li", { "data-message": m.message_id, "data-status": status },
      h("div", { class: "head" }, h("span", { class: `tag msg-${status}` }, t("msg_" + status)), " ",
        h("b", {}, who), " ", m.subject, " ",
        h("span", { class: "muted" }, [t("ev_" + m.event), when, how,
          !m.sent && m.attempts ? `${t("msg_attempts")} ${m.attempts}` : null].filter(Boolean).join(" · "))),
      phonedButton(m),
      !m.sent && m.last_error ? h("p", { class: "muted" }, m.last_error) : null,
      h("details", {}, h("summary", {}, t("msg_body")), h("pre", { class: "body" }, m.body)));
  }));
  if (!list.children.length) list.append(h("li", { class: "empty" }, t("messages_none")));
  list.dataset.week = week;
}

// ------------------------------------------------------------------ experts

function renderExperts() {
  if (state.me.role === "municipality") return;
  const list = $("#experts-list");
  const experts = visibleExperts();
  list.replaceChildren(...experts.map((e) => h("li", {},
    h("button", { type: "button", "data-expert": e.id, class: state.selectedExpert === e.id ? "active" : "",
      onclick: () => { state.selectedExpert = e.id; renderExperts(); } },
    expertName(e.id), " ", h("small", {}, e.fields.map(fieldName).join("・"))))));
  if (!state.selectedExpert && experts.length) state.selectedExpert = experts[0].id;
  if (state.selectedExpert) renderExpertDetail(state.selectedExpert);
}

async function renderExpertDetail(id) {
  const box = $("#expert-detail");
  const e = state.experts.find((x) => x.id === id);
  if (!e) return;
  const visits = state.visits.filter((v) => v.experts.includes(id))
    .sort((a, b) => (a.date + a.start).localeCompare(b.date + b.start));
  const feed = h("p", { class: "feed" });
  box.replaceChildren(h("h2", {}, expertName(id)),
    h("p", {}, `${e.fields.map(fieldName).join("・")} · ${e.work_start || "08:30"}–${e.work_end || "17:15"}`
      + (e.overtime && e.overtime.max_minutes ? ` · ${t("overtime_upto").replace("{n}", e.overtime.max_minutes).replace("{c}", e.overtime.minute_cost)}` : "")
      + ` · ${t("base")}: ${muniName(e.base)}`),
    ...expertRules(e),
    expertBusy(e),
    feed,
    h("h3", {}, t("visits_week")),
    visits.length ? h("ul", { class: "expert-visits" }, visits.map((v) => h("li", {},
      `${shortDate(v.date)} ${hhmm(v.start)}–${hhmm(v.end)} ${muniName(v.location)} · ${t(v.mode)}`,
      v.experts.length > 1 ? ` · ${t("joint_with")}: ${v.experts.map(expertName).join(" + ")}` : "",
      v.title ? ` · ${v.title}` : "",
      v.changed ? h("span", { class: "tag changed" }, t("visit_changed")) : ""))) : h("p", { class: "empty" }, t("no_visits")));
  try {
    const url = await api("GET", `/v1/experts/${encodeURIComponent(id)}/calendar-url`);
    feed.replaceChildren(h("a", { href: url.url, id: "feed-link", "data-expert": id }, t("feed")),
      h("br", {}), h("small", {}, t("feed_help")));
  } catch (err) { feed.textContent = problemText(err); }
}

/** An expert's lunch break and nights away in words, and for the centre the form that sets
 * them and the overtime (``PATCH /v1/experts/{id}``; an emptied part is removed). */
function expertRules(e) {
  const out = [];
  if (e.lunch) {
    out.push(h("p", { class: "rule lunch-rule" }, t("lunch_rule").replace("{m}", e.lunch.minutes)
      .replace("{a}", e.lunch.window[0]).replace("{b}", e.lunch.window[1])));
  }
  if (e.overnight) {
    const places = e.overnight.places === "*" ? t("night_any") : e.overnight.places.map(muniName).join("・");
    out.push(h("p", { class: "rule night-rule" }, t("night_rule").replace("{places}", places)
      .replace("{c}", e.overnight.night_cost ?? 0).replace("{n}", e.overnight.max_nights ?? 1)));
  }
  if (state.me.role !== "centre") return out;
  const num = (name, value, min) => h("input", { name, type: "number", min: String(min), value: value ?? "" });
  const lunch = e.lunch || {}; const night = e.overnight || {}; const over = e.overtime || {};
  const places = night.places === "*" ? [] : night.places || [];
  const form = h("form", { id: "expert-rules", class: "rules", "data-expert": e.id, novalidate: "" },
    h("h3", {}, t("rules_title")),
    h("fieldset", { name: "lunch" }, h("legend", {}, t("seg_lunch")),
      h("label", {}, h("span", {}, t("lunch_minutes")), num("lunch_minutes", lunch.minutes, 1)),
      h("label", {}, h("span", {}, t("lunch_window")), h("span", { class: "pair" },
        h("input", { name: "lunch_start", type: "time", value: (lunch.window || [])[0] || "" }), " – ",
        h("input", { name: "lunch_end", type: "time", value: (lunch.window || [])[1] || "" })))),
    h("fieldset", { name: "overnight" }, h("legend", {}, t("seg_night")),
      h("label", {}, h("span", {}, t("night_places")), h("select", { name: "night_places", multiple: "", size: "4" },
        Array.from(state.munis.values()).filter((m) => m.code !== e.base).map((m) => h("option",
          { value: m.code, selected: places.includes(m.code) ? "" : null }, muniName(m.code))))),
      h("label", { class: "check" }, h("input", { name: "night_any", type: "checkbox", checked: night.places === "*" ? "" : null }),
        h("span", {}, t("night_any"))),
      h("label", {}, h("span", {}, t("night_cost")), num("night_cost", night.night_cost, 0)),
      h("label", {}, h("span", {}, t("max_nights")), num("max_nights", night.max_nights, 0))),
    h("fieldset", { name: "overtime" }, h("legend", {}, t("kpi_overtime")),
      h("label", {}, h("span", {}, t("overtime_max")), num("overtime_max", over.max_minutes, 0)),
      h("label", {}, h("span", {}, t("overtime_cost")), num("overtime_cost", over.minute_cost, 0))),
    h("button", { type: "submit", id: "save-rules" }, t("save")),
    h("ul", { id: "rules-errors", class: "error", role: "alert" }));
  form.addEventListener("submit", (ev) => { ev.preventDefault(); saveRules(e, form); });
  out.push(form);
  return out;
}

async function saveRules(e, form) {
  const f = form.elements;
  const n = (x) => (x.value === "" ? null : Number(x.value));
  const chosen = Array.from(f.night_places.selectedOptions).map((o) => o.value);
  const body = {
    lunch: f.lunch_minutes.value || f.lunch_start.value || f.lunch_end.value
      ? { minutes: n(f.lunch_minutes), window: [f.lunch_start.value, f.lunch_end.value] } : null,
    overnight: f.night_any.checked || chosen.length ? { places: f.night_any.checked ? "*" : chosen,
      night_cost: n(f.night_cost) ?? 0, max_nights: n(f.max_nights) ?? 1 } : null,
    overtime: f.overtime_max.value || f.overtime_cost.value
      ? { max_minutes: n(f.overtime_max), minute_cost: n(f.overtime_cost) ?? 0 } : null,
  };
  const errors = form.querySelector("#rules-errors");
  errors.replaceChildren();
  try {
    const saved = await api("PATCH", `/v1/experts/${encodeURIComponent(e.id)}`, body);
    state.experts = state.experts.map((x) => (x.id === e.id ? saved : x));
    say(t("rules_saved"));
    renderExpertDetail(e.id);
  } catch (err) { showFormErrors(form, errors, err); }
}

/** A date as people read it, with its weekday and year (an appointment may be any date). */
function fullDate(iso) {
  return new Date(`${iso}T00:00:00`).toLocaleDateString(state.lang === "en" ? "en-GB" : "ja-JP",
    { year: "numeric", month: "short", day: "numeric", weekday: "short" });
}

/** An appointment's place by the name the API gives beside its code (``at_name_ja``,
 * ``at_name_en``), else as the map names the code. */
function busyPlace(b) {
  return (state.lang === "en" ? b.at_name_en : b.at_name_ja) || muniName(b.at);
}

/** An expert's standing appointments (``busy``): each date, its hours and place by name; for
 * the centre a button that removes one and a form that adds one (``PATCH`` with the whole
 * list; a refused value is named under its own label). */
function expertBusy(e) {
  const busy = (e.busy || []).slice().sort((a, b) => (a.date + a.start).localeCompare(b.date + b.start));
  const centre = state.me.role === "centre";
  const box = h("section", { id: "expert-busy", "data-expert": e.id }, h("h3", {}, t("busy_title")));
  box.append(busy.length ? h("ul", { class: "busy-list" }, busy.map((b) => h("li", { class: "busy-item" },
    h("span", {}, `${fullDate(b.date)} ${b.start}–${b.end}${b.at ? ` ${busyPlace(b)}` : ""}`),
    centre ? h("button", { type: "button", class: "busy-remove", "aria-label": `${t("busy_remove")} ${fullDate(b.date)} ${b.start}`,
      onclick: () => saveBusy(e, busy.filter((x) => x !== b), null) }, t("busy_remove")) : null)))
    : h("p", { class: "empty" }, t("busy_none")));
  if (!centre) return box;
  const form = h("form", { id: "busy-form", class: "rules", novalidate: "" },
    h("label", {}, h("span", {}, t("busy_date")), h("input", { name: "busy_date", type: "date", required: "" })),
    h("label", {}, h("span", {}, t("busy_from")), h("input", { name: "busy_start", type: "time", required: "" })),
    h("label", {}, h("span", {}, t("busy_to")), h("input", { name: "busy_end", type: "time", required: "" })),
    h("label", {}, h("span", {}, t("busy_at")), h("select", { name: "busy_at" },
      h("option", { value: "" }, t("busy_nowhere")),
      Array.from(state.munis.values()).map((m) => h("option", { value: m.code }, muniName(m.code))))),
    h("button", { type: "submit", id: "add-busy" }, t("busy_add")),
    h("ul", { id: "busy-errors", class: "error", role: "alert" }));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = form.elements;
    const added = {};     // an empty field is left out: the answer says it is required
    for (const k of ["date", "start", "end", "at"]) if (f[`busy_${k}`].value) added[k] = f[`busy_${k}`].value;
    saveBusy(e, [...busy, added], form);
  });
  box.append(form);
  return box;
}

async function saveBusy(e, list, form) {
  const errors = $("#busy-errors");
  if (errors) errors.replaceChildren();
  try {
    const saved = await api("PATCH", `/v1/experts/${encodeURIComponent(e.id)}`, { busy: list });
    state.experts = state.experts.map((x) => (x.id === e.id ? saved : x));
    say(t("busy_saved"));
    renderExpertDetail(e.id);
  } catch (err) {
    if (!errors) { say(problemText(err)); return; }
    const b = (err instanceof ApiError && err.body) || {};
    if (!(b.errors || []).length) { errors.append(h("li", {}, b.detail || b.title || String(err.message))); return; }
    for (const x of b.errors) {
      // busy[k].end → the label of the form's field (the new one is last), busy[k] → the appointment
      const m = /^busy\[(\d+)\](?:\.(\w+))?/.exec(x.path) || [];
      const item = list[Number(m[1])];
      const added = form && Number(m[1]) === list.length - 1;
      const label = added ? (m[2] && formLabel(form, `busy_${m[2]}`)) || t("busy_title")
        : item ? `${fullDate(item.date)} ${item.start}–${item.end}` : t("busy_title");
      errors.append(h("li", { "data-path": x.path }, `${label}: ${x.message}`));
    }
  }
}

// ------------------------------------------------------------------ blackouts (centre)

function renderBlackouts() {
  if (state.me.role !== "centre") return;
  const list = $("#blackouts-list");
  list.replaceChildren(...state.blackouts.map((b) => h("li", { "data-id": b.id },
    `${shortDate(b.date)} · ${b.experts.includes("*") ? t("everyone") : b.experts.map(expertName).join(" + ")}`,
    b.reason ? ` · ${b.reason}` : "", " ",
    h("button", { type: "button", class: "danger", onclick: () => deleteBlackout(b) }, t("delete")))));
  if (!state.blackouts.length) list.append(h("li", { class: "empty" }, t("no_blackouts")));
  const f = $("#blackout-form");
  const keepDay = f.date.value;
  f.date.replaceChildren(...weekDays().map((d, i) => h("option", { value: d }, `${t("days")[i]} ${shortDate(d)}`)));
  if (weekDays().includes(keepDay)) f.date.value = keepDay;
  f.expert.replaceChildren(h("option", { value: "*" }, t("everyone")),
    ...state.experts.map((e) => h("option", { value: e.id }, expertName(e.id))));
}

async function addBlackout(ev) {
  ev.preventDefault();
  const f = $("#blackout-form");
  $("#blackout-errors").replaceChildren();
  try {
    await api("POST", "/v1/blackouts", { date: f.date.value, experts: [f.expert.value],
      reason: f.reason.value.trim() });
    f.reason.value = "";
    say(t("saved"));
    await loadWeek();
  } catch (err) { $("#blackout-errors").append(h("li", {}, problemText(err))); }
}

async function deleteBlackout(b) {
  const who = b.experts.includes("*") ? t("everyone") : b.experts.map(expertName).join(" + ");
  if (!await confirmStep(t("confirm_delete"), `${shortDate(b.date)} · ${who}`, t("confirm_delete_ok"))) return;
  try { await api("DELETE", b.url); await loadWeek(); }
  catch (err) { say(problemText(err), true); }
}

// ------------------------------------------------------------------ matching

const PARTS = ["field", "topic", "skill", "distance", "capacity", "outcome", "proximity"];

async function renderMatching() {
  const role = state.me.role;
  state.needs = await api("GET", "/v1/matching/needs");
  const list = $("#needs-list");
  list.replaceChildren(...state.needs.map((n) => h("li", {},
    h("button", { type: "button", "data-need": n.id, class: state.need === n.id ? "active" : "",
      onclick: () => { state.need = n.id; renderMatching(); } },
    h("b", {}, n.title || fieldName(n.field)), " ",
    h("small", {}, `${muniName(n.municipality)} · ${fieldName(n.field)}`),
    n.confidential ? h("span", { class: "tag confidential" }, t("legend_confidential")) : null))));
  if (!state.needs.length) list.append(h("li", { class: "empty" }, t("no_needs")));
  const nf = $("#need-form");
  nf.field.replaceChildren(...FIELDS.map((f) => h("option", { value: f }, fieldName(f))));
  nf.municipality.replaceChildren(...Array.from(state.munis.values()).filter((m) => m.code !== state.office)
    .map((m) => h("option", { value: m.code }, muniName(m.code))));
  if (!state.needs.some((n) => n.id === state.need)) state.need = state.needs.length ? state.needs[0].id : null;
  for (const b of $$("#needs-list button")) b.classList.toggle("active", b.dataset.need === state.need);
  await Promise.all([renderNeed(), renderPeers(), renderCommunities()]);
  if (role === "municipality" || $("#assignment").dataset.loaded) await renderAssignment();
}

async function renderNeed() {
  const box = $("#need-detail");
  if (!state.need) { box.replaceChildren(); return; }
  const n = state.needs.find((x) => x.id === state.need);
  const rec = await api("GET", `/v1/matching/needs/${encodeURIComponent(state.need)}/recommendations?k=10`);
  const rows = rec.candidates.map((c) => h("tr", { "data-candidate": c.candidate },
    h("td", {}, c.rank), h("td", {}, h("b", {}, c.name), " ", h("small", { class: "kind" }, TEXT.ja["k_" + c.kind] ? t("k_" + c.kind) : (c.kind || ""))),
    h("td", { class: "num score" }, c.score.toFixed(1)),
    h("td", { class: "parts" }, h("span", { class: "bar" }, PARTS.map((p) => h("span", {
      class: `part p-${p}`, style: `width:${Math.max(0, c[p])}%`, title: `${t("c_" + p)} ${c[p].toFixed(1)}` }))),
    h("small", {}, PARTS.map((p) => `${t("c_" + p)} ${c[p].toFixed(1)}`).join(" · "))),
    h("td", { class: "why" }, state.lang === "ja" ? c.explanation_ja : c.explanation)));
  // (replaceChildren writes a null as the text "null": leave the missing parts out)
  box.replaceChildren(...[h("h2", {}, `${t("candidates_for")}: ${n ? n.title || fieldName(n.field) : ""}`),
    n ? h("p", { class: "muted" }, `${muniName(n.municipality)} · ${fieldName(n.field)} · ${n.start}–${n.end}`) : null,
    n ? h("p", { class: "row" },
      h("button", { type: "button", id: "edit-need", "data-need": n.id,
        onclick: () => editNeed(n) }, t("edit")),
      h("button", { type: "button", id: "withdraw-need", class: "danger", "data-need": n.id,
        onclick: () => withdrawNeed(n) }, t("withdraw"))) : null,
    h("table", { id: "candidates-table", class: "cards" }, h("thead", {}, h("tr", {},
      h("th", {}, t("rank")), h("th", {}, t("candidates_for")), h("th", {}, t("score")),
      h("th", {}, t("breakdown")), h("th", {}, t("why")))),
    h("tbody", {}, rows))].filter(Boolean));
  labelCells($("#candidates-table"));
}

async function renderAssignment() {
  const box = $("#assignment");
  const floor = $("#as-floor").checked;
  const small = Number($("#as-small").value) || 0;
  const res = await api("GET", `/v1/matching/assignment?floor=${floor}&small_weight=${small}`);
  box.dataset.loaded = "1";
  const needTitle = (id) => { const n = state.needs.find((x) => x.id === id) || {}; return n.title || (n.field ? fieldName(n.field) : ""); };
  box.replaceChildren(
    h("p", { class: "kpis" }, h("span", { class: "kpi" }, h("b", {}, res.assigned.length), " ", t("assigned")),
      h("span", { class: "kpi" }, h("b", {}, res.unserved.length), " ", t("unserved")),
      h("span", { class: "kpi" }, h("b", {}, res.total_score), " ", t("score"))),
    h("table", { id: "assigned-table" }, h("tbody", {}, res.assigned.map((a) => h("tr", { "data-need": a.need },
      h("td", {}, muniName(a.municipality)), h("td", {}, needTitle(a.need)),
      h("td", {}, a.name || a.candidate), h("td", { class: "num" }, Number(a.score).toFixed(1)))))),
    h("ul", { id: "unserved-list", class: "unscheduled" }, res.unserved.map((u) => h("li", { "data-need": u.need },
      h("b", {}, muniName(u.municipality)), " ", needTitle(u.need), ": ",
      named(state.lang === "ja" ? u.reason_ja : u.reason)))));
}

async function renderPeers() {
  const sel = $("#peer-muni");
  if (state.me.role === "centre" && !sel.options.length) {
    sel.replaceChildren(...Array.from(state.munis.values()).filter((m) => m.code !== state.office)
      .map((m) => h("option", { value: m.code }, muniName(m.code))));
  }
  const code = state.me.role === "municipality" ? state.me.municipality : sel.value;
  if (!code) return;
  const res = await api("GET", `/v1/matching/peers?municipality=${encodeURIComponent(code)}&k=5`);
  $("#peers-list").replaceChildren(...res.peers.map((p) => h("li", { "data-peer": p.peer },
    h("b", {}, muniName(p.peer)), ` (${t("similarity")} ${Number(p.similarity).toFixed(2)}) `,
    h("small", {}, state.lang === "ja" ? p.reason_ja : p.reason))));
}

async function renderCommunities() {
  const res = await api("GET", "/v1/matching/communities");
  $("#communities-list").replaceChildren(...res.communities.map((c) => h("li", { "data-community": c.community },
    h("b", {}, `${t("community")} ${c.community + 1}`), ": ",
    c.members.map((m) => muniName(m.code)).join("・"))));
}

function editNeed(n) {
  const f = $("#need-form");
  state.editingNeed = n;
  f.querySelector("h3").textContent = t("need_edit");
  $("#new-need").hidden = false;
  f.elements.title.value = n.title || "";
  f.field.value = n.field;
  f.topics.value = (n.topics || []).join(", ");
  f.mode.value = n.mode;
  f.start.value = n.start; f.end.value = n.end;
  f.effort_days.value = n.effort_days; f.priority.value = n.priority;
  f.confidential.checked = Boolean(n.confidential);
  if (f.municipality) f.municipality.value = n.municipality;
  f.elements.title.focus();
}

function resetNeedForm() {
  const f = $("#need-form");
  f.reset();
  state.editingNeed = null;
  f.querySelector("h3").textContent = t("need_form");
  $("#new-need").hidden = true;
  $("#need-errors").replaceChildren();
}

async function withdrawNeed(n) {
  if (!await confirmStep(t("confirm_withdraw"), n.title || fieldName(n.field), t("confirm_withdraw_ok"))) return;
  try {
    await api("DELETE", n.url);
    state.need = null;
    resetNeedForm();
    await renderMatching();
  } catch (err) { say(problemText(err), true); }
}

async function uploadTable(ev) {
  ev.preventDefault();
  const f = $("#upload-form");
  const errors = $("#upload-errors");
  errors.replaceChildren();
  const file = f.file.files[0];
  if (!file) return;
  const xlsx = /\.xlsx$/i.test(file.name);
  const res = await fetch(`/v1/matching/tables/${f.table.value}?name=${encodeURIComponent(file.name)}`, {
    method: "PUT", body: file, headers: { "Authorization": `Bearer ${state.key}`,
      "Accept-Language": state.lang,
      "Content-Type": xlsx ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" : "text/csv" } });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    errors.append(h("li", {}, body.detail || body.title || `HTTP ${res.status}`));
    for (const e of body.errors || []) errors.append(h("li", { "data-path": e.path }, `${e.path}: ${e.message}`));
    return;
  }
  say(`${file.name}: ${body.rows} ${t("uploaded")}`);
  f.reset();
  await renderMatching();
}

async function saveNeed(ev) {
  ev.preventDefault();
  const f = $("#need-form");
  $("#need-errors").replaceChildren();
  const body = { title: f.elements.title.value.trim(), field: f.field.value,
    topics: f.topics.value.split(/[,、;]/).map((x) => x.trim()).filter(Boolean),
    mode: f.mode.value, start: f.start.value || null, end: f.end.value || null,
    effort_days: Number(f.effort_days.value), priority: Number(f.priority.value),
    confidential: f.confidential.checked };
  if (state.me.role === "centre") body.municipality = f.municipality.value;
  for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
  try {
    const n = state.editingNeed ? await api("PATCH", state.editingNeed.url, body)
      : await api("POST", "/v1/matching/needs", body);
    state.need = n.id;
    resetNeedForm();
    say(t("saved"));
    await renderMatching();
  } catch (err) { showFormErrors(f, $("#need-errors"), err); }
}

// ------------------------------------------------------------------ outcomes

async function renderOutcomes() {
  const [visits, kpis] = await Promise.all([api("GET", `/v1/visits?week=${state.week}`),
    api("GET", "/v1/outcomes")]);
  const s = kpis.season;
  const share = s.satisfaction_share === null ? "–" : `${Math.round(s.satisfaction_share * 100)}%`;
  $("#season").replaceChildren(...[h("h2", {}, `${t("season")} (${kpis.from} – ${kpis.to})`),
    h("p", { class: "kpis" },
      h("span", { class: "kpi", id: "satisfaction-share", "data-share": s.satisfaction_share ?? "" },
        h("b", {}, share), " ", t("satisfaction_share"), ` (${t("target")} ${Math.round(s.target * 100)}%`,
        s.meets_target === null ? ")" : ` · ${s.meets_target ? t("meets") : t("below")})`),
      h("span", { class: "kpi" }, h("b", {}, s.rated), " ", t("rated")),
      h("span", { class: "kpi" }, h("b", {}, s.recorded), " ", t("recorded")),
      h("span", { class: "kpi" }, h("b", {}, s.visits), " ", t("kpi_visits"))),
    state.me.role === "centre" ? seasonTable(kpis.by_municipality) : null].filter(Boolean));
  const body = $("#outcomes-table tbody");
  body.replaceChildren(...visits.map(outcomeRow));
  if (!visits.length) body.append(h("tr", {}, h("td", { colspan: "8", class: "empty" }, t("no_visits"))));
  labelCells($("#outcomes-table"));
  if ($("#season-table")) labelCells($("#season-table"));
}

/** The season per municipality, every one of them (those never visited with zeros). */
function seasonTable(rows) {
  const by = new Map(rows.map((m) => [m.municipality, m]));
  const all = Array.from(state.munis.keys()).filter((c) => c !== state.office)
    .map((c) => by.get(c) || { municipality: c, visits: 0, rated: 0, satisfaction_share: null });
  for (const m of rows) if (!state.munis.has(m.municipality)) all.push(m);
  return h("table", { id: "season-table", class: "cards" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("col_municipality")),
      h("th", { scope: "col", class: "num" }, t("kpi_visits")), h("th", { scope: "col", class: "num" }, t("rated")),
      h("th", { scope: "col", class: "num" }, t("satisfaction_share")))),
    h("tbody", {}, all.map((m) => h("tr", { "data-municipality": m.municipality },
      h("th", { scope: "row" }, muniName(m.municipality)), h("td", { class: "num" }, m.visits),
      h("td", { class: "num" }, m.rated),
      h("td", { class: "num" }, m.satisfaction_share === null ? "–" : `${Math.round(m.satisfaction_share * 100)}%`)))));
}

/** One visit's outcome row: editable once the visit has started (the service refuses an
 * outcome before), a note saying when otherwise. */
function outcomeRow(v) {
  const open = v.started !== false;
  const held = h("input", { type: "checkbox", name: "held", checked: v.held === true, disabled: !open,
    "aria-label": t("held") });
  const sat = h("select", { name: "satisfaction", disabled: !open, "aria-label": t("satisfaction") },
    h("option", { value: "" }, "–"),
    ...[1, 2, 3, 4, 5].map((n) => h("option", { value: String(n) }, String(n))));
  sat.value = v.satisfaction ? String(v.satisfaction) : "";
  const notes = h("input", { name: "notes", maxlength: "5000", value: v.notes || "", disabled: !open,
    "aria-label": t("notes") });
  const save = open ? h("button", { type: "button", class: "save-outcome", onclick: async () => {
    try {
      await api("PUT", `${v.url}/outcome`, { held: held.checked, notes: notes.value || null,
        satisfaction: sat.value ? Number(sat.value) : null });
      say(t("outcome_saved"));
      await loadWeek();   // the request is done now: every view says so (and re-draws this one)
    } catch (err) { say(problemText(err), true); }
  } }, t("save_outcome")) : h("small", { class: "muted not-yet" }, t("outcome_not_yet"));
  return h("tr", { "data-visit": v.id, "data-request": v.request, class: open ? "" : "upcoming" },
    h("td", {}, `${shortDate(v.date)} ${v.start}`), h("td", {}, muniName(v.municipality)),
    h("td", {}, v.title || requestTitle(state.requests.find((q) => q.id === v.request))), h("td", {}, v.experts.map(expertName).join(" + ")),
    h("td", {}, held), h("td", {}, sat), h("td", {}, notes), h("td", {}, save));
}

// ------------------------------------------------------------------ wiring

function setWeek(iso) {
  if (!iso) return;
  state.week = mondayOf(iso);
  $("#week").value = state.week;
  if (state.poll) { clearInterval(state.poll); state.poll = null; }
  resetForm();
  loadWeek().catch((err) => say(problemText(err), true));
}

function wire() {
  $("#login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    state.key = $("#key").value.trim();
    localStorage.setItem("dxs_key", state.key);
    $("#key").value = "";
    start().catch((err) => say(problemText(err), true));
  });
  $("#logout").addEventListener("click", () => logout(""));
  $("#lang").addEventListener("click", () => {
    state.lang = state.lang === "ja" ? "en" : "ja";
    localStorage.setItem("dxs_lang", state.lang);
    applyLanguage();
    if (state.me) {
      fillMunicipalitySelect();
      const role = state.me.role;
      const bound = state.me.municipality || state.me.expert || "";
      $("#who").textContent = `${t("role_" + role)}${bound ? " · " + (role === "municipality" ? muniName(bound) : expertName(bound)) : ""}`;
      renderAll();
    }
  });
  for (const b of $$("#tabs button")) b.addEventListener("click", () => showView(b.dataset.view));
  $("#week").addEventListener("change", (ev) => setWeek(ev.target.value));
  $("#week-prev").addEventListener("click", () => setWeek(addDays(state.week, -7)));
  $("#week-next").addEventListener("click", () => setWeek(addDays(state.week, 7)));
  $("#run-plan").addEventListener("click", runPlan);
  $("#messages-open").addEventListener("change", () => renderMessages().catch((err) => say(problemText(err), true)));
  $("#cancel-plan").addEventListener("click", cancelPlan);
  $("#publish").addEventListener("click", publish);
  $("#source").addEventListener("change", (ev) => { state.source = ev.target.value; loadVisits(); });
  $("#map-day").addEventListener("change", drawMap);
  $("#map-expert").addEventListener("change", drawMap);
  wireRequestTable();
  wireMap();
  $("#tl-day").addEventListener("change", drawTimeline);
  $("#tl-expert").addEventListener("change", drawTimeline);
  $("#request-form").addEventListener("submit", saveRequest);
  $("#request-form").municipality.addEventListener("change", () => fillAfterSelect());
  $("#request-form").after_request.addEventListener("change", (ev) => { state.afterChoice = ev.target.value; });
  $("#new-request").addEventListener("click", resetForm);
  $("#slots-close").addEventListener("click", () => { $("#slots-card").hidden = true; state.slotsFor = null; });
  $("#slots-other-mode").addEventListener("change", () => { if (state.slotsFor) showSlots(state.slotsFor); });
  $("#print").addEventListener("click", () => { showView("week"); window.print(); });
  $("#blackout-form").addEventListener("submit", addBlackout);
  $("#need-form").addEventListener("submit", saveNeed);
  $("#new-need").addEventListener("click", resetNeedForm);
  $("#upload-form").addEventListener("submit", (ev) => uploadTable(ev).catch((err) => say(problemText(err), true)));
  $("#run-assignment").addEventListener("click", () => renderAssignment().catch((err) => say(problemText(err), true)));
  $("#peer-muni").addEventListener("change", () => renderPeers().catch((err) => say(problemText(err), true)));
}

PHONE.addEventListener("change", () => { if (state.me && state.week) renderWeek(); });
wire();
start().catch((err) => say(problemText(err), true));
