// Smoke test of /planner/: the page loads with no external resource, the map renders OneGrid's
// vector tiles, and clicking a grid shows its attributes and case counts.
import fs from 'node:fs';
import path from 'node:path';
import {
  URL_BASE, ARTIFACTS, env, log, assert, launch, openPage, waitPlannerReady, waitIdle, apiFetch, screenshot,
  decodePng, distinctColours, interiorPoints, clickLngLat,
} from './lib.mjs';

const token = env('ONEGRID_TOKEN_PLANNER');
const browser = await launch();
let page;
let failure = null;
try {
  const opened = await openPage(browser);
  page = opened.page;
  const record = opened.record;

  log('open /planner/');
  await page.goto(`${URL_BASE}/planner/?token=${encodeURIComponent(token)}`, { waitUntil: 'load' });
  await waitPlannerReady(page);
  log('map idle');

  // The map shows our tiles: district, towns and grids are rendered.
  const rendered = await page.evaluate(() => {
    const m = window.planner.map;
    const count = (layers) => m.queryRenderedFeatures(undefined, { layers }).length;
    return {
      zoom: m.getZoom(),
      district: count(['district-fill']),
      towns: count(['towns-line']),
      grids: count(['grids-line']),
      incidents: count(['incidents-counts', 'incidents-points']),
      style: m.getStyle(),
    };
  });
  log(`zoom ${rendered.zoom.toFixed(2)}: district ${rendered.district}, towns ${rendered.towns}, grids ${rendered.grids}, incidents ${rendered.incidents}`);
  assert(rendered.district > 0, 'the district is rendered');
  assert(rendered.towns > 0, 'towns are rendered');
  assert(rendered.grids > 100, `the grids are rendered (${rendered.grids} features)`);

  // The style needs nothing from outside: no glyphs, sprites or foreign URLs.
  assert(!rendered.style.glyphs && !rendered.style.sprite, 'the style has no glyphs and no sprite');
  for (const [id, s] of Object.entries(rendered.style.sources)) {
    for (const t of s.tiles || []) assert(t.startsWith(URL_BASE), `source ${id} tiles come from the server (${t})`);
  }

  // The token was taken from the URL and checked.
  await page.waitForFunction(() => window.planner.state.me !== null, null, { timeout: 30_000 });
  const who = await page.textContent('#who');
  assert(/planner/.test(who), `the page shows the planner role (${who})`);

  // The canvas is not blank: the map area of a screenshot has many colours.
  const png = await page.screenshot({ fullPage: true });
  const img = decodePng(png);
  const colours = distinctColours(img, { x0: 400, y0: 20, x1: img.width - 60, y1: img.height - 40 });
  log(`map area: ${colours} distinct colours`);
  assert(colours >= 6, `the map is drawn (${colours} colours in the map area)`);

  // Select a grid by a real click: find it by code (the page zooms to it), click inside it.
  const grids = await apiFetch('/collections/grids/items?limit=1&offset=500');
  const grid = grids.features[0];
  const code = grid.properties.code;
  const inside = interiorPoints(grid.geometry, { n: 30 })[0].p;
  log(`select grid ${code} by clicking at ${inside.map((v) => v.toFixed(5)).join(',')}`);
  await page.fill('#grid-search', code);
  await page.press('#grid-search', 'Enter');
  await page.waitForFunction((c) => window.planner.state.lastFocus === c, code, { timeout: 60_000 });
  await waitIdle(page);
  await page.click('#tool-select');
  await page.evaluate(() => document.activeElement && document.activeElement.blur());
  await clickLngLat(page, inside);
  await page.waitForFunction((c) => window.planner.state.selected === c, code, { timeout: 30_000 });
  await page.waitForSelector('#sel-total', { timeout: 30_000 });
  const total = Number(await page.textContent('#sel-total'));
  const open = Number(await page.textContent('#sel-open'));
  const expected = await apiFetch(`/collections/incidents/items?grid=${code}&limit=1`, { token });
  log(`grid ${code}: ${open} open / ${total} cases (API: ${expected.numberMatched})`);
  assert(total === expected.numberMatched, `the case count shown (${total}) is the API's (${expected.numberMatched})`);
  assert(Number.isFinite(open) && open <= total, 'the open count is shown');
  const attrs = await page.textContent('#sel-attrs');
  assert(attrs.includes(code) && attrs.includes(grid.properties.name), 'the attributes are shown');
  await waitIdle(page);

  assert(record.external.length === 0, `no external requests (got ${record.external.join(', ')})`);
  assert(record.pageErrors.length === 0, `no page errors (got ${record.pageErrors.join(' | ')})`);
  let errors = await page.evaluate(() => window.planner.state.messages.filter((m) => m.level === 'error').map((m) => m.text));
  // A server without the planner API (drafts) still serves the map: that message alone is expected.
  const drafts = await fetch(`${URL_BASE}/v1/drafts`, { headers: { Authorization: `Bearer ${token}` } });
  if (drafts.status === 404) {
    log('note: this server has no /v1/drafts yet (the page says so); the map checks still apply');
    errors = errors.filter((t) => !t.startsWith('Listing drafts'));
  }
  assert(errors.length === 0, `no error messages on the page (got ${errors.join(' | ')})`);
  if (record.failed.length) log(`failed requests (not fatal): ${record.failed.join(' | ')}`);
} catch (e) {
  failure = e;
} finally {
  if (page) await screenshot(page, 'smoke.png');
  await browser.close();
}
if (failure) {
  console.error(`smoke: FAILED: ${failure.stack || failure}`);
  process.exit(1);
}
log('smoke: all checks passed');
