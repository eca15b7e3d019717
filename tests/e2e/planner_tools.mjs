// Browser test of the planner's other editing tools, driven by real clicks: merge two adjacent
// grids; move the shared boundary of two neighbours (the line's ends snapped to the old boundary's
// ends); a split line that does not cross its grid (the server's refusal is shown); a stale ETag
// (another planner changed the grid: 412 shown, the draft reloaded, the retry, finished with the
// Finish button, succeeds); publishing with an error finding refused (409 shown, findings listed); deleting
// the draft. Screenshot: tests/e2e/artifacts/planner_tools.png.
import {
  URL_BASE, env, log, assert, launch, openPage, waitPlannerReady, waitIdle, apiFetch, screenshot,
  interiorPoints, contains, bbox, clickLngLat, drawLine, outerRing, sharedBoundary,
} from './lib.mjs';

const PLANNER = env('ONEGRID_TOKEN_PLANNER');
const KX = (lat) => 111320 * Math.cos((lat * Math.PI) / 180);
const KY = 110540;

// ---------------------------------------------------------------------------------------------
// Choosing grids through the API

const all = (await apiFetch('/collections/grids/items?limit=10000')).features.filter((f) => outerRing(f.geometry));
const byCode = new Map(all.map((f) => [f.properties.code, f]));
const used = new Set();

/** Neighbours in the same community sharing a long boundary, not used by another step. */
function neighbourPairs(minShared) {
  const out = [];
  const byParent = new Map();
  for (const f of all) {
    if (!byParent.has(f.properties.parent)) byParent.set(f.properties.parent, []);
    byParent.get(f.properties.parent).push(f);
  }
  for (const group of byParent.values()) {
    for (let i = 0; i < group.length; i++)
      for (let j = i + 1; j < group.length; j++) {
        const shared = sharedBoundary(group[i], group[j]);
        if (shared.length >= minShared) out.push({ a: group[i], b: group[j], shared });
      }
    if (out.length > 40) break;
  }
  return out.filter((p) => !used.has(p.a.properties.code) && !used.has(p.b.properties.code));
}

const mergePair = neighbourPairs(3)[0];
assert(mergePair, 'two adjacent grids to merge');
used.add(mergePair.a.properties.code).add(mergePair.b.properties.code);

/** A new boundary for a pair: from one end of the shared boundary, bulging `offset` metres into A, to the other end. */
function planMove(pair, offset) {
  const s = pair.shared;
  const e1 = s[0];
  const e2 = s[s.length - 1];
  const mid = s[Math.floor(s.length / 2)];
  const lat = mid[1];
  // A unit vector across the boundary, in metres, pointing into A.
  const dx = (e2[0] - e1[0]) * KX(lat), dy = (e2[1] - e1[1]) * KY;
  const len = Math.hypot(dx, dy);
  let nx = -dy / len, ny = dx / len;
  const probe = [mid[0] + (nx * 10) / KX(lat), mid[1] + (ny * 10) / KY];
  if (!contains(pair.a.geometry, probe)) (nx = -nx), (ny = -ny);
  const bulge = [mid[0] + (nx * offset) / KX(lat), mid[1] + (ny * offset) / KY];
  const line = [e1, bulge, e2];
  // Every point strictly between the ends must lie inside the pair.
  for (let k = 0; k + 1 < line.length; k++)
    for (let t = 0.02; t < 0.99; t += 0.02) {
      const p = [line[k][0] + (line[k + 1][0] - line[k][0]) * t, line[k][1] + (line[k + 1][1] - line[k][1]) * t];
      if (!contains(pair.a.geometry, p) && !contains(pair.b.geometry, p)) return null;
    }
  return { line, bulge, length: len };
}

let movePair = null;
for (const pair of neighbourPairs(6)) {
  const plan = planMove(pair, 40);
  if (plan && plan.length > 250) {
    movePair = { ...pair, plan };
    break;
  }
}
assert(movePair, 'two neighbours whose shared boundary can be redrawn');
used.add(movePair.a.properties.code).add(movePair.b.properties.code);

function verticalCrossings(geometry, x) {
  const ys = [];
  const ring = outerRing(geometry);
  for (let i = 0; i < ring.length; i++) {
    const [x1, y1] = ring[i];
    const [x2, y2] = ring[(i + 1) % ring.length];
    if ((x1 <= x && x < x2) || (x2 <= x && x < x1)) ys.push(y1 + ((x - x1) * (y2 - y1)) / (x2 - x1));
  }
  return ys.sort((a, b) => a - b);
}

let splitGrid = null;
for (const f of all) {
  if (used.has(f.properties.code)) continue;
  const [x0, , x1] = bbox(f.geometry);
  const deep = interiorPoints(f.geometry, { n: 30, where: (p) => Math.abs(p[0] - (x0 + x1) / 2) < (x1 - x0) * 0.15 })[0];
  if (!deep) continue;
  const ys = verticalCrossings(f.geometry, deep.p[0]);
  if (ys.length !== 2) continue;
  const inner = interiorPoints(f.geometry, { n: 30, margin: 60 });
  if (inner.length < 10) continue;
  splitGrid = { grid: f, code: f.properties.code, x: deep.p[0], south: ys[0], north: ys[1], middle: deep.p, inner: [inner[0].p, inner[inner.length - 1].p] };
  break;
}
assert(splitGrid, 'a grid to split');
log(`merge ${mergePair.a.properties.code} + ${mergePair.b.properties.code}; move the boundary of ${movePair.a.properties.code} | ${movePair.b.properties.code}; split ${splitGrid.code}`);

// ---------------------------------------------------------------------------------------------
// Page helpers

const errorTexts = (page) => page.evaluate(() => window.planner.state.messages.filter((m) => m.level === 'error').map((m) => m.text));
const operations = (page) => page.evaluate(() => window.planner.state.operations);

async function waitOperation(page, before, what, timeout = 120_000) {
  const errors = (await errorTexts(page)).length;
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

/** Waits for a new error message on the page and returns it. */
async function waitError(page, before, what, timeout = 60_000) {
  const handle = await page.waitForFunction(
    (e) => {
      const s = window.planner.state;
      const errs = s.messages.filter((m) => m.level === 'error');
      return errs.length > e && s.busy === 0 ? errs[e].text : false;
    },
    before,
    { timeout, polling: 200 },
  );
  const text = await handle.jsonValue();
  log(`${what}: the page shows "${text}"`);
  return text;
}

async function showGrids(page, codes) {
  await page.fill('#grid-search', codes.join(' '));
  await page.press('#grid-search', 'Enter');
  await page.waitForFunction((c) => window.planner.state.lastFocus === c, codes.join(','), { timeout: 60_000 });
  await waitIdle(page);
}

/** Every point is in the visible part of the map (right of the panel, inside the window). */
async function assertVisible(page, points, what) {
  const ok = await page.evaluate((pts) => {
    const m = window.planner.map;
    const panel = document.getElementById('panel').getBoundingClientRect();
    const c = m.getContainer();
    return pts.every(([lng, lat]) => {
      const p = m.project([lng, lat]);
      return p.x > panel.right + 5 && p.x < c.clientWidth - 5 && p.y > 5 && p.y < c.clientHeight - 5;
    });
  }, points);
  assert(ok, `${what} is in view`);
}

const draftItem = (id, code) => apiFetch(`/collections/draft-${id}/items/${code}`, { token: PLANNER });

// ---------------------------------------------------------------------------------------------

const browser = await launch();
let page;
let failure = null;
let record;
try {
  const opened = await openPage(browser);
  page = opened.page;
  record = opened.record;
  page.on('dialog', (d) => d.accept()); // the confirmation of "delete draft"

  await page.goto(`${URL_BASE}/planner/?token=${encodeURIComponent(PLANNER)}`, { waitUntil: 'load' });
  await waitPlannerReady(page);
  let ops = await operations(page);
  await page.fill('#draft-name', 'e2e: tools');
  await page.click('#draft-create');
  await waitOperation(page, ops, 'creating the draft');
  await page.waitForFunction(() => window.planner.state.draft && window.planner.state.features.size > 1000 && window.planner.state.busy === 0, null, { timeout: 120_000 });
  const draft = await page.evaluate(() => ({ ...window.planner.state.draft, size: window.planner.state.features.size }));
  log(`draft #${draft.id} with ${draft.size} grids`);

  // 1. Merge: Merge tool, click both grids, Apply.
  {
    const a = mergePair.a.properties.code, b = mergePair.b.properties.code;
    await showGrids(page, [a, b]);
    const pa = interiorPoints(mergePair.a.geometry, { n: 25 })[0].p;
    const pb = interiorPoints(mergePair.b.geometry, { n: 25 })[0].p;
    await assertVisible(page, [pa, pb], 'both grids to merge');
    await page.click('#tool-merge');
    await clickLngLat(page, pa);
    await clickLngLat(page, pb);
    await page.waitForFunction(() => window.planner.state.picked.length === 2, null, { timeout: 10_000 });
    await page.waitForSelector('#tool-apply:not([hidden])');
    ops = await operations(page);
    await page.click('#tool-apply');
    await waitOperation(page, ops, 'merging');
    const s = await page.evaluate(() => ({ op: window.planner.state.lastOperation, size: window.planner.state.features.size }));
    log(`merge: ${JSON.stringify(s.op)}; ${s.size} grids`);
    assert(s.op.op === 'merge' && s.op.changed.includes(a) && s.op.removed.includes(b), `${b} was merged into ${a}`);
    assert(s.size === draft.size - 1, 'the draft has one grid less');
    const items = await apiFetch(`/collections/draft-${draft.id}/items?limit=1`, { token: PLANNER });
    assert(items.numberMatched === draft.size - 1, `the API agrees (${items.numberMatched})`);
    await waitIdle(page);
  }

  // 2. Move boundary: Move tool, click both neighbours, draw the new boundary from one end of the
  //    old one (snapped) through a point 40 m inside A to the other end (snapped), click it again.
  {
    const a = movePair.a.properties.code, b = movePair.b.properties.code;
    const beforeA = await draftItem(draft.id, a);
    const beforeB = await draftItem(draft.id, b);
    await showGrids(page, [a, b]);
    const pa = interiorPoints(movePair.a.geometry, { n: 25, margin: 30, where: (p) => Math.hypot((p[0] - movePair.plan.bulge[0]) * KX(p[1]), (p[1] - movePair.plan.bulge[1]) * KY) > 60 })[0].p;
    const pb = interiorPoints(movePair.b.geometry, { n: 25 })[0].p;
    await assertVisible(page, [pa, pb, ...movePair.plan.line], 'the pair and the new boundary');
    await page.click('#tool-move');
    await clickLngLat(page, pa);
    await clickLngLat(page, pb);
    await page.waitForFunction(() => window.planner.state.drawing === true, null, { timeout: 10_000 });
    ops = await operations(page);
    await drawLine(page, movePair.plan.line);
    await waitOperation(page, ops, 'moving the boundary');
    const s = await page.evaluate(() => ({ op: window.planner.state.lastOperation, size: window.planner.state.features.size, tool: window.planner.state.tool }));
    log(`move boundary: ${JSON.stringify(s.op)}`);
    assert(s.op.op === 'move-boundary' && s.op.changed.includes(a) && s.op.changed.includes(b), 'both neighbours changed');
    const afterA = await draftItem(draft.id, a);
    const afterB = await draftItem(draft.id, b);
    assert(afterA.properties.revision > beforeA.properties.revision && afterB.properties.revision > beforeB.properties.revision, 'both have a new revision');
    // The bulge point moved from A to B.
    const probe = [(movePair.plan.bulge[0] + movePair.shared[Math.floor(movePair.shared.length / 2)][0]) / 2, (movePair.plan.bulge[1] + movePair.shared[Math.floor(movePair.shared.length / 2)][1]) / 2];
    assert(contains(beforeA.geometry, probe) && contains(afterB.geometry, probe) && !contains(afterA.geometry, probe), 'the area between the old and the new boundary moved from A to B');
    assert(s.size === draft.size - 1 && s.tool === 'select', 'no grid was added or removed; back in Select');
    await waitIdle(page);
  }

  // 3. Split with a line that does not cross the grid: the server refuses; the page says why.
  const g = splitGrid.code;
  {
    await showGrids(page, [g]);
    await page.click('#tool-select');
    await clickLngLat(page, splitGrid.middle);
    await page.waitForFunction((c) => window.planner.state.selected === c, g, { timeout: 30_000 });
    await page.click('#tool-split');
    await page.waitForFunction(() => window.planner.state.drawing === true, null, { timeout: 10_000 });
    const errors = (await errorTexts(page)).length;
    await drawLine(page, splitGrid.inner);
    const text = await waitError(page, errors, 'a line inside the grid');
    assert(/split/i.test(text) && /cut|cross|touch/i.test(text) && /HTTP 400/.test(text), 'the error names the operation and gives the server\'s reason');
    const size = await page.evaluate(() => window.planner.state.features.size);
    assert(size === draft.size - 1, 'nothing changed');
  }

  // 4. Another planner renames the grid meanwhile: the page's split gets 412, says so, reloads the
  //    draft; the planner draws again and it works.
  {
    const cur = await draftItem(draft.id, g);
    await apiFetch(`/collections/draft-${draft.id}/items/${g}`, {
      token: PLANNER, method: 'PATCH', headers: { 'If-Match': cur.properties.etag || `"${g}@${cur.properties.revision}"` },
      json: { properties: { name: `${cur.properties.name} (renamed by another planner)` } },
    });
    const size = await page.evaluate(() => ({ w: window.planner.map.getContainer().clientWidth, h: window.planner.map.getContainer().clientHeight }));
    const ends = await page.evaluate(([x, n, s]) => {
      const m = window.planner.map;
      const a = m.project([x, n]);
      const b = m.project([x, s]);
      return { n: a, s: b };
    }, [splitGrid.x, splitGrid.north, splitGrid.south]);
    const start = await page.evaluate(({ x, y }) => window.planner.map.unproject([x, y]).toArray(), { x: ends.n.x, y: Math.max(8, ends.n.y - 30) });
    const end = await page.evaluate(({ x, y }) => window.planner.map.unproject([x, y]).toArray(), { x: ends.s.x, y: Math.min(size.h - 8, ends.s.y + 30) });
    assert(!contains(splitGrid.grid.geometry, start) && !contains(splitGrid.grid.geometry, end), 'the split line starts and ends outside the grid');

    await page.click('#tool-split');
    await page.waitForFunction(() => window.planner.state.drawing === true, null, { timeout: 10_000 });
    const errors = (await errorTexts(page)).length;
    await drawLine(page, [start, splitGrid.middle, end]);
    const text = await waitError(page, errors, 'a split with a stale ETag');
    assert(/HTTP 412/.test(text), 'the conflict is reported as 412');
    await page.waitForFunction((c) => window.planner.state.messages.some((m) => /reloaded/.test(m.text)) && window.planner.state.busy === 0, g, { timeout: 60_000 });
    const etag = await page.evaluate((c) => window.planner.state.etags.get(c), g);
    const now = await draftItem(draft.id, g);
    assert(etag === (now.properties.etag || `"${g}@${now.properties.revision}"`), `the page reloaded the grid's ETag (${etag})`);

    await page.click('#tool-split');
    await page.waitForFunction(() => window.planner.state.drawing === true, null, { timeout: 10_000 });
    ops = await operations(page);
    // This time the line is finished with the panel's "Finish line" button.
    for (const p of [start, splitGrid.middle, end]) {
      await clickLngLat(page, p);
      await page.waitForTimeout(150);
    }
    await page.click('#tool-finish');
    await waitOperation(page, ops, 'splitting again');
    const s = await page.evaluate(() => ({ op: window.planner.state.lastOperation, size: window.planner.state.features.size }));
    log(`split after reload: ${JSON.stringify(s.op)}`);
    assert(s.op.op === 'split' && s.size === draft.size, 'the retried split made a new grid');
    await waitIdle(page);
  }
  // 5. Publishing a draft with an error is refused: another planner makes the merged grid its
  //    bounding box (overlapping its neighbours); Publish → Confirm gets 409, the page says so and
  //    shows the validation's error findings.
  {
    const a = mergePair.a.properties.code;
    const cur = await draftItem(draft.id, a);
    const [x0, y0, x1, y1] = bbox(cur.geometry);
    await apiFetch(`/collections/draft-${draft.id}/items/${a}`, {
      token: PLANNER, method: 'PATCH', headers: { 'If-Match': cur.properties.etag || `"${a}@${cur.properties.revision}"` },
      json: { geometry: { type: 'Polygon', coordinates: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]] } },
    });
    await page.click('#btn-publish');
    await page.waitForSelector('#publish-dialog[open]', { timeout: 60_000 });
    const errors = (await errorTexts(page)).length;
    ops = await operations(page);
    await page.click('#publish-confirm');
    const text = await waitError(page, errors, 'publishing a draft with an overlap');
    assert(/HTTP 409/.test(text) && /validation_failed/.test(text), 'the refusal is shown with its code');
    await page.waitForFunction((n) => window.planner.state.operations > n && window.planner.state.lastValidation && window.planner.state.busy === 0, ops, { timeout: 120_000 });
    const v = await page.evaluate(() => ({ errors: window.planner.state.lastValidation.errors, listed: document.querySelectorAll('#findings-list li.error').length }));
    log(`after the refusal: ${v.errors} error findings, ${v.listed} listed as errors`);
    assert(v.errors > 0 && v.listed === v.errors, 'the error findings are listed');
    const still = await page.evaluate(() => window.planner.state.draft !== null && window.planner.state.lastReport === null);
    assert(still, 'nothing was published; the draft stays open');
    // Clicking an error finding zooms to it; it is drawn in red.
    await page.click('#findings-list li.error >> nth=0');
    await page.waitForFunction(() => window.planner.state.busy === 0);
    await waitIdle(page);
    const drawn = await page.evaluate(() => window.planner.map.queryRenderedFeatures(undefined, { layers: ['findings-error-fill', 'findings-error-line', 'findings-error-point'] }).length);
    assert(drawn > 0, 'the error finding is drawn on the map');
    await screenshot(page, 'planner_tools.png');
  }

  // 6. Delete the draft (the page asks for confirmation).
  {
    ops = await operations(page);
    await page.click('#draft-delete');
    await waitOperation(page, ops, 'deleting the draft');
    const res = await fetch(`${URL_BASE}/v1/drafts/${draft.id}`, { headers: { Authorization: `Bearer ${PLANNER}` } });
    assert(res.status === 404, `the draft is gone (GET → ${res.status})`);
    const st = await page.evaluate(() => ({ draft: window.planner.state.draft, options: [...document.querySelectorAll('#draft-select option')].map((o) => o.value) }));
    assert(st.draft === null && !st.options.includes(String(draft.id)), 'the page no longer shows the draft');
  }

  assert(record.external.length === 0, `no external requests (got ${record.external.join(', ')})`);
  assert(record.pageErrors.length === 0, `no page errors (got ${record.pageErrors.join(' | ')})`);
} catch (e) {
  failure = e;
} finally {
  if (page && failure) await screenshot(page, 'planner_tools.png');
  await browser.close();
}
if (failure) {
  console.error(`planner_tools: FAILED: ${failure.stack || failure}`);
  process.exit(1);
}
log('planner_tools: all checks passed');
