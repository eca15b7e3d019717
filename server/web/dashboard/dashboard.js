// The command centre dashboard (/dashboard/): a choropleth of incidents per grid on OneGrid's
// grid-stats tiles with the hotspots marked, ECharts charts (trend by day, categories,
// departments by 按期结案率), the overdue list and the assessment table with grades and the
// CSV/XLSX report. Every figure comes from the /v1 analysis API; definitions: docs/indicators.md.
// Nothing is loaded from outside the server (no basemap, fonts or scripts).
import { Api, initialToken, storeToken, describeError, escapeHtml } from '/web/common/api.js';
import { createMap } from '/web/common/map.js';

/* global maplibregl, echarts */

const origin = window.location.origin;
const api = new Api(initialToken());

const state = {
  me: null,
  period: null, // {kind: 'month'|'range', label, from, to, month}
  town: '',
  category: '',
  unit: 'department',
  district: null, // the district's indicators for the period
  categories: [], // [{major, name, reported}]
  departments: [],
  trend: [],
  hotspots: null,
  overdue: null,
  assessment: null,
  messages: [],
  loads: 0,
};

// ---- small helpers ---------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);
const pad = (n) => String(n).padStart(2, '0');
const ymd = (d) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
/** Today in Beijing time as YYYY-MM-DD (the server's periods are in Beijing time). */
function beijingToday() {
  return ymd(new Date(Date.now() + 8 * 3600 * 1000));
}
function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return ymd(d);
}
function pct(rate) {
  return rate && rate.value !== null && rate.value !== undefined ? `${(rate.value * 100).toFixed(1)}%` : '—';
}
function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
function filters() {
  return { town: state.town, category: state.category };
}

function message(level, text) {
  state.messages.push({ level, text });
  const div = document.createElement('div');
  div.className = `msg ${level}`;
  div.textContent = text;
  const close = document.createElement('button');
  close.className = 'close';
  close.type = 'button';
  close.textContent = '×';
  close.onclick = () => div.remove();
  div.appendChild(close);
  $('messages').appendChild(div);
}

async function get(path) {
  try {
    return await api.get(path);
  } catch (e) {
    message('error', `${path.split('?')[0]}: ${describeError(e)}`);
    throw e;
  }
}

// ---- periods ---------------------------------------------------------------------------------------

function periodOptions() {
  const today = beijingToday();
  const out = [{ value: 'last30', text: '最近30天 last 30 days' }];
  let [y, m] = today.split('-').map(Number);
  for (let i = 0; i < 12; i++) {
    const label = `${y}-${pad(m)}`;
    out.push({ value: label, text: i === 0 ? `${label} 本月 this month` : label });
    m -= 1;
    if (m === 0) {
      m = 12;
      y -= 1;
    }
  }
  return out;
}

/** The chosen period: its days (capped at today), the grid-stats period and the assessment month. */
function resolvePeriod(value) {
  const today = beijingToday();
  if (value === 'last30') {
    const from = addDays(today, -29);
    return { kind: 'range', value, label: `${from} … ${today}`, from, to: today, stats: `${from}/${today}`, month: today.slice(0, 7) };
  }
  const [y, m] = value.split('-').map(Number);
  const from = `${value}-01`;
  const last = ymd(new Date(Date.UTC(y, m, 0)));
  const to = last < today ? last : today;
  return { kind: 'month', value, label: value, from, to, stats: value, month: value };
}

// ---- the map ---------------------------------------------------------------------------------------

const EMPTY = { type: 'FeatureCollection', features: [] };
const RAMP = ['#f1f5f9', '#fee8c8', '#fdbb84', '#fc8d59', '#e34a33', '#b30000'];

function statsTiles() {
  return `${origin}/tiles/grid-stats/{z}/{x}/{y}.mvt${query({ period: state.period.stats, ...filters() })}`;
}

/** Class breaks for the choropleth from the mean count per grid (at least 1 apart). */
function breaks(total, grids) {
  const mean = Math.max(total / Math.max(grids, 1), 0.5);
  const b = [1, Math.ceil(mean), Math.ceil(2 * mean), Math.ceil(4 * mean), Math.ceil(8 * mean)];
  for (let i = 1; i < b.length; i++) if (b[i] <= b[i - 1]) b[i] = b[i - 1] + 1;
  return b;
}

function fillColour(b) {
  const e = ['step', ['get', 'reported'], RAMP[0]];
  b.forEach((v, i) => e.push(v, RAMP[i + 1]));
  return e;
}

const style = {
  version: 8,
  sources: {
    base: { type: 'vector', tiles: [`${origin}/tiles/district,towns/{z}/{x}/{y}.mvt`], minzoom: 0, maxzoom: 16, attribution: 'OneGrid (synthetic demo data)' },
    stats: { type: 'vector', tiles: [`${origin}/tiles/grid-stats/{z}/{x}/{y}.mvt`], minzoom: 8, maxzoom: 16 },
    recurring: { type: 'geojson', data: EMPTY },
  },
  layers: [
    { id: 'background', type: 'background', paint: { 'background-color': '#cfdbe5' } },
    { id: 'district-fill', type: 'fill', source: 'base', 'source-layer': 'district', paint: { 'fill-color': '#f7f6f2' } },
    { id: 'grid-fill', type: 'fill', source: 'stats', 'source-layer': 'grid-stats', paint: { 'fill-color': fillColour(breaks(0, 1)), 'fill-opacity': 0.85 } },
    { id: 'grid-line', type: 'line', source: 'stats', 'source-layer': 'grid-stats', paint: { 'line-color': '#90a4ae', 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 0.2, 13, 0.8] } },
    { id: 'towns-line', type: 'line', source: 'base', 'source-layer': 'towns', paint: { 'line-color': '#6d4c41', 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 0.8, 14, 2.2] } },
    { id: 'district-line', type: 'line', source: 'base', 'source-layer': 'district', paint: { 'line-color': '#3e2723', 'line-width': 1.6 } },
    // Hotspots: Gi* hot grids outlined, emerging grids outlined thicker, recurring spots as rings.
    { id: 'hot-gi', type: 'line', source: 'stats', 'source-layer': 'grid-stats', filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#ff6f00', 'line-width': 1.6 } },
    { id: 'hot-emerging', type: 'line', source: 'stats', 'source-layer': 'grid-stats', filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#6a1b9a', 'line-width': 3 } },
    { id: 'grid-picked', type: 'line', source: 'stats', 'source-layer': 'grid-stats', filter: ['==', ['get', 'code'], ''], paint: { 'line-color': '#0d47a1', 'line-width': 3 } },
    {
      id: 'recurring', type: 'circle', source: 'recurring',
      paint: { 'circle-radius': ['interpolate', ['linear'], ['get', 'n'], 3, 6, 10, 12], 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#6a1b9a', 'circle-stroke-width': 2.5 },
    },
  ],
};

const map = createMap({
  container: 'map',
  style,
  center: [120.79, 37.85],
  zoom: 8.6,
  maxZoom: 17,
  api,
  report: (text) => {
    if (!state.messages.some((m) => m.text.endsWith(text))) message('error', `Map: ${text}`);
  },
});
const mapLoaded = new Promise((resolve) => map.on('load', resolve));

function whenIdle() {
  return new Promise((resolve) => {
    map.once('idle', () => resolve(true));
    map.triggerRepaint();
  });
}

map.on('click', 'grid-fill', (e) => {
  const f = e.features && e.features[0];
  if (!f) return;
  const p = f.properties;
  map.setFilter('grid-picked', ['==', ['get', 'code'], p.code]);
  const r = (k) => (p[k] === undefined ? '—' : `${(p[k] * 100).toFixed(1)}%`);
  $('grid-info').innerHTML =
    `<b>${escapeHtml(p.name)}</b> <span class="mono">${escapeHtml(p.code)}</span> · ${escapeHtml(p.period)}<br>` +
    `上报 ${p.reported} · 立案 ${p.registered} · 结案 ${p.closed}/${p.due} · 超期 ${p.overdue} · ` +
    `按期结案率 ${r('closing_in_time_rate')} · 满意率 ${r('satisfaction_rate')}`;
  state.pickedGrid = p.code;
});
map.on('mouseenter', 'grid-fill', () => (map.getCanvas().style.cursor = 'pointer'));
map.on('mouseleave', 'grid-fill', () => (map.getCanvas().style.cursor = ''));

function updateMap() {
  const src = map.getSource('stats');
  src.setTiles([statsTiles()]);
  const reported = state.district ? state.district.counts.reported : 0;
  const b = breaks(reported, 1115);
  map.setPaintProperty('grid-fill', 'fill-color', fillColour(b));
  const labels = [`<span><i style="background:${RAMP[0]}"></i> 0</span>`];
  b.forEach((v, i) => {
    const hi = i + 1 < b.length ? b[i + 1] - 1 : null;
    labels.push(`<span><i style="background:${RAMP[i + 1]}"></i> ${hi === null ? `≥ ${v}` : hi > v ? `${v}–${hi}` : v}</span>`);
  });
  labels.push('<span><i style="border:3px solid #6a1b9a;background:none"></i> 新兴热点 emerging</span>');
  labels.push('<span><i style="border:2px solid #ff6f00;background:none"></i> Gi* 热点 hot</span>');
  labels.push('<span><i style="border:2px solid #6a1b9a;border-radius:50%;background:none"></i> 反复发生 recurring</span>');
  $('legend').innerHTML = `上报数 reported: ${labels.join(' ')}`;
  $('map-period').textContent = `${state.period.label}`;
}

function updateHotspotLayers() {
  const h = state.hotspots;
  if (!h) return;
  const emerging = [...new Set(h.emerging.filter((e) => e.flagged).map((e) => e.grid))];
  const hot = h.gi_star.filter((g) => g.class.startsWith('hot')).map((g) => g.grid);
  map.setFilter('hot-emerging', ['in', ['get', 'code'], ['literal', emerging]]);
  map.setFilter('hot-gi', ['in', ['get', 'code'], ['literal', hot]]);
  map.getSource('recurring').setData({
    type: 'FeatureCollection',
    features: h.recurring.map((r) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: r.location },
      properties: { category: r.category, n: r.incidents.length, days: r.days },
    })),
  });
}

// ---- charts ----------------------------------------------------------------------------------------

const charts = {
  trend: echarts.init($('chart-trend'), null, { renderer: 'canvas' }),
  categories: echarts.init($('chart-categories'), null, { renderer: 'canvas' }),
  departments: echarts.init($('chart-departments'), null, { renderer: 'canvas' }),
};
window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));

function drawTrend() {
  const days = state.trend;
  charts.trend.setOption(
    {
      animation: false,
      tooltip: { trigger: 'axis' },
      legend: { top: 0, data: ['上报 reported', '结案 closed', '超期 overdue'] },
      grid: { left: 36, right: 12, top: 28, bottom: 24 },
      xAxis: { type: 'category', data: days.map((d) => d.period.slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        { name: '上报 reported', type: 'line', smooth: true, data: days.map((d) => d.counts.reported) },
        { name: '结案 closed', type: 'line', smooth: true, data: days.map((d) => d.counts.closed) },
        { name: '超期 overdue', type: 'bar', data: days.map((d) => d.counts.overdue), itemStyle: { color: '#c62828' } },
      ],
    },
    true,
  );
}

function drawCategories() {
  const rows = state.categories.filter((c) => c.reported > 0).sort((a, b) => b.reported - a.reported);
  charts.categories.setOption(
    {
      animation: false,
      tooltip: { trigger: 'item', formatter: '{b}: {c} ({d}%)' },
      series: [
        {
          name: '上报数', type: 'pie', radius: ['35%', '68%'], center: ['50%', '54%'],
          label: { formatter: '{b}\n{c}', fontSize: 11 },
          data: rows.map((c) => ({ name: c.name, value: c.reported, code: c.major })),
        },
      ],
    },
    true,
  );
}

function drawDepartments() {
  // Best first; departments without due cases (no data) are left out.
  const rows = state.departments
    .filter((d) => d.rate.value !== null)
    .sort((a, b) => b.rate.value - a.rate.value || a.code.localeCompare(b.code));
  charts.departments.setOption(
    {
      animation: false,
      tooltip: {
        trigger: 'axis', axisPointer: { type: 'shadow' },
        formatter: (ps) => ps.map((p) => `${p.name}: ${p.value}% (${rows[p.dataIndex].rate.numerator}/${rows[p.dataIndex].rate.denominator})`).join('<br>'),
      },
      grid: { left: 150, right: 40, top: 6, bottom: 20 },
      xAxis: { type: 'value', max: 100, axisLabel: { formatter: '{value}%' } },
      yAxis: { type: 'category', inverse: true, data: rows.map((d) => d.name || d.code), axisLabel: { width: 140, overflow: 'truncate' } },
      series: [
        {
          name: '按期结案率', type: 'bar', data: rows.map((d) => Math.round(d.rate.value * 1000) / 10),
          label: { show: true, position: 'right', formatter: '{c}%', fontSize: 11 },
          itemStyle: { color: (p) => (p.value >= 90 ? '#2e7d32' : p.value >= 75 ? '#689f38' : p.value >= 60 ? '#f9a825' : '#c62828') },
        },
      ],
    },
    true,
  );
}

// ---- panels ----------------------------------------------------------------------------------------

function drawKpis() {
  const c = state.district;
  if (!c) return;
  const n = c.counts;
  const kpi = (v, l, d = '') => `<div class="kpi"><div class="v">${v}</div><div class="l">${l}</div><div class="d">${d}</div></div>`;
  const r = c.rates;
  $('kpis').innerHTML = [
    kpi(n.reported, '上报数 reported'),
    kpi(n.registered, '立案数 registered'),
    kpi(n.closed, '结案数 closed', `应结案 due ${n.due}`),
    kpi(pct(r.closing_rate), '结案率', `${r.closing_rate.numerator}/${r.closing_rate.denominator}`),
    kpi(pct(r.closing_in_time_rate), '按期结案率', `${r.closing_in_time_rate.numerator}/${r.closing_in_time_rate.denominator}`),
    kpi(pct(r.rework_rate), '返工率', `${r.rework_rate.numerator}/${r.rework_rate.denominator}`),
    kpi(pct(r.satisfaction_rate), '满意率', `${r.satisfaction_rate.numerator}/${r.satisfaction_rate.denominator}`),
    kpi(n.overdue, '超期数 overdue'),
    kpi(c.mean_handling_hours === null ? '—' : `${c.mean_handling_hours.toFixed(1)} h`, '平均处置时长'),
  ].join('');
}

function drawHotspots() {
  const h = state.hotspots;
  if (!h) return;
  $('hotspot-week').textContent = `${h.week.from.slice(0, 10)} … ${h.week.until.slice(0, 10)}`;
  const emerging = h.emerging.filter((e) => e.flagged);
  const hot = h.gi_star.filter((g) => g.class.startsWith('hot'));
  const li = (s) => `<li>${s}</li>`;
  $('hotspots').innerHTML =
    `<b>新兴热点 emerging</b> (${emerging.length} of ${h.emerging_tested} tested)` +
    `<ul>${emerging.slice(0, 8).map((e) => li(`${escapeHtml(e.name || e.grid)}${e.category ? ` · ${escapeHtml(e.category)}` : ''}: ${e.current} vs ${e.trailing} in 8 weeks (p = ${e.p_value.toExponential(1)})`)).join('') || li('—')}</ul>` +
    `<b>Gi* 热点 hot grids</b> (${hot.length})` +
    `<ul>${hot.slice(0, 6).map((g) => li(`${escapeHtml(g.name || g.grid)}: z = ${g.z.toFixed(2)} (${escapeHtml(g.class)})`)).join('') || li('—')}</ul>` +
    `<b>反复发生 recurring</b> (${h.recurring.length})` +
    `<ul>${h.recurring.slice(0, 6).map((r) => li(`${escapeHtml(r.category_name || r.category)} · ${r.incidents.length} cases on ${r.days} days`)).join('') || li('—')}</ul>`;
}

function drawOverdue() {
  const o = state.overdue;
  if (!o) return;
  $('overdue-count').textContent = `${o.total}`;
  const tbody = $('overdue').querySelector('tbody');
  tbody.innerHTML = o.items.length
    ? o.items
        .map(
          (i) =>
            `<tr><td class="mono">${i.id}</td><td>${escapeHtml(i.category_name || i.category)}</td><td class="mono">${escapeHtml(i.grid)}</td>` +
            `<td>${escapeHtml(i.department_name || i.department)}</td><td>${escapeHtml(i.due_at.slice(0, 16).replace('T', ' '))}</td>` +
            `<td class="num">${i.hours_overdue}</td><td class="num">${i.escalation_level}</td></tr>`,
        )
        .join('')
    : '<tr><td colspan="7" class="muted">无超期案件 · no overdue cases</td></tr>';
}

function drawAssessment() {
  const a = state.assessment;
  if (!a) return;
  $('assessment-month').textContent = `${a.month} · ${a.unit_zh}`;
  $('grade-counts').textContent = ['A', 'B', 'C', 'D', 'E'].map((g) => `${g} ${a.grade_counts[g]}`).join(' · ');
  const rows = a.units.filter((u) => u.score !== null).concat(a.units.filter((u) => u.score === null).slice(0, 20));
  $('assessment').querySelector('tbody').innerHTML = rows
    .map(
      (u) =>
        `<tr><td class="num">${u.rank ?? '—'}</td><td>${escapeHtml(u.name || u.code)} <span class="muted mono">${escapeHtml(u.code)}</span></td>` +
        `<td class="num">${u.score === null ? '—' : u.score.toFixed(2)}</td>` +
        `<td>${u.grade ? `<span class="grade grade-${u.grade}">${u.grade}</span>` : '—'}</td>` +
        `<td class="num">${pct(u.rates.closing_rate)}</td><td class="num">${pct(u.rates.closing_in_time_rate)}</td>` +
        `<td class="num">${pct(u.rates.handling_in_time_rate)}</td><td class="num">${pct(u.rates.rework_rate)}</td>` +
        `<td class="num">${pct(u.rates.satisfaction_rate)}</td><td class="num">${u.counts.due}/${u.counts.closed}</td></tr>`,
    )
    .join('');
  const q = query({ month: a.month, ...filters() });
  $('dl-csv').href = `/v1/reports/assessment.csv${q}`;
  $('dl-xlsx').href = `/v1/reports/assessment.xlsx${q}`;
  $('dl-csv').setAttribute('download', `assessment-${a.month}.csv`);
  $('dl-xlsx').setAttribute('download', `assessment-${a.month}.xlsx`);
}

/** The report links need the bearer token: fetch the file and hand it to the browser as a download. */
async function download(e) {
  e.preventDefault();
  const a = e.currentTarget;
  try {
    const res = await fetch(a.getAttribute('href'), { headers: api.authHeaders(), cache: 'no-store' });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body.description || `HTTP ${res.status}`);
    }
    const blob = await res.blob();
    const url = URL.createObjectURL(blob);
    const tmp = document.createElement('a');
    tmp.href = url;
    tmp.download = a.getAttribute('download');
    document.body.appendChild(tmp);
    tmp.click();
    tmp.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    state.lastDownload = { name: tmp.download, size: blob.size, type: blob.type };
  } catch (err) {
    message('error', `Download: ${describeError(err)}`);
  }
}
$('dl-csv').addEventListener('click', download);
$('dl-xlsx').addEventListener('click', download);

// ---- loading ---------------------------------------------------------------------------------------

async function loadFigures() {
  const p = state.period;
  const f = filters();
  const custom = await get(`/v1/indicators${query({ unit: 'district', period: 'custom', from: p.from, to: p.to, ...f })}`);
  state.district = custom.units[0].periods[0];
  $('as-of').textContent = `截至 as of ${custom.as_of.slice(0, 16).replace('T', ' ')} UTC`;
  const [trend, departments, hotspots, overdue, ...majors] = await Promise.all([
    get(`/v1/indicators${query({ unit: 'district', period: 'day', from: p.from, to: p.to, ...f })}`),
    get(`/v1/indicators${query({ unit: 'department', period: 'custom', from: p.from, to: p.to, ...f })}`),
    get(`/v1/hotspots${query(f)}`),
    get(`/v1/overdue${query({ ...f, limit: 200 })}`),
    ...state.majorClasses
      .filter((m) => !state.category || m.major === state.category.slice(0, 2))
      .map((m) => get(`/v1/indicators${query({ unit: 'district', period: 'custom', from: p.from, to: p.to, town: state.town, category: state.category || m.major })}`)),
  ]);
  state.trend = trend.units[0].periods;
  state.departments = departments.units.map((u) => ({ code: u.code, name: u.name, rate: u.periods[0].rates.closing_in_time_rate }));
  const shown = state.majorClasses.filter((m) => !state.category || m.major === state.category.slice(0, 2));
  state.categories = shown.map((m, i) => ({ major: m.major, name: m.name, reported: majors[i].units[0].periods[0].counts.reported }));
  state.hotspots = hotspots;
  state.overdue = overdue;
  drawKpis();
  drawTrend();
  drawCategories();
  drawDepartments();
  drawHotspots();
  drawOverdue();
  updateMap();
  updateHotspotLayers();
}

async function loadAssessment() {
  state.assessment = await get(`/v1/assessment${query({ unit: state.unit, month: state.period.month, ...filters() })}`);
  drawAssessment();
}

async function refresh() {
  state.loads += 1;
  const n = state.loads;
  await mapLoaded;
  try {
    await Promise.all([loadFigures(), loadAssessment()]);
    if (n === state.loads) state.loaded = n;
  } catch {
    /* reported by get() */
  }
}

async function start() {
  $('token-input').value = api.token;
  try {
    state.me = await api.get('/v1/me');
    $('who').textContent = state.me.authenticated ? `${state.me.role} · ${state.me.user}` : 'anonymous';
  } catch (e) {
    message('error', describeError(e));
  }
  try {
    // The whole district in view, islands included.
    const tj = await api.get('/tiles/district.json');
    await mapLoaded;
    if (tj.bounds) map.fitBounds([[tj.bounds[0], tj.bounds[1]], [tj.bounds[2], tj.bounds[3]]], { padding: 12, animate: false });
  } catch (e) {
    message('error', describeError(e));
  }
  for (const o of periodOptions()) $('f-period').add(new Option(o.text, o.value));
  $('f-period').value = periodOptions()[1].value;
  state.period = resolvePeriod($('f-period').value);
  try {
    const towns = await api.get('/collections/towns/items?limit=100');
    for (const t of towns.features.sort((a, b) => a.properties.code.localeCompare(b.properties.code)))
      $('f-town').add(new Option(`${t.properties.name} ${t.properties.code}`, t.properties.code));
    const categories = await api.get('/v1/categories');
    const majors = new Map();
    for (const c of categories) {
      const major = c.code.slice(0, 2);
      if (!majors.has(major)) majors.set(major, { major, name: c.major_class || major, categories: [] });
      majors.get(major).categories.push(c);
    }
    state.majorClasses = [...majors.values()].sort((a, b) => a.major.localeCompare(b.major));
    for (const m of state.majorClasses) {
      $('f-category').add(new Option(`${m.major} ${m.name}`, m.major));
      for (const c of m.categories.sort((a, b) => a.code.localeCompare(b.code))) $('f-category').add(new Option(`  ${c.code} ${c.name}`, c.code));
    }
  } catch (e) {
    message('error', describeError(e));
    state.majorClasses = state.majorClasses || [];
  }
  // A town's leaders start with their own town.
  if (state.me && state.me.role === 'town_officer' && state.me.town && [...$('f-town').options].some((o) => o.value === state.me.town)) {
    $('f-town').value = state.me.town;
    state.town = state.me.town;
  }
  $('f-period').onchange = () => {
    state.period = resolvePeriod($('f-period').value);
    refresh();
  };
  $('f-town').onchange = () => {
    state.town = $('f-town').value;
    refresh();
  };
  $('f-category').onchange = () => {
    state.category = $('f-category').value;
    refresh();
  };
  $('a-unit').onchange = async () => {
    state.unit = $('a-unit').value;
    await loadAssessment().catch(() => {});
  };
  $('token-save').onclick = () => {
    storeToken($('token-input').value.trim());
    window.location.reload();
  };
  await refresh();
}

const ready = start();
window.dashboard = { map, charts, state, ready, whenIdle, refresh };
