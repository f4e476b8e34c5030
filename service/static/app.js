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
    f_design: "デザイン", f_security: "セキュリティ", f_data: "データ活用",
    f_cocreation: "官民共創", f_pr: "広報", s_draft: "下書き", s_submitted: "提出済",
    s_scheduled: "計画済", s_done: "完了", s_cancelled: "取消", j_queued: "待機中",
    j_running: "計算中", j_done: "完了", j_failed: "失敗", j_cancelled: "中止",
    job: "計画ジョブ", elapsed: "経過", objective: "現時点の最良の計画", bound: "証明済みの上限",
    published_at: "公開済み", not_published: "未公開", no_job: "この週の計画はまだありません",
    source_job: "計画案", source_published: "公開済みの予定", joint_with: "合同",
    no_visits: "予定なし", ferry: "フェリー", minutes: "分", drive: "運転",
    base: "拠点", no_routes: "この日の訪問ルートはありません", unscheduled_none: "未割当の依頼はありません",
    reasons: "理由", feed: "iCalendar フィード", feed_help: "カレンダーアプリに登録できる秘密のURLです（公開済みの訪問）",
    visits_week: "今週の訪問", saved: "保存しました", published_msg: "公開しました",
    kpi_visits: "訪問・相談", kpi_unscheduled: "未割当", kpi_drive: "運転(分)",
    kpi_munis: "対象自治体", kpi_priority: "優先度合計", role_centre: "センター",
    role_municipality: "自治体", role_expert: "専門家", days: ["月", "火", "水", "木", "金"],
    problem: "エラー", lang_other: "English", not_planned_yet: "公開済みの計画に含まれていません",
  },
  en: {
    title: "DX expert visit planning", week: "Week", logout: "Log out", tab_week: "Week",
    tab_map: "Map", tab_requests: "Requests", tab_unscheduled: "Unscheduled",
    tab_experts: "Experts", login_title: "Enter your API key",
    login_help: "Keys are issued with “dxshare keys create”. It is kept in this browser.",
    login: "Log in", bad_key: "Unknown or revoked API key", run_plan: "Plan the week",
    changes_title: "{n} changes from the previous plan (by municipality to call)",
    changes_none: "No changes from the previous plan",
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
    cancel: "Cancel", f_design: "design", f_security: "security", f_data: "data",
    f_cocreation: "co-creation", f_pr: "PR", s_draft: "draft", s_submitted: "submitted",
    s_scheduled: "scheduled", s_done: "done", s_cancelled: "cancelled", j_queued: "queued",
    j_running: "running", j_done: "done", j_failed: "failed", j_cancelled: "cancelled",
    job: "Plan job", elapsed: "elapsed", objective: "best plan so far", bound: "proven ceiling",
    published_at: "published", not_published: "not published",
    no_job: "No plan for this week yet", source_job: "plan", source_published: "published schedule",
    joint_with: "joint", no_visits: "no visits", ferry: "ferry", minutes: "min",
    drive: "driving", base: "base", no_routes: "No routes on this day",
    unscheduled_none: "No unscheduled requests", reasons: "Reasons",
    feed: "iCalendar feed", feed_help: "A secret URL for calendar programs (published visits)",
    visits_week: "Visits this week", saved: "Saved", published_msg: "Published",
    kpi_visits: "visits", kpi_unscheduled: "unscheduled", kpi_drive: "driving (min)",
    kpi_munis: "municipalities", kpi_priority: "served priority", role_centre: "centre",
    role_municipality: "municipality", role_expert: "expert",
    days: ["Mon", "Tue", "Wed", "Thu", "Fri"], problem: "Error", lang_other: "日本語",
    not_planned_yet: "Not in a published plan",
  },
};

const state = {
  lang: localStorage.getItem("dxs_lang") || "ja",
  key: localStorage.getItem("dxs_key") || "",
  me: null, week: null, view: "week", munis: new Map(), office: null, experts: [],
  requests: [], jobs: [], job: null, visits: [], routes: [], unscheduled: [], source: "job",
  poll: null, editing: null, selectedExpert: null,
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
function expertName(id) {
  const e = state.experts.find((x) => x.id === id);
  if (!e) return id;
  return state.lang === "en" ? `${t("f_" + e.fields[0])} (${id})` : (e.name || id);
}
function fieldName(f) { return t("f_" + f); }
function hhmm(x) {
  if (typeof x === "number") return `${String(Math.floor(x / 60)).padStart(2, "0")}:${String(x % 60).padStart(2, "0")}`;
  return x;
}
function say(text, isError) {
  const el = $("#message");
  el.textContent = text || "";
  el.classList.toggle("error", Boolean(isError));
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
    state.requests = await api("GET", `/v1/requests?week=${state.week}`);
  } else {
    state.requests = [];
  }
  if (role === "centre") {
    const all = await api("GET", "/v1/plan-jobs?limit=100");
    for (const j of all) if (j.week === state.week) jobs.push(j);
  }
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
    state.unscheduled = state.me.role === "municipality" ? await municipalityUnscheduled() : [];
    if (state.me.role === "centre") state.unscheduled = [];
  }
  renderAll();
}

/** Per expert and date, the on-site stops in time order (base → stops → base), for
 * published visits, which carry no routes of their own. */
function deriveRoutes(visits) {
  const by = new Map();
  for (const v of visits) {
    if (v.mode !== "onsite") continue;
    for (const e of v.experts) {
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
    $("#cancel-plan").hidden = true; $("#kpis").replaceChildren(); renderChanges(null); return;
  }
  const p = job.progress || {};
  const parts = [`${t("job")} ${job.id.slice(0, 8)}: ${t("j_" + job.status)}`];
  if (p.elapsed !== undefined && p.elapsed !== null) parts.push(`${t("elapsed")} ${Number(p.elapsed).toFixed(1)} s`);
  if (p.objective !== undefined && p.objective !== null) parts.push(`${t("objective")} ${p.objective}`);
  if (p.bound !== undefined && p.bound !== null) parts.push(`${t("bound")} ${p.bound}`);
  parts.push(job.published_at ? `${t("published_at")} ${job.published_at.slice(0, 16).replace("T", " ")}` : t("not_published"));
  if (job.reason) parts.push(job.reason);
  status.textContent = parts.join(" · ");
  status.dataset.status = job.status;
  const active = ["queued", "running"].includes(job.status);
  bar.value = active ? Math.min(0.99, (p.elapsed || 0) / limit) : (job.status === "done" ? 1 : 0);
  $("#publish").disabled = !(job.status === "done" && !job.published_at);
  $("#cancel-plan").hidden = !active;
  $("#run-plan").disabled = active;
  const k = job.plan && job.plan.kpis;
  const kp = $("#kpis");
  kp.replaceChildren();
  if (k) {
    for (const [name, value] of [["kpi_visits", k.visits], ["kpi_unscheduled", k.unscheduled],
      ["kpi_priority", k.served_priority], ["kpi_drive", k.drive_minutes],
      ["kpi_munis", k.municipalities_served]]) {
      kp.append(h("span", { class: "kpi" }, h("b", {}, value ?? "–"), " ", t(name)));
    }
  }
  renderChanges(job.plan && job.plan.changes);
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
  const title = (rid) => (state.requests.find((q) => q.id === rid) || {}).title || rid;
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
  if (state.me.role === "centre") renderJob();
  renderWeek();
  renderMap();
  renderRequests();
  renderUnscheduled();
  renderExperts();
  showView(state.view);
}

function showView(view) {
  const tab = $(`#tabs button[data-view="${view}"]`);
  if (!tab || tab.hidden) view = "week";
  state.view = view;
  for (const b of $$("#tabs button")) b.classList.toggle("active", b.dataset.view === view);
  for (const s of $$("main .view")) s.hidden = s.id !== `view-${view}`;
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
    grid.append(h("div", { class: "expert-head" }, h("b", {}, expertName(e.id)),
      h("small", {}, e.fields.map(fieldName).join("・"))));
    for (const d of days) {
      const cell = h("div", { class: "cell", "data-expert": e.id, "data-date": d });
      const vs = state.visits.filter((v) => v.date === d && v.experts.includes(e.id))
        .sort((a, b) => a.start.localeCompare(b.start));
      for (const v of vs) { cell.append(visitBlock(v, e.id)); count += 1; }
      grid.append(cell);
    }
  }
  if (!experts.length) grid.append(h("p", { class: "empty" }, t("no_visits")));
  grid.dataset.count = String(count);
  grid.style.gridTemplateColumns = `minmax(7em, 10em) repeat(${days.length}, minmax(9em, 1fr))`;
}

function visitBlock(v, expertId) {
  const joint = v.experts.length > 1;
  const field = visitField(v, expertId);
  const cls = ["visit", `field-${field}`, v.mode === "online" ? "online" : "onsite",
    joint ? "joint" : "", v.confidential ? "confidential" : ""].filter(Boolean).join(" ");
  const partners = v.experts.filter((x) => x !== expertId);
  const block = h("div", { class: cls, "data-request": v.request, "data-experts": v.experts.join(" "),
      "data-mode": v.mode, tabindex: "0",
      onmouseenter: () => highlight(v.request, true), onmouseleave: () => highlight(v.request, false),
      onfocus: () => highlight(v.request, true), onblur: () => highlight(v.request, false) },
    h("span", { class: "time" }, `${hhmm(v.start)}–${hhmm(v.end)}`),
    h("span", { class: "place" }, muniName(v.location)),
    h("span", { class: "field" }, fieldName(field)),
    v.mode === "online" ? h("span", { class: "tag online" }, t("online")) : null,
    joint ? h("span", { class: "tag joint" }, `${t("joint_with")}: ${v.experts.map(expertName).join(" + ")}`) : null,
    v.confidential ? h("span", { class: "tag confidential" }, t("legend_confidential")) : null,
    v.title ? h("span", { class: "title" }, v.title) : null);
  block.title = [v.request, v.title, partners.length ? `${t("joint_with")}: ${v.experts.map(expertName).join(" + ")}` : ""].filter(Boolean).join("\n");
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
}

function drawMap() {
  const map = $("#map");
  const locs = Array.from(state.munis.values()).filter((m) => m.lat !== null && m.lon !== null);
  if (!locs.length) return;
  const lat0 = locs.reduce((s, m) => s + m.lat, 0) / locs.length;
  const kx = Math.cos((lat0 * Math.PI) / 180);
  const scale = 420;
  const minX = Math.min(...locs.map((m) => m.lon)) * kx;
  const maxLat = Math.max(...locs.map((m) => m.lat));
  const P = (m) => [(m.lon * kx - minX) * scale + 60, (maxLat - m.lat) * scale + 40];
  const pts = new Map(locs.map((m) => [m.code, P(m)]));
  const W = Math.max(...[...pts.values()].map((p) => p[0])) + 90;
  const H = Math.max(...[...pts.values()].map((p) => p[1])) + 50;
  map.setAttribute("viewBox", `0 0 ${Math.round(W)} ${Math.round(H)}`);
  map.replaceChildren();
  const defs = svg("defs", {});
  map.append(defs);
  // land: the hull of the mainland municipalities, widened by a thick round stroke
  const main = locs.filter((m) => !m.island && m.code !== state.office).map((m) => pts.get(m.code));
  const hull = convexHull(main);
  map.append(svg("polygon", { class: "land", points: hull.map((p) => p.join(",")).join(" ") }));
  for (const m of locs.filter((x) => x.island)) {
    const [x, y] = pts.get(m.code);
    map.append(svg("circle", { class: "land island", cx: x, cy: y, r: 14 }));
  }
  const day = $("#map-day").value;
  const only = $("#map-expert").value;
  const routes = state.routes.filter((r) => r.date === day && (!only || r.expert === only));
  const list = $("#route-list");
  list.replaceChildren();
  const colourOf = (id) => EXPERT_COLOURS[Math.max(0, state.experts.findIndex((e) => e.id === id)) % EXPERT_COLOURS.length];
  routes.forEach((r, idx) => {
    const colour = colourOf(r.expert);
    const markerId = `arrow-${idx}`;
    defs.append(svg("marker", { id: markerId, viewBox: "0 0 10 10", refX: "9", refY: "5",
      markerWidth: "6", markerHeight: "6", orient: "auto-start-reverse" },
    svg("path", { d: "M0,0 L10,5 L0,10 z", fill: colour })));
    const base = (state.experts.find((e) => e.id === r.expert) || {}).base || state.office;
    const seq = [base, ...r.stops, base].filter((c, i, a) => i === 0 || c !== a[i - 1]);
    const off = (idx - (routes.length - 1) / 2) * 3;
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
        // the last part towards the island (or the first part away from it) is the crossing
        const f = 0.45;
        const [ix, iy, ox, oy] = b.island ? [x2, y2, x1, y1] : [x1, y1, x2, y2];
        const mx = ix + (ox - ix) * f; const my = iy + (oy - iy) * f;
        const island = b.island ? b : a;
        const road = b.island ? [x1, y1, mx, my] : [mx, my, x2, y2];
        const sea = b.island ? [mx, my, x2, y2] : [x1, y1, mx, my];
        g.append(svg("line", { class: "leg", x1: road[0], y1: road[1], x2: road[2], y2: road[3], stroke: colour }));
        g.append(svg("line", { class: "leg ferry", x1: sea[0], y1: sea[1], x2: sea[2], y2: sea[3],
          stroke: colour, "marker-end": `url(#${markerId})` }));
        g.append(svg("text", { class: "ferry-label", x: (sea[0] + sea[2]) / 2 + 6, y: (sea[1] + sea[3]) / 2 },
          `${t("ferry")} ${island.ferry_minutes ?? ""}${t("minutes")}`));
      } else {
        g.append(svg("line", { class: "leg", x1, y1, x2, y2, stroke: colour, "marker-end": `url(#${markerId})` }));
      }
    }
    seq.slice(1, -1).forEach((c, i) => {
      const [x, y] = pts.get(c) || [0, 0];
      g.append(svg("circle", { class: "stop-no", cx: x + 9 + off, cy: y - 9, r: 7, fill: colour }));
      g.append(svg("text", { class: "stop-no-text", x: x + 9 + off, y: y - 6 }, i + 1));
    });
    map.append(g);
    const names = [base, ...r.stops, base].map(muniName);
    const ferryStop = r.stops.some((c) => (state.munis.get(c) || {}).island);
    list.append(h("li", { style: `border-left-color:${colour}` },
      h("b", {}, expertName(r.expert)), " ",
      r.leave ? `${hhmm(r.leave)}–${hhmm(r.return)} ` : "",
      names.join(" → "),
      r.drive_minutes !== null && r.drive_minutes !== undefined ? ` (${t("drive")} ${r.drive_minutes}${t("minutes")})` : "",
      ferryStop ? h("span", { class: "tag ferry" }, t("ferry")) : null));
  });
  if (!routes.length) list.append(h("li", { class: "empty" }, t("no_routes")));
  for (const m of locs) {
    const [x, y] = pts.get(m.code);
    const isOffice = m.code === state.office;
    const g = svg("g", { class: `place${isOffice ? " office" : ""}${m.island ? " island" : ""}`, "data-code": m.code });
    g.append(isOffice
      ? svg("rect", { x: x - 5, y: y - 5, width: 10, height: 10 })
      : svg("circle", { cx: x, cy: y, r: m.kind === "city" ? 4.5 : 3.5 }));
    if (!isOffice) g.append(svg("text", { x: x + 6, y: y + 13 }, muniName(m.code)));
    else g.append(svg("text", { x: x - 8, y: y - 10, "text-anchor": "end" }, `${muniName(m.code)} (${t("base")})`));
    map.append(g);
  }
}

function convexHull(points) {
  const p = points.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (p.length < 3) return p;
  const cross = (o, a, b) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
  const lower = []; const upper = [];
  for (const q of p) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], q) <= 0) lower.pop();
    lower.push(q);
  }
  for (const q of p.slice().reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], q) <= 0) upper.pop();
    upper.push(q);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
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

function renderRequests() {
  const body = $("#requests-table tbody");
  body.replaceChildren();
  for (const q of state.requests) {
    const editable = ["draft", "submitted"].includes(q.status);
    const actions = h("td", { class: "actions" },
      editable ? h("button", { type: "button", onclick: () => editRequest(q) }, t("edit")) : null,
      q.status === "draft" ? h("button", { type: "button", onclick: () => transition(q, "submit") }, t("submit")) : null,
      ["draft", "submitted", "scheduled"].includes(q.status)
        ? h("button", { type: "button", class: "danger", onclick: () => transition(q, "cancel") }, t("cancel")) : null);
    body.append(h("tr", { "data-id": q.id, "data-municipality": q.municipality },
      h("td", {}, muniName(q.municipality)),
      h("td", {}, q.title || q.id, q.confidential ? h("span", { class: "tag confidential" }, t("legend_confidential")) : null),
      h("td", {}, q.fields.map(fieldName).join(" + ")),
      h("td", {}, t(q.mode)), h("td", {}, q.duration_min), h("td", {}, q.priority),
      h("td", {}, `${shortDate(q.earliest)}–${shortDate(q.latest)}`),
      h("td", { class: `status s-${q.status}` }, t("s_" + q.status)), actions));
  }
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
  if (!state.editing) {
    body.submit = f.elements.submit.checked;
    if (state.me.role === "centre") body.municipality = f.municipality.value;
  }
  return body;
}

async function saveRequest(ev) {
  ev.preventDefault();
  const f = $("#request-form");
  const errors = $("#form-errors");
  errors.replaceChildren();
  for (const el of $$("#request-form .invalid")) el.classList.remove("invalid");
  try {
    if (state.editing) {
      const q = await api("PATCH", state.editing.url, formBody());
      if (q.status === "draft" && f.elements.submit.checked) await api("POST", `${q.url}/submit`);
    } else {
      await api("POST", "/v1/requests", formBody());
    }
    resetForm();
    say(t("saved"));
    await loadWeek();
  } catch (err) {
    const b = (err instanceof ApiError && err.body) || {};
    errors.append(h("li", {}, b.detail || b.title || String(err.message)));
    for (const e of b.errors || []) {
      errors.append(h("li", { "data-path": e.path }, `${e.path}: ${e.message}`));
      const name = String(e.path).replace(/^body\./, "").split(/[.[]/)[0];
      const el = name === "window" ? f.window_start : (name === "fields" ? $("#field-boxes") : f.elements[name]);
      if (el && el.classList) el.classList.add("invalid");
    }
  }
}

async function transition(q, action) {
  try { await api("POST", `${q.url}/${action}`); await loadWeek(); }
  catch (err) { say(problemText(err), true); }
}

// ------------------------------------------------------------------ unscheduled

function renderUnscheduled() {
  const list = $("#unscheduled-list");
  list.replaceChildren();
  for (const u of state.unscheduled) {
    const q = u.req || {};
    const reasons = state.lang === "ja" && u.reasons_ja && u.reasons_ja.length ? u.reasons_ja : u.reasons;
    list.append(h("li", { "data-request": u.request },
      h("div", { class: "head" }, h("b", {}, q.municipality ? muniName(q.municipality) : ""), " ",
        q.title || u.request, " ",
        q.fields ? h("span", { class: "muted" }, `${q.fields.map(fieldName).join(" + ")} · ${t(q.mode)} · ${t("col_priority")} ${q.priority}`) : null),
      h("ul", { class: "reasons" }, (reasons || []).map((r) => h("li", {}, r)))));
  }
  if (!state.unscheduled.length) list.append(h("li", { class: "empty" }, t("unscheduled_none")));
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
    h("p", {}, `${e.fields.map(fieldName).join("・")} · ${e.work_start || "08:30"}–${e.work_end || "17:15"} · ${t("base")}: ${muniName(e.base)}`),
    feed,
    h("h3", {}, t("visits_week")),
    visits.length ? h("ul", { class: "expert-visits" }, visits.map((v) => h("li", {},
      `${shortDate(v.date)} ${hhmm(v.start)}–${hhmm(v.end)} ${muniName(v.location)} · ${t(v.mode)}`,
      v.experts.length > 1 ? ` · ${t("joint_with")}: ${v.experts.map(expertName).join(" + ")}` : "",
      v.title ? ` · ${v.title}` : ""))) : h("p", { class: "empty" }, t("no_visits")));
  try {
    const url = await api("GET", `/v1/experts/${encodeURIComponent(id)}/calendar-url`);
    feed.replaceChildren(h("a", { href: url.url, id: "feed-link", "data-expert": id }, t("feed")),
      h("br", {}), h("small", {}, t("feed_help")));
  } catch (err) { feed.textContent = problemText(err); }
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
  $("#cancel-plan").addEventListener("click", cancelPlan);
  $("#publish").addEventListener("click", publish);
  $("#source").addEventListener("change", (ev) => { state.source = ev.target.value; loadVisits(); });
  $("#map-day").addEventListener("change", drawMap);
  $("#map-expert").addEventListener("change", drawMap);
  $("#request-form").addEventListener("submit", saveRequest);
  $("#new-request").addEventListener("click", resetForm);
  $("#print").addEventListener("click", () => { showView("week"); window.print(); });
}

wire();
start().catch((err) => say(problemText(err), true));
