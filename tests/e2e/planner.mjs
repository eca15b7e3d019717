// Browser test of the planner (issue 7): open /planner/, create a draft, select a grid with open
// cases, split it by drawing a line on the map, validate, publish with the confirmation; then check
// through the API that the grids layer has a new version with one more grid and that open cases of
// the split-off part were re-assigned (a "reassign" event in their history). Everything on the page
// is done by real clicks and key presses; window.planner is only read (map.project for pixels,
// state to wait for replies). A screenshot is kept in tests/e2e/artifacts/planner.png.
import {
  URL_BASE, env, log, assert, launch, openPage, waitPlannerReady, waitIdle, apiFetch, screenshot,
  interiorPoints, contains, bbox, clickLngLat,
} from './lib.mjs';

const PLANNER = env('ONEGRID_TOKEN_PLANNER');
const ADMIN = env('ONEGRID_TOKEN_ADMIN');
const OPEN = 'reported,registered,dispatched,accepted,returned,handled,rework';

// ---------------------------------------------------------------------------------------------
// Preparation through the API: a grid with open cases, a split line across it, and open cases on
// both sides of the line (so that whichever part gets the new code, some open case must move).

async function openIncidentsByGrid() {
  const counts = new Map();
  for (let offset = 0; ; offset += 1000) {
    const fc = await apiFetch(`/collections/incidents/items?status=${OPEN}&limit=1000&offset=${offset}`, { token: ADMIN });
    for (const f of fc.features) {
      const g = f.properties.grid;
      if (g) counts.set(g, (counts.get(g) || 0) + 1);
    }
    if (fc.features.length < 1000) break;
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]);
}

/** Where a vertical line at longitude x crosses the polygon's rings: the latitudes, sorted. */
function verticalCrossings(geometry, x) {
  const ys = [];
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  for (const poly of polys)
    for (const ring of poly)
      for (let i = 1; i < ring.length; i++) {
        const [x1, y1] = ring[i - 1];
        const [x2, y2] = ring[i];
        if ((x1 <= x && x < x2) || (x2 <= x && x < x1)) ys.push(y1 + ((x - x1) * (y2 - y1)) / (x2 - x1));
      }
  return ys.sort((a, b) => a - b);
}

/** A grid we can split with a north–south line through its middle that crosses it exactly once. */
function planSplit(grid) {
  const g = grid.geometry;
  const polys = g.type === 'Polygon' ? 1 : g.coordinates.length;
  if (polys !== 1) return null;
  const [x0, , x1] = bbox(g);
  const deepest = interiorPoints(g, { n: 40, where: (p) => Math.abs(p[0] - (x0 + x1) / 2) < (x1 - x0) * 0.15 })[0];
  if (!deepest) return null;
  const x = deepest.p[0];
  const ys = verticalCrossings(g, x);
  if (ys.length !== 2) return null; // the line would cut the grid into more than two parts
  const margin = 25; // metres from the boundary and from the line
  const kx = 111320 * Math.cos((deepest.p[1] * Math.PI) / 180);
  const away = (p) => Math.abs(p[0] - x) * kx > margin;
  const west = interiorPoints(g, { n: 30, margin, where: (p) => p[0] < x && away(p) });
  const east = interiorPoints(g, { n: 30, margin, where: (p) => p[0] > x && away(p) });
  if (west.length < 2 || east.length < 2) return null;
  return { x, south: ys[0], north: ys[1], middle: deepest.p, west: [west[0].p, west[Math.floor(west.length / 2)].p], east: [east[0].p, east[Math.floor(east.length / 2)].p] };
}

async function prepare() {
  const before = await apiFetch('/collections/grids/items?limit=1');
  const byGrid = await openIncidentsByGrid();
  log(`open cases in ${byGrid.length} grids; the most: ${byGrid.slice(0, 5).map(([g, n]) => `${g}:${n}`).join(' ')}`);
  let chosen = null;
  for (const [code, open] of byGrid.slice(0, 40)) {
    const grid = await apiFetch(`/collections/grids/items/${code}`);
    const plan = planSplit(grid);
    if (plan) {
      chosen = { code, open, grid, plan };
      break;
    }
  }
  assert(chosen, 'a grid with open cases that a straight line can split');
  const { code, grid, plan } = chosen;
  log(`grid ${code} (${grid.properties.name}): ${chosen.open} open cases; split along longitude ${plan.x.toFixed(6)}`);

  // Two more open cases on each side of the line, reported through the API like any other.
  const categories = await apiFetch('/v1/categories', { token: ADMIN });
  const category = (categories.find((c) => !c.plugin) || categories[0]).code;
  const created = [];
  for (const p of [...plan.west, ...plan.east]) {
    const r = await apiFetch('/v1/incidents', {
      token: ADMIN, method: 'POST',
      json: { category, lon: p[0], lat: p[1], crs: 'cgcs2000', description: 'e2e planner test: a case in the grid to split', request_id: `e2e-planner-${code}-${p[0]}-${p[1]}` },
    });
    assert(r.grid === code, `the new case ${r.id} is in grid ${code} (got ${r.grid})`);
    created.push({ id: r.id, lonlat: p, side: p[0] < plan.x ? 'west' : 'east' });
  }
  const open = await apiFetch(`/collections/incidents/items?grid=${code}&status=${OPEN}&limit=1000`, { token: ADMIN });
  const closed = await apiFetch(`/collections/incidents/items?grid=${code}&status=closed,rated,voided&limit=1000`, { token: ADMIN });
  log(`grid ${code} now has ${open.numberMatched} open and ${closed.numberMatched} closed cases`);
  return { code, grid, plan, created, openIds: open.features.map((f) => f.id), closedIds: closed.features.map((f) => f.id), gridsBefore: before.numberMatched };
}

// ---------------------------------------------------------------------------------------------
// Page helpers

const errorCount = (page) => page.evaluate(() => window.planner.state.messages.filter((m) => m.level === 'error').length);

/** Waits until state.operations passes `before`; fails with the page's message if an error shows up first. */
async function waitOperation(page, before, what, timeout = 120_000) {
  const errors = await errorCount(page);
  const handle = await page.waitForFunction(
    ([n, e]) => {
      const s = window.planner.state;
      const errs = s.messages.filter((m) => m.level === 'error');
      if (errs.length > e) return { error: errs[errs.length - 1].text };
      if (s.operations > n && s.busy === 0) return { ok: true };
      return false;
    },
    [before, errors],
    { timeout, polling: 200 },
  );
  const r = await handle.jsonValue();
  if (r.error) throw new Error(`${what}: the page shows an error: ${r.error}`);
}

const operations = (page) => page.evaluate(() => window.planner.state.operations);

async function project(page, lngLat) {
  return page.evaluate(([lng, lat]) => {
    const p = window.planner.map.project([lng, lat]);
    return { x: p.x, y: p.y };
  }, lngLat);
}

async function unproject(page, xy) {
  return page.evaluate(({ x, y }) => {
    const l = window.planner.map.unproject([x, y]);
    return [l.lng, l.lat];
  }, xy);
}

// ---------------------------------------------------------------------------------------------

const prep = await prepare();
const { code, plan } = prep;

const browser = await launch();
let page;
let failure = null;
let record;
try {
  const opened = await openPage(browser);
  page = opened.page;
  record = opened.record;

  log('open /planner/');
  await page.goto(`${URL_BASE}/planner/?token=${encodeURIComponent(PLANNER)}`, { waitUntil: 'load' });
  await waitPlannerReady(page);
  log('map ready and idle');

  // 1. Create a draft of the grids.
  let ops = await operations(page);
  await page.fill('#draft-name', `e2e: split ${code}`);
  await page.click('#draft-create');
  await waitOperation(page, ops, 'creating the draft');
  await page.waitForFunction(() => window.planner.state.draft && window.planner.state.features.size > 1000 && window.planner.state.busy === 0, null, { timeout: 120_000 });
  const draft = await page.evaluate(() => ({ ...window.planner.state.draft, size: window.planner.state.features.size }));
  log(`draft #${draft.id} "${draft.name}" opened with ${draft.size} grids (base version ${draft.base_version})`);
  assert(draft.size === prep.gridsBefore, `the draft has all ${prep.gridsBefore} grids`);

  // 2. Find the grid by its code (the map zooms to it) and select it with a click inside it.
  await page.fill('#grid-search', code);
  await page.press('#grid-search', 'Enter');
  await page.waitForFunction((c) => window.planner.state.lastFocus === c, code, { timeout: 60_000 });
  await waitIdle(page);
  await page.click('#tool-select');
  await clickLngLat(page, plan.middle);
  await page.waitForFunction((c) => window.planner.state.selected === c, code, { timeout: 30_000 });
  await page.waitForSelector('#sel-open', { timeout: 60_000 });
  const shownOpen = Number(await page.textContent('#sel-open'));
  log(`selected ${code}: the page shows ${shownOpen} open / ${await page.textContent('#sel-total')} cases`);
  assert(shownOpen === prep.openIds.length, `the page shows the grid's ${prep.openIds.length} open cases (got ${shownOpen})`);

  // 3. Split: the tool starts drawing on the selected grid; click a line from north of the grid,
  //    through its middle, to south of it, and click the last point again to finish.
  await page.click('#tool-split');
  await page.waitForFunction(() => window.planner.state.drawing === true, null, { timeout: 10_000 });
  const size = await page.evaluate(() => {
    const c = window.planner.map.getContainer();
    return { w: c.clientWidth, h: c.clientHeight };
  });
  const north = await project(page, [plan.x, plan.north]);
  const south = await project(page, [plan.x, plan.south]);
  const beyond = 30; // pixels past the grid's boundary (still well inside the map view)
  const startXY = { x: north.x, y: Math.max(8, north.y - beyond) };
  const endXY = { x: south.x, y: Math.min(size.h - 8, south.y + beyond) };
  assert(startXY.y < north.y - 5 && endXY.y > south.y + 5, `the line's ends lie outside the grid on screen (${JSON.stringify({ north, south, size })})`);
  const start = await unproject(page, startXY);
  const end = await unproject(page, endXY);
  assert(!contains(prep.grid.geometry, start) && !contains(prep.grid.geometry, end), 'the line starts and ends outside the grid');
  log(`drawing the split line: ${JSON.stringify(startXY)} → middle → ${JSON.stringify(endXY)}`);
  ops = await operations(page);
  await clickLngLat(page, start);
  await page.waitForTimeout(150);
  await clickLngLat(page, plan.middle);
  await page.waitForTimeout(150);
  await clickLngLat(page, end);
  await page.waitForTimeout(150);
  await clickLngLat(page, end); // clicking the last point again finishes the line
  await waitOperation(page, ops, 'splitting');
  const split = await page.evaluate(() => {
    const s = window.planner.state;
    return { op: s.lastOperation, size: s.features.size, tool: s.tool, drawing: s.drawing };
  });
  assert(split.tool === 'select' && !split.drawing, `after the split the page is back in the Select tool (${split.tool}, drawing ${split.drawing})`);
  log(`split: ${JSON.stringify(split.op)}; the draft has ${split.size} grids`);
  assert(split.op.op === 'split', 'the last operation is the split');
  assert(split.size === prep.gridsBefore + 1, `the draft has one grid more (${split.size})`);
  const newCodes = split.op.changed.filter((c) => c !== code);
  assert(split.op.changed.includes(code) && newCodes.length === 1, `the split changed ${code} and made one new grid (${split.op.changed})`);
  const newCode = newCodes[0];
  const items = await apiFetch(`/collections/draft-${draft.id}/items?limit=1`, { token: PLANNER });
  assert(items.numberMatched === prep.gridsBefore + 1, `the draft collection has ${prep.gridsBefore + 1} grids (API: ${items.numberMatched})`);
  const newGrid = await apiFetch(`/collections/draft-${draft.id}/items/${newCode}`, { token: PLANNER });
  log(`new grid ${newCode}: ${newGrid.properties.name}, revision ${newGrid.properties.revision}`);
  await waitIdle(page);

  // 4. Validate: the findings are listed (and drawn); no errors may remain.
  ops = await operations(page);
  await page.click('#btn-validate');
  await waitOperation(page, ops, 'validating');
  await page.waitForSelector('#findings-card:not([hidden])');
  const validation = await page.evaluate(() => {
    const v = window.planner.state.lastValidation;
    return { errors: v.errors, warnings: v.warnings, findings: v.findings.features.length, listed: document.querySelectorAll('#findings-list li').length, summary: document.querySelector('#findings-summary').textContent };
  });
  log(`validation: ${validation.errors} errors, ${validation.warnings} warnings; ${validation.listed} listed; "${validation.summary}"`);
  assert(validation.listed === validation.findings, `every finding is listed (${validation.listed} of ${validation.findings})`);
  assert(validation.summary.length > 0, 'the findings summary is shown');
  if (validation.errors > 0) {
    const errs = await page.$$eval('#findings-list li.error', (lis) => lis.map((li) => li.textContent));
    throw new Error(`validation found errors after a clean split: ${errs.slice(0, 5).join(' | ')}`);
  }
  if (validation.findings > 0) {
    // Clicking a finding zooms to it.
    await page.click('#findings-list li >> nth=0');
    await page.waitForFunction(() => window.planner.state.lastFocus !== null, null, { timeout: 30_000 });
    await waitIdle(page);
    const drawn = await page.evaluate(() => window.planner.map.queryRenderedFeatures(undefined, { layers: window.planner.findingLayers }).length);
    log(`after clicking the first finding: ${drawn} finding features drawn in view`);
    assert(drawn > 0, 'the finding is drawn on the map');
  }

  // 5. Publish: the confirmation says how many open cases will move; confirm; the report shows.
  await page.click('#btn-publish');
  await page.waitForSelector('#publish-dialog[open]', { timeout: 60_000 });
  const summary = await page.textContent('#publish-summary');
  const preview = await page.evaluate(() => window.planner.state.lastPreview);
  const toMove = Number(await page.textContent('#publish-count'));
  log(`confirmation: "${summary.trim()}"`);
  assert(toMove === preview.incidents_to_move, 'the dialog shows the preview count');
  assert(/open incidents will move to new grids/.test(summary), 'the dialog says how many open incidents will move');
  assert(toMove >= 2, `at least the 2 cases reported on the split-off side will move (${toMove})`);
  assert(preview.changed.includes(code) && preview.changed.includes(newCode), `the preview lists ${code} and ${newCode} as changed`);
  await screenshot(page, 'planner-confirm.png');
  ops = await operations(page);
  await page.fill('#publish-note', `e2e: split ${code}`);
  await page.click('#publish-confirm');
  await waitOperation(page, ops, 'publishing', 180_000);
  await page.waitForSelector('#report-card:not([hidden]) #report-version');
  const report = await page.evaluate(() => window.planner.state.lastReport);
  log(`publish report: ${JSON.stringify(report)}`);
  assert(report.version === draft.base_version + 1, `version ${draft.base_version + 1} was published (${report.version})`);
  assert(Number(await page.textContent('#report-version')) === report.version, 'the report shows the version');
  assert(report.moved === toMove, `the report's moved count (${report.moved}) is the confirmation's (${toMove})`);
  await waitIdle(page);

  // 6. The API agrees: one more grid, the new version, and the split-off cases re-assigned.
  const after = await apiFetch('/collections/grids/items?limit=1');
  assert(after.numberMatched === prep.gridsBefore + 1, `the grids layer has ${prep.gridsBefore + 1} grids (API: ${after.numberMatched})`);
  const coll = await apiFetch('/collections/grids');
  log(`/collections/grids: "${coll.description}"`);
  assert(coll.description.includes(`version ${report.version}`), `the grids collection is at version ${report.version}`);
  const published = await apiFetch(`/collections/grids/items/${newCode}`);
  assert(published.properties.code === newCode, `the new grid ${newCode} is published`);

  const moved = [];
  const stayed = [];
  for (const id of prep.openIds) {
    const i = await apiFetch(`/v1/incidents/${id}`, { token: PLANNER });
    const events = i.history || i.events || [];
    const reassign = events.filter((e) => e.action === 'reassign');
    if (reassign.length) moved.push({ id, grid: i.grid });
    else stayed.push({ id, grid: i.grid });
  }
  log(`open cases of ${code}: moved ${JSON.stringify(moved)}; stayed ${JSON.stringify(stayed)}`);
  assert(moved.length >= 1, 'at least one open case of the split grid has a "reassign" event');
  assert(moved.length === report.moved, `every moved case has a "reassign" event (${moved.length} of ${report.moved})`);
  for (const m of moved) assert(m.grid === newCode, `case ${m.id} moved to the new grid ${newCode} (it is in ${m.grid})`);
  for (const s of stayed) assert(s.grid === code, `case ${s.id} stayed in ${code} (it is in ${s.grid})`);
  const sides = new Set(prep.created.filter((c) => moved.some((m) => m.id === c.id)).map((c) => c.side));
  assert(sides.size === 1, 'the moved cases reported by the test all lie on one side of the line');
  for (const id of prep.closedIds.slice(0, 10)) {
    const i = await apiFetch(`/v1/incidents/${id}`, { token: PLANNER });
    assert(i.grid === code && !(i.history || []).some((e) => e.action === 'reassign'), `closed case ${id} keeps its historical grid`);
  }

  // 7. On the page: find the new grid, click inside it; it holds the moved open cases.
  const movedSide = [...sides][0];
  const inNew = plan[movedSide][0];
  await page.fill('#grid-search', newCode);
  await page.press('#grid-search', 'Enter');
  await page.waitForFunction((c) => window.planner.state.lastFocus === c, newCode, { timeout: 60_000 });
  await waitIdle(page);
  await clickLngLat(page, inNew);
  await page.waitForFunction((c) => window.planner.state.selectedInfo && window.planner.state.selectedInfo.code === c && window.planner.state.selectedInfo.open !== null, newCode, { timeout: 60_000 });
  const newOpen = Number(await page.textContent('#sel-open'));
  log(`published grid ${newCode} selected on the map: ${newOpen} open cases shown`);
  assert(newOpen === report.moved, `the new grid shows the ${report.moved} moved open cases (${newOpen})`);
  const tilesShowNew = await page.evaluate((c) => window.planner.map.queryRenderedFeatures(undefined, { layers: ['grids-line'], filter: ['==', ['get', 'code'], c] }).length, newCode);
  assert(tilesShowNew > 0, `the map's grid tiles show the published grid ${newCode}`);
  await waitIdle(page);

  assert(record.external.length === 0, `no external requests (got ${record.external.join(', ')})`);
  assert(record.pageErrors.length === 0, `no page errors (got ${record.pageErrors.join(' | ')})`);
  const errs = await page.evaluate(() => window.planner.state.messages.filter((m) => m.level === 'error').map((m) => m.text));
  assert(errs.length === 0, `no error messages on the page (got ${errs.join(' | ')})`);
} catch (e) {
  failure = e;
} finally {
  if (page) await screenshot(page, 'planner.png');
  await browser.close();
}
if (failure) {
  if (record && (record.pageErrors.length || record.failed.length)) {
    console.error(`page errors: ${record.pageErrors.join(' | ')}\nfailed requests: ${record.failed.join(' | ')}`);
  }
  console.error(`planner: FAILED: ${failure.stack || failure}`);
  process.exit(1);
}
log('planner: all checks passed');
