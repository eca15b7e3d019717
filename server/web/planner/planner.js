// OneGrid planner: redraw base grids in a draft, validate the draft as a coverage, publish it.
//
// The map uses no external resource at all: a plain background, OneGrid's own vector tiles
// (district, towns, communities, grids, incidents) and the open draft's grids as GeoJSON. Lines are
// drawn with terra-draw (linestring mode). Every request carries the bearer token; every error is
// shown with the server's description. A read-only hook for tests: window.planner = {map, ready,
// state, whenIdle}.

import { Api, ApiError, initialToken, storeToken, describeError, OPEN_STATUSES, geometryBbox, escapeHtml } from '/web/common/api.js';
import { createMap } from '/web/common/map.js';

const maplibregl = window.maplibregl;
const { TerraDraw, TerraDrawLineStringMode } = window.terraDraw;
const { TerraDrawMapLibreGLAdapter } = window.terraDrawMaplibreGlAdapter;

const $ = (id) => document.getElementById(id);
const origin = window.location.origin;
const api = new Api(initialToken());
const EMPTY = { type: 'FeatureCollection', features: [] };
const PANEL_PADDING = { top: 70, bottom: 70, left: 420, right: 90 };

const state = {
  me: null, // GET /v1/me
  drafts: [], // GET /v1/drafts
  draft: null, // the open draft
  features: new Map(), // code -> GeoJSON feature of the open draft
  etags: new Map(), // code -> ETag ("<code>@<revision>")
  changed: new Set(), // codes changed by the operations of this session
  tool: 'select',
  picked: [], // grids picked for the current tool
  selected: null, // the grid whose attributes are shown
  selectedInfo: null, // {code, properties, total, open}
  drawing: false,
  findings: null, // the last validation's FeatureCollection
  lastValidation: null,
  lastPreview: null,
  lastReport: null,
  lastOperation: null, // {op, changed: [codes], removed: [codes]}
  lastFocus: null, // the grid the map was last zoomed to
  tileVersion: 0,
  busy: 0,
  operations: 0, // completed requests that changed something (a counter for tests)
  messages: [], // {level, text}
};

// ---------------------------------------------------------------------------------------------
// Messages and busy indicator

function message(level, text) {
  state.messages.push({ level, text });
  const box = $('messages');
  const div = document.createElement('div');
  div.className = `msg ${level}`;
  div.setAttribute('role', level === 'error' ? 'alert' : 'status');
  div.textContent = text;
  const close = document.createElement('button');
  close.className = 'close';
  close.type = 'button';
  close.textContent = '×';
  close.title = 'dismiss';
  close.onclick = () => div.remove();
  div.appendChild(close);
  box.prepend(div);
  while (box.children.length > 6) box.lastElementChild.remove();
  if (level !== 'error') setTimeout(() => div.remove(), 10000);
  if (level === 'error') console.warn('planner:', text);
}
const showError = (e, context) => message('error', (context ? `${context}: ` : '') + describeError(e));
const showInfo = (text) => message('info', text);

async function busy(fn) {
  state.busy++;
  $('busy').hidden = false;
  try {
    return await fn();
  } finally {
    state.busy--;
    if (state.busy === 0) $('busy').hidden = true;
  }
}

// ---------------------------------------------------------------------------------------------
// The map

const tileUrl = (layers) => `${origin}/tiles/${layers}/{z}/{x}/{y}.mvt${state.tileVersion ? `?v=${state.tileVersion}` : ''}`;
const openExpr = ['in', ['get', 'status'], ['literal', OPEN_STATUSES]];

const style = {
  version: 8,
  name: 'OneGrid planner (offline)',
  sources: {
    base: { type: 'vector', tiles: [tileUrl('district,towns,communities,grids')], minzoom: 0, maxzoom: 16, attribution: 'OneGrid (synthetic demo data)' },
    incidents: { type: 'vector', tiles: [tileUrl('incidents')], minzoom: 0, maxzoom: 16 },
    draft: { type: 'geojson', data: EMPTY },
    findings: { type: 'geojson', data: EMPTY },
  },
  layers: [
    { id: 'background', type: 'background', paint: { 'background-color': '#cfdbe5' } },
    { id: 'district-fill', type: 'fill', source: 'base', 'source-layer': 'district', paint: { 'fill-color': '#f5f3ee' } },
    // The published grids (shown while no draft is open).
    { id: 'grids-fill', type: 'fill', source: 'base', 'source-layer': 'grids', paint: { 'fill-color': '#78909c', 'fill-opacity': 0.08 } },
    {
      id: 'grids-line', type: 'line', source: 'base', 'source-layer': 'grids',
      paint: { 'line-color': '#607d8b', 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 0.3, 13, 1, 16, 1.6] },
    },
    // The open draft.
    { id: 'draft-fill', type: 'fill', source: 'draft', paint: { 'fill-color': '#78909c', 'fill-opacity': 0.1 } },
    { id: 'draft-changed', type: 'fill', source: 'draft', filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'fill-color': '#ffc107', 'fill-opacity': 0.45 } },
    { id: 'draft-picked', type: 'fill', source: 'draft', filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'fill-color': '#1e88e5', 'fill-opacity': 0.3 } },
    {
      id: 'draft-line', type: 'line', source: 'draft',
      paint: { 'line-color': '#455a64', 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 0.4, 13, 1.1, 16, 1.8] },
    },
    // Administrative boundaries above the grids.
    { id: 'communities-line', type: 'line', source: 'base', 'source-layer': 'communities', minzoom: 10, paint: { 'line-color': '#8d6e63', 'line-width': 1.2, 'line-dasharray': [3, 2] } },
    { id: 'towns-line', type: 'line', source: 'base', 'source-layer': 'towns', paint: { 'line-color': '#6d4c41', 'line-width': ['interpolate', ['linear'], ['zoom'], 9, 1, 14, 2.5] } },
    { id: 'district-line', type: 'line', source: 'base', 'source-layer': 'district', paint: { 'line-color': '#3e2723', 'line-width': 2 } },
    // Selection outline (grids picked for a tool, or the published grid selected without a draft).
    { id: 'picked-line', type: 'line', source: 'draft', filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#0d47a1', 'line-width': 3 } },
    { id: 'grids-picked-line', type: 'line', source: 'base', 'source-layer': 'grids', filter: ['in', ['get', 'code'], ['literal', []]], paint: { 'line-color': '#0d47a1', 'line-width': 3 } },
    // Incidents: counts per grid below zoom 13, single cases from there on.
    {
      id: 'incidents-counts', type: 'circle', source: 'incidents', 'source-layer': 'incidents', filter: ['all', ['has', 'count'], ['>', ['get', 'open'], 0]],
      paint: {
        'circle-color': '#d32f2f', 'circle-opacity': 0.55, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 0.5,
        'circle-radius': ['interpolate', ['linear'], ['get', 'open'], 1, 2.5, 10, 6, 50, 11],
      },
    },
    {
      id: 'incidents-points', type: 'circle', source: 'incidents', 'source-layer': 'incidents', filter: ['!', ['has', 'count']],
      paint: {
        'circle-color': ['case', openExpr, '#d32f2f', ['==', ['get', 'status'], 'voided'], '#bdbdbd', '#78909c'],
        'circle-radius': ['case', openExpr, 5, 2.5],
        'circle-opacity': ['case', openExpr, 0.95, 0.6],
        'circle-stroke-color': '#ffffff', 'circle-stroke-width': ['case', openExpr, 1.2, 0],
      },
    },
    // Validation findings: warnings light and dashed, errors strong and on top.
    ...['warning', 'error'].flatMap((sev) => {
      const colour = sev === 'error' ? '#d32f2f' : '#fb8c00';
      const is = ['==', ['get', 'severity'], sev];
      return [
        { id: `findings-${sev}-fill`, type: 'fill', source: 'findings', filter: ['all', is, ['==', ['geometry-type'], 'Polygon']], paint: { 'fill-color': colour, 'fill-opacity': sev === 'error' ? 0.45 : 0.15 } },
        {
          id: `findings-${sev}-line`, type: 'line', source: 'findings', filter: ['all', is, ['!=', ['geometry-type'], 'Point']],
          paint: { 'line-color': colour, 'line-width': sev === 'error' ? 3 : 1.5, ...(sev === 'error' ? {} : { 'line-dasharray': [3, 2] }) },
        },
        {
          id: `findings-${sev}-point`, type: 'circle', source: 'findings', filter: ['all', is, ['==', ['geometry-type'], 'Point']],
          paint: { 'circle-color': colour, 'circle-radius': sev === 'error' ? 7 : 5, 'circle-stroke-color': '#fff', 'circle-stroke-width': 2 },
        },
      ];
    }),
  ],
};

const map = createMap({
  container: 'map',
  style,
  center: [120.79, 37.92],
  zoom: 9,
  maxZoom: 19,
  api,
  report: (text) => {
    if (!state.messages.some((m) => m.text.endsWith(text))) message('error', `Map: ${text}`);
  },
});

let draw = null;

let styleReady = false;
const loaded = new Promise((resolve) =>
  map.on('load', () => {
    styleReady = true;
    resolve();
  }),
);

/** The map layers that draw validation findings. */
const FINDING_LAYERS = ['warning', 'error'].flatMap((sev) => ['fill', 'line', 'point'].map((k) => `findings-${sev}-${k}`));

/** Resolves at the map's next 'idle' (after a repaint, so it resolves even when the map is already idle). */
function whenIdle() {
  return new Promise((resolve) => {
    map.once('idle', () => resolve(true));
    map.triggerRepaint();
  });
}

function setDraftData() {
  const fc = { type: 'FeatureCollection', features: [...state.features.values()] };
  const src = map.getSource('draft');
  if (src) src.setData(fc);
}

function refreshFilters() {
  const picked = ['in', ['get', 'code'], ['literal', state.picked]];
  map.setFilter('draft-picked', picked);
  map.setFilter('picked-line', picked);
  map.setFilter('grids-picked-line', state.draft ? ['in', ['get', 'code'], ['literal', []]] : picked);
  map.setFilter('draft-changed', ['in', ['get', 'code'], ['literal', [...state.changed]]]);
  const published = state.draft ? 'none' : 'visible';
  for (const id of ['grids-fill', 'grids-line']) map.setLayoutProperty(id, 'visibility', published);
}

function fitTo(bbox, code) {
  if (!bbox) return;
  const [minx, miny, maxx, maxy] = bbox;
  map.once('moveend', () => {
    state.lastFocus = code || null;
  });
  map.fitBounds([[minx, miny], [maxx, maxy]], { padding: PANEL_PADDING, maxZoom: 16.5, duration: 400 });
}

function refreshTiles() {
  state.tileVersion = Date.now();
  map.getSource('base').setTiles([tileUrl('district,towns,communities,grids')]);
  map.getSource('incidents').setTiles([tileUrl('incidents')]);
}

// ---------------------------------------------------------------------------------------------
// Token and user

async function checkToken() {
  const who = $('who');
  try {
    state.me = await api.get('/v1/me');
    const role = state.me.role || 'anonymous';
    who.textContent = state.me.authenticated ? `${role}${state.me.user ? ' · ' + state.me.user : ''}` : '未登录 signed out';
    who.className = `badge${state.me.authenticated && (role === 'planner' || role === 'admin') ? '' : ' bad'}`;
    if (state.me.authenticated && role !== 'planner' && role !== 'admin') {
      message('error', `This token's role is ${role}: drafts need a planner or admin token. 需要规划员令牌。`);
    } else if (!state.me.authenticated) {
      message('error', 'No valid token: enter a planner token above. 请输入规划员令牌。');
    }
  } catch (e) {
    who.textContent = '?';
    who.className = 'badge bad';
    showError(e, 'Checking the token');
  }
}

$('token-input').value = api.token;
$('token-save').onclick = async () => {
  const t = $('token-input').value.trim();
  api.setToken(t);
  storeToken(t);
  await checkToken();
  refreshTiles();
  if (state.me && state.me.authenticated) await loadDrafts();
};
$('token-input').addEventListener('keydown', (e) => {
  if (e.key === 'Enter') $('token-save').click();
});

// ---------------------------------------------------------------------------------------------
// Drafts

const draftCollection = (d) => d.collection || `draft-${d.id}`;

async function loadDrafts() {
  if (!api.token) return;
  try {
    const data = await api.get('/v1/drafts');
    state.drafts = Array.isArray(data) ? data : data.drafts || data.items || [];
  } catch (e) {
    showError(e, 'Listing drafts');
    return;
  }
  const sel = $('draft-select');
  const current = state.draft ? String(state.draft.id) : sel.value;
  sel.innerHTML = '<option value="">— 选择草稿 choose a draft —</option>';
  for (const d of state.drafts) {
    const o = document.createElement('option');
    o.value = d.id;
    o.textContent = `#${d.id} ${d.name || ''} · ${d.layer} v${d.base_version ?? '?'}${d.status && d.status !== 'open' ? ` (${d.status})` : ''}`;
    sel.appendChild(o);
  }
  if (current && state.drafts.some((d) => String(d.id) === current)) sel.value = current;
}

async function fetchDraftFeatures(draft) {
  const features = [];
  let url = `/collections/${draftCollection(draft)}/items?limit=10000`;
  for (let page = 0; url && page < 50; page++) {
    const fc = await api.get(url);
    features.push(...(fc.features || []));
    const next = (fc.links || []).find((l) => l.rel === 'next');
    url = next && fc.features && fc.features.length && (fc.numberMatched === undefined || features.length < fc.numberMatched) ? next.href : null;
  }
  return features;
}

function codeOf(f) {
  return String(f.properties && f.properties.code != null ? f.properties.code : f.id);
}

function etagOf(f) {
  const code = codeOf(f);
  const p = f.properties || {};
  if (typeof p.etag === 'string' && p.etag) return p.etag;
  return `"${code}@${p.revision ?? 0}"`;
}

function putFeature(f) {
  const code = codeOf(f);
  f.id = code;
  f.properties = { ...(f.properties || {}), code };
  state.features.set(code, f);
  state.etags.set(code, etagOf(f));
  return code;
}

async function openDraft(id) {
  if (!id) {
    message('error', 'Choose a draft first. 请先选择草稿。');
    return;
  }
  await busy(async () => {
    try {
      const draft = await api.get(`/v1/drafts/${encodeURIComponent(id)}`);
      const features = await fetchDraftFeatures(draft);
      cancelTool();
      state.draft = draft;
      state.features.clear();
      state.etags.clear();
      state.changed.clear();
      for (const f of features) putFeature(f);
      clearFindings();
      state.picked = [];
      clearSelection();
      setDraftData();
      refreshFilters();
      renderDraftInfo();
      $('draft-select').value = String(draft.id);
      showInfo(`已打开草稿 Opened draft #${draft.id} (${features.length} grids)`);
    } catch (e) {
      showError(e, `Opening draft ${id}`);
    }
  });
}

async function reloadDraftFeatures() {
  if (!state.draft) return;
  const features = await fetchDraftFeatures(state.draft);
  state.features.clear();
  state.etags.clear();
  for (const f of features) putFeature(f);
  setDraftData();
  refreshFilters();
  renderDraftInfo();
}

/** Re-reads the draft; when someone else changed it since we last looked, reloads its grids. */
async function syncDraft() {
  if (!state.draft) return;
  const d = await api.get(`/v1/drafts/${state.draft.id}`);
  if (state.draft && d.revision !== state.draft.revision) {
    state.draft = d;
    await reloadDraftFeatures();
    showInfo('草稿已在别处修改，已重新加载 · The draft was changed elsewhere: reloaded.');
  } else {
    state.draft = d;
  }
}

function clearFindings() {
  state.findings = null;
  map.getSource('findings').setData(EMPTY);
  $('findings-card').hidden = true;
}

function closeDraftView() {
  cancelTool();
  clearFindings();
  state.draft = null;
  state.features.clear();
  state.etags.clear();
  state.changed.clear();
  state.picked = [];
  setDraftData();
  refreshFilters();
  renderDraftInfo();
}

function renderDraftInfo() {
  const info = $('draft-info');
  if (!state.draft) {
    info.textContent = '未打开草稿 · no draft open (showing the published grids)';
    return;
  }
  const d = state.draft;
  info.innerHTML =
    `<b>#${escapeHtml(d.id)} ${escapeHtml(d.name || '')}</b> · ${escapeHtml(d.layer)} · base v${escapeHtml(d.base_version ?? '?')}` +
    ` · <span id="draft-count">${state.features.size}</span> grids` +
    (state.changed.size ? ` · <span class="changed">${state.changed.size} changed</span>` : '');
}

$('draft-create').onclick = async () => {
  const name = $('draft-name').value.trim() || `草稿 draft ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`;
  let draft;
  await busy(async () => {
    try {
      draft = await api.post('/v1/drafts', { layer: 'grids', name });
      $('draft-name').value = '';
      state.operations++;
    } catch (e) {
      showError(e, 'Creating the draft');
    }
  });
  if (draft) {
    await loadDrafts();
    await openDraft(draft.id);
  }
};
$('draft-open').onclick = () => openDraft($('draft-select').value);
$('draft-select').addEventListener('change', () => {
  if ($('draft-select').value) openDraft($('draft-select').value);
});
$('draft-delete').onclick = async () => {
  const id = $('draft-select').value || (state.draft && state.draft.id);
  if (!id) return message('error', 'Choose a draft to delete. 请选择要删除的草稿。');
  if (!window.confirm(`Delete draft #${id}? 删除草稿 #${id}？`)) return;
  await busy(async () => {
    try {
      await api.del(`/v1/drafts/${encodeURIComponent(id)}`);
      if (state.draft && String(state.draft.id) === String(id)) closeDraftView();
      showInfo(`已删除草稿 Deleted draft #${id}`);
      await loadDrafts();
      state.operations++;
    } catch (e) {
      showError(e, `Deleting draft ${id}`);
    }
  });
};

// ---------------------------------------------------------------------------------------------
// Selection and attributes

let selectionSeq = 0;

async function select(code) {
  state.selected = code;
  const seq = ++selectionSeq;
  const card = $('selection-card');
  card.hidden = false;
  $('sel-code').textContent = code;
  $('sel-counts').innerHTML = '<span class="muted">案件统计中 counting cases…</span>';
  let props = state.draft && state.features.get(code) ? state.features.get(code).properties : null;
  if (!props) {
    try {
      const f = await api.get(`/collections/grids/items/${encodeURIComponent(code)}`);
      props = f.properties || {};
    } catch (e) {
      if (seq === selectionSeq) showError(e, `Reading grid ${code}`);
      props = { code };
    }
  }
  if (seq !== selectionSeq) return;
  renderAttributes(props);
  state.selectedInfo = { code, properties: props, total: null, open: null };
  try {
    const q = `/collections/incidents/items?grid=${encodeURIComponent(code)}&limit=1`;
    const [all, open] = await Promise.all([api.get(q), api.get(`${q}&status=${OPEN_STATUSES.join(',')}`)]);
    if (seq !== selectionSeq) return;
    state.selectedInfo = { code, properties: props, total: all.numberMatched ?? null, open: open.numberMatched ?? null };
    $('sel-counts').innerHTML =
      `<div class="count open"><b id="sel-open">${escapeHtml(open.numberMatched ?? '?')}</b><span>未结案件 open cases</span></div>` +
      `<div class="count"><b id="sel-total">${escapeHtml(all.numberMatched ?? '?')}</b><span>案件总数 all cases</span></div>`;
  } catch (e) {
    if (seq !== selectionSeq) return;
    $('sel-counts').innerHTML = '';
    showError(e, `Counting the cases of ${code}`);
  }
}

const ATTR_LABELS = {
  code: '编码 code', name: '名称 name', parent: '上级 parent', population: '人口 population', households: '户数 households',
  town: '街镇 town', community: '社区 community', revision: '修订 revision', version: '版本 version',
};

function renderAttributes(props) {
  const keys = Object.keys(props);
  const order = ['code', 'name', 'parent', 'community', 'town', 'population', 'households', 'revision', 'version'];
  keys.sort((a, b) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b));
  $('sel-attrs').innerHTML = keys
    .filter((k) => k !== 'etag' && props[k] !== null && typeof props[k] !== 'object')
    .map((k) => `<tr><th>${escapeHtml(ATTR_LABELS[k] || k)}</th><td>${escapeHtml(props[k])}</td></tr>`)
    .join('');
}

function clearSelection() {
  state.selected = null;
  state.selectedInfo = null;
  $('selection-card').hidden = true;
}

// ---------------------------------------------------------------------------------------------
// Tools

const TOOL_HINTS = {
  select: '点击网格查看属性 · Click a grid to see its attributes and cases.',
  split: '点击要拆分的网格 · Click the grid to split.',
  merge: '依次点击两个相邻网格，然后执行 · Click two adjacent grids, then Apply.',
  move: '点击两个相邻网格 · Click two neighbouring grids whose shared boundary you will redraw.',
};
const DRAW_HINT =
  '在地图上逐点画线，再次点击最后一点（或按回车/完成）结束 · Click points on the map; click the last point again (or Enter / Finish line) to end.';

function setHint(text, drawing = false) {
  const h = $('tool-hint');
  h.textContent = text;
  h.classList.toggle('drawing', drawing);
}

function renderTool() {
  for (const b of document.querySelectorAll('.tool')) b.classList.toggle('active', b.dataset.tool === state.tool);
  $('tool-apply').hidden = !(state.tool === 'merge' && state.picked.length === 2 && !state.drawing);
  $('tool-finish').hidden = !state.drawing;
  $('tool-cancel').hidden = state.tool === 'select' && !state.drawing;
  if (!state.drawing) {
    let hint = TOOL_HINTS[state.tool];
    if (state.tool === 'merge' && state.picked.length) hint = `已选 picked: ${state.picked.join(' + ')}${state.picked.length === 2 ? ' → 执行 Apply' : ' · 再选一个 pick one more'}`;
    if (state.tool === 'move' && state.picked.length === 1) hint = `已选 picked: ${state.picked[0]} · 再点击其相邻网格 click its neighbour`;
    setHint(hint);
  }
  if (styleReady) refreshFilters();
}

function stopDrawing() {
  state.drawing = false;
  if (draw) {
    draw.setMode('static');
    draw.clear();
  }
  map.doubleClickZoom.enable();
}

function startDrawing(hint) {
  if (!draw) return message('error', 'The drawing tool is not ready yet.');
  state.drawing = true;
  map.doubleClickZoom.disable();
  draw.clear();
  draw.setMode('linestring');
  setHint(hint || DRAW_HINT, true);
  renderTool();
}

function cancelTool() {
  stopDrawing();
  state.tool = 'select';
  state.picked = state.selected ? [state.selected] : [];
  renderTool();
}

function setTool(tool) {
  if (tool !== 'select' && !state.draft) {
    message('error', '请先打开或新建草稿 · Open or create a draft first.');
    return;
  }
  stopDrawing();
  state.tool = tool;
  // Split works on the selected grid right away; merge and move start with an empty pick.
  if (tool === 'select') state.picked = state.selected ? [state.selected] : [];
  else if (tool === 'split') state.picked = state.selected && state.features.has(state.selected) ? [state.selected] : [];
  else state.picked = [];
  renderTool();
  if (tool === 'split' && state.picked.length === 1) startDrawing(`拆分 Split ${state.picked[0]}: ${DRAW_HINT}`);
}

for (const b of document.querySelectorAll('.tool')) b.onclick = () => setTool(b.dataset.tool);
$('tool-cancel').onclick = () => cancelTool();
$('tool-finish').onclick = () => {
  // terra-draw finishes a line on its finish key (Enter) on the map canvas.
  const canvas = map.getCanvas();
  canvas.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true }));
  canvas.dispatchEvent(new KeyboardEvent('keyup', { key: 'Enter', bubbles: true }));
};
$('tool-apply').onclick = () => {
  if (state.tool === 'merge' && state.picked.length === 2) runMerge(state.picked[0], state.picked[1]);
};

function onGridClick(code) {
  if (state.tool === 'select') {
    state.picked = [code];
    renderTool();
    select(code);
    return;
  }
  if (!state.features.has(code)) return;
  if (state.tool === 'split') {
    state.picked = [code];
    select(code);
    startDrawing(`拆分 Split ${code}: ${DRAW_HINT}`);
    return;
  }
  // merge and move: pick two grids
  const i = state.picked.indexOf(code);
  if (i >= 0) state.picked.splice(i, 1);
  else if (state.picked.length < 2) state.picked.push(code);
  else state.picked = [state.picked[1], code];
  select(code);
  renderTool();
  if (state.tool === 'move' && state.picked.length === 2) {
    startDrawing(
      `调整边界 Move the boundary of ${state.picked[0]} | ${state.picked[1]}: draw the new shared boundary across the pair, ` +
        `from their outer edge to their outer edge (points snap to the grids' corners). ${DRAW_HINT}`,
    );
  }
}

// The click that finishes a line reaches MapLibre after terra-draw has handled it: ignore it.
let lastDrawEnd = 0;

map.on('click', (e) => {
  if (state.drawing || performance.now() - lastDrawEnd < 600) return;
  const layers = state.draft ? ['draft-fill'] : ['grids-fill'];
  const hits = map.queryRenderedFeatures(e.point, { layers });
  if (!hits.length) return;
  const code = String(hits[0].properties.code);
  onGridClick(code);
});
map.on('mousemove', (e) => {
  if (state.drawing) return;
  const layers = state.draft ? ['draft-fill'] : ['grids-fill'];
  const hit = map.getLayer(layers[0]) && map.queryRenderedFeatures(e.point, { layers }).length > 0;
  map.getCanvas().style.cursor = hit ? 'pointer' : '';
});

/** While drawing, snap to a vertex of the picked grids within 12 pixels (exact boundary points). */
function snapToPicked(event) {
  let best = null;
  let bestD = 12;
  for (const code of state.picked) {
    const f = state.features.get(code);
    if (!f || !f.geometry) continue;
    const polys = f.geometry.type === 'Polygon' ? [f.geometry.coordinates] : f.geometry.type === 'MultiPolygon' ? f.geometry.coordinates : [];
    for (const poly of polys)
      for (const ring of poly)
        for (const c of ring) {
          const p = map.project(c);
          const d = Math.hypot(p.x - event.containerX, p.y - event.containerY);
          if (d < bestD) {
            bestD = d;
            best = c;
          }
        }
  }
  return best ? [best[0], best[1]] : undefined;
}

function onLineFinished(id) {
  if (!state.drawing) return;
  const f = draw.getSnapshotFeature(id);
  const line = f && f.geometry;
  lastDrawEnd = performance.now();
  stopDrawing();
  if (!line || line.type !== 'LineString' || line.coordinates.length < 2) {
    message('error', 'The line needs at least two points. 线至少需要两个点。');
    renderTool();
    return;
  }
  const geometry = { type: 'LineString', coordinates: line.coordinates.map((c) => [c[0], c[1]]) };
  if (state.tool === 'split' && state.picked.length === 1) runSplit(state.picked[0], geometry);
  else if (state.tool === 'move' && state.picked.length === 2) runMove(state.picked[0], state.picked[1], geometry);
  renderTool();
}

// ---------------------------------------------------------------------------------------------
// Operations

function applyResult(op, result) {
  const changed = [];
  const fc = result && result.changed;
  const features = fc ? (Array.isArray(fc) ? fc : fc.features || []) : [];
  for (const f of features) {
    const code = putFeature(f);
    changed.push(code);
    state.changed.add(code);
  }
  const removed = (result && result.removed) || [];
  for (const code of removed) {
    state.features.delete(String(code));
    state.etags.delete(String(code));
    state.changed.delete(String(code));
  }
  state.lastOperation = { op, changed, removed };
  state.operations++;
  if (state.selected && removed.includes(state.selected)) clearSelection();
  state.picked = state.picked.filter((c) => state.features.has(c));
  setDraftData();
  refreshFilters();
  renderDraftInfo();
  // The draft changed: earlier findings no longer describe it.
  if (state.findings) {
    $('findings-summary').innerHTML += ' <span class="muted">(草稿已修改，请重新校验 the draft changed: validate again)</span>';
  }
  return { changed, removed };
}

async function runOperation(op, label, body, codes) {
  if (!state.draft) return message('error', '请先打开草稿 · Open a draft first.');
  const ifMatch = codes.map((c) => state.etags.get(c)).filter(Boolean);
  return busy(async () => {
    try {
      const result = await api.post(`/v1/drafts/${state.draft.id}/${op}`, body, ifMatch);
      const { changed, removed } = applyResult(op, result);
      try {
        state.draft = await api.get(`/v1/drafts/${state.draft.id}`); // its new revision
      } catch {
        /* the edit is done; the revision is only used to notice other planners' edits */
      }
      showInfo(`${label}: ${changed.length ? 'changed ' + changed.join(', ') : ''}${removed.length ? '; removed ' + removed.join(', ') : ''}`);
      return { changed, removed };
    } catch (e) {
      showError(e, label);
      if (e instanceof ApiError && (e.status === 412 || e.status === 428)) {
        try {
          state.draft = await api.get(`/v1/drafts/${state.draft.id}`);
          await reloadDraftFeatures();
          message('error', '草稿已被他人修改，已重新加载 · The draft was changed by someone else; it has been reloaded — try again.');
        } catch (e2) {
          showError(e2, 'Reloading the draft');
        }
      }
      return null;
    }
  });
}

async function runSplit(code, line) {
  const r = await runOperation('split', `拆分 Split ${code}`, { code, line }, [code]);
  state.tool = 'select';
  if (r) {
    state.picked = r.changed.filter((c) => state.features.has(c));
    select(code);
  }
  renderTool();
}

async function runMerge(a, b) {
  const r = await runOperation('merge', `合并 Merge ${a} + ${b}`, { codes: [a, b] }, [a, b]);
  if (r) {
    state.tool = 'select';
    state.picked = [a];
    select(a);
  }
  renderTool();
}

async function runMove(a, b, line) {
  const r = await runOperation('move-boundary', `调整边界 Move boundary ${a} | ${b}`, { a, b, line }, [a, b]);
  state.tool = 'select';
  if (r) {
    state.picked = [a, b];
    select(a);
  }
  renderTool();
}

// ---------------------------------------------------------------------------------------------
// Validation

function findingCodes(f) {
  const c = f.properties && f.properties.codes;
  return Array.isArray(c) ? c.map(String) : c ? [String(c)] : [];
}

function findingBbox(f) {
  let b = geometryBbox(f.geometry);
  if (!b) {
    for (const code of findingCodes(f)) {
      const g = state.features.get(code);
      const gb = g && geometryBbox(g.geometry);
      if (gb) b = b ? [Math.min(b[0], gb[0]), Math.min(b[1], gb[1]), Math.max(b[2], gb[2]), Math.max(b[3], gb[3])] : gb;
    }
  }
  if (b && b[0] === b[2] && b[1] === b[3]) b = [b[0] - 0.002, b[1] - 0.002, b[2] + 0.002, b[3] + 0.002];
  return b;
}

function renderFindings(result) {
  const fc = result.findings || EMPTY;
  const features = fc.features || [];
  state.findings = fc;
  map.getSource('findings').setData(fc);
  $('findings-card').hidden = false;
  const errors = result.errors ?? features.filter((f) => f.properties && f.properties.severity === 'error').length;
  const warnings = result.warnings ?? features.filter((f) => f.properties && f.properties.severity === 'warning').length;
  $('findings-summary').innerHTML =
    errors === 0 && warnings === 0
      ? '<span class="ok">✓ 无问题 No findings: the draft is a valid coverage.</span>'
      : `<span class="n-err">${errors} 错误 errors</span> · <span class="n-warn">${warnings} 警告 warnings</span>` +
        (errors ? ' <span class="muted">(发布前须修正 fix errors before publishing)</span>' : '');
  const list = $('findings-list');
  list.innerHTML = '';
  // Errors first.
  const sorted = [...features].sort((a, b) => (a.properties.severity === 'error' ? 0 : 1) - (b.properties.severity === 'error' ? 0 : 1));
  for (const f of sorted) {
    const p = f.properties || {};
    const li = document.createElement('li');
    li.className = p.severity === 'error' ? 'error' : 'warning';
    li.tabIndex = 0;
    const codes = findingCodes(f);
    li.innerHTML =
      `<span class="rule">${p.severity === 'error' ? '错误' : '警告'} ${escapeHtml(p.rule || '')}</span> ` +
      `${escapeHtml(p.message || '')}${codes.length ? `<div class="codes">${escapeHtml(codes.join(', '))}</div>` : ''}`;
    const go = () => {
      fitTo(findingBbox(f), codes[0]);
      if (codes.length && state.features.has(codes[0])) {
        state.picked = codes.filter((c) => state.features.has(c)).slice(0, 2);
        renderTool();
        select(codes[0]);
      }
    };
    li.onclick = go;
    li.onkeydown = (e) => e.key === 'Enter' && go();
    list.appendChild(li);
  }
}

$('btn-validate').onclick = async () => {
  if (!state.draft) return message('error', '请先打开草稿 · Open a draft first.');
  await busy(async () => {
    try {
      await syncDraft();
      const result = await api.post(`/v1/drafts/${state.draft.id}/validate`, {});
      state.lastValidation = result;
      renderFindings(result);
      state.operations++;
    } catch (e) {
      showError(e, '校验 Validate');
    }
  });
};

// ---------------------------------------------------------------------------------------------
// Publish

function movesTable(moves) {
  if (!moves || !moves.length) return '';
  const rows = moves
    .map((m) => `<tr><td class="mono">${escapeHtml(m.from)}</td><td>→</td><td class="mono">${escapeHtml(m.to)}</td><td>${escapeHtml(m.count)}</td></tr>`)
    .join('');
  return `<table><tr><th>原网格 from</th><th></th><th>新网格 to</th><th>案件 cases</th></tr>${rows}</table>`;
}

$('btn-publish').onclick = async () => {
  if (!state.draft) return message('error', '请先打开草稿 · Open a draft first.');
  let preview;
  await busy(async () => {
    try {
      await syncDraft();
      preview = await api.get(`/v1/drafts/${state.draft.id}/preview`);
    } catch (e) {
      showError(e, '发布预览 Publish preview');
    }
  });
  if (!preview) return;
  state.lastPreview = preview;
  const n = preview.incidents_to_move ?? 0;
  const changed = preview.changed || [];
  $('publish-summary').innerHTML =
    `<b id="publish-count">${escapeHtml(n)}</b> 个未结案件将移入新网格 · <b>${escapeHtml(n)}</b> open incidents will move to new grids.` +
    `<br><span class="muted">${changed.length} 个网格变更 grids changed${changed.length ? ': ' + escapeHtml(changed.slice(0, 8).join(', ')) + (changed.length > 8 ? ' …' : '') : ''}</span>`;
  $('publish-moves').innerHTML = movesTable(preview.moves);
  const dialog = $('publish-dialog');
  dialog.returnValue = '';
  dialog.showModal();
};

$('publish-dialog').addEventListener('close', async () => {
  if ($('publish-dialog').returnValue !== 'confirm' || !state.draft) return;
  const note = $('publish-note').value.trim() || `draft #${state.draft.id} ${state.draft.name || ''}`.trim();
  const draft = state.draft;
  await busy(async () => {
    try {
      const report = await api.post(`/v1/drafts/${draft.id}/publish`, { note });
      state.lastReport = report;
      state.operations++;
      $('report-card').hidden = false;
      $('report').innerHTML =
        `<p class="big">✓ 已发布 Published <b>${escapeHtml(report.layer || draft.layer)}</b> version <b id="report-version">${escapeHtml(report.version)}</b></p>` +
        `<p><b id="report-moved">${escapeHtml(report.moved ?? 0)}</b> 个未结案件已移入新网格 · open incidents moved to new grids.</p>` +
        movesTable(report.moves || (state.lastPreview && state.lastPreview.moves));
      showInfo(`已发布 Published ${report.layer || draft.layer} v${report.version}; ${report.moved ?? 0} incidents moved`);
      $('publish-note').value = '';
      closeDraftView();
      refreshTiles();
      await loadDrafts();
    } catch (e) {
      showError(e, '发布 Publish');
      if (e instanceof ApiError && e.code === 'validation_failed') $('btn-validate').click();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Finding a grid by its code

$('grid-search').addEventListener('keydown', async (e) => {
  if (e.key !== 'Enter') return;
  // One code, or several (separated by spaces or commas): the map shows them all, the first is selected.
  const codes = e.target.value.split(/[\s,，]+/).filter(Boolean);
  if (!codes.length) return;
  let box = null;
  for (const code of codes) {
    let geometry = state.draft && state.features.get(code) ? state.features.get(code).geometry : null;
    if (!geometry) {
      try {
        const f = await api.get(`/collections/grids/items/${encodeURIComponent(code)}`);
        geometry = f.geometry;
      } catch (err) {
        showError(err, `网格 Grid ${code}`);
        return;
      }
    }
    const b = geometryBbox(geometry);
    if (b) box = box ? [Math.min(box[0], b[0]), Math.min(box[1], b[1]), Math.max(box[2], b[2]), Math.max(box[3], b[3])] : b;
  }
  fitTo(box, codes.join(','));
  if (state.tool === 'select' || !state.draft) {
    state.picked = [codes[0]];
    renderTool();
  }
  select(codes[0]);
});

// ---------------------------------------------------------------------------------------------
// Start

async function fitDistrict() {
  try {
    const c = await api.get('/collections/district');
    const b = c.extent && c.extent.spatial && c.extent.spatial.bbox && c.extent.spatial.bbox[0];
    if (b) map.fitBounds([[b[0], b[1]], [b[2], b[3]]], { padding: PANEL_PADDING, duration: 0 });
  } catch (e) {
    showError(e, 'Reading the district extent');
  }
}

const ready = (async () => {
  await loaded;
  draw = new TerraDraw({
    adapter: new TerraDrawMapLibreGLAdapter({ map }),
    modes: [
      new TerraDrawLineStringMode({
        snapping: { toCustom: snapToPicked },
        styles: {
          lineStringColor: '#d81b60', lineStringWidth: 3,
          closingPointColor: '#ffffff', closingPointOutlineColor: '#d81b60', closingPointWidth: 6, closingPointOutlineWidth: 2,
        },
      }),
    ],
  });
  draw.start();
  draw.setMode('static');
  draw.on('finish', (id) => onLineFinished(id));
  renderTool();
  await Promise.all([fitDistrict(), checkToken()]);
  await loadDrafts();
  const wanted = new URLSearchParams(window.location.search).get('draft');
  if (wanted) await openDraft(wanted);
  return true;
})();

const readOnly = (o) =>
  new Proxy(o, {
    set() {
      throw new TypeError('planner.state is read-only');
    },
    deleteProperty() {
      throw new TypeError('planner.state is read-only');
    },
  });

window.planner = Object.freeze({ map, ready, state: readOnly(state), whenIdle, findingLayers: FINDING_LAYERS });
