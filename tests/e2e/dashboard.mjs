// Browser test of /dashboard/: the page loads with no external resource; the map renders the
// grid-stats tiles as a choropleth whose counts are the API's; the ECharts charts hold the API's
// data; the assessment table lists graded units; the CSV/XLSX links download the report; a
// filter reloads everything. Keeps a screenshot as tests/e2e/artifacts/dashboard.png.
import { URL_BASE, env, log, assert, launch, openPage, apiFetch, screenshot, decodePng, distinctColours } from './lib.mjs';

const token = env('ONEGRID_TOKEN_ADMIN');
const browser = await launch();
let page;
let failure = null;

async function waitLoaded(p, loads, timeout = 180_000) {
  await p.waitForFunction((n) => window.dashboard && window.dashboard.state.loaded >= n, loads, { timeout });
  await p.evaluate(
    (ms) =>
      Promise.race([
        window.dashboard.whenIdle(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`the map did not become idle within ${ms} ms`)), ms)),
      ]),
    timeout,
  );
}

try {
  const opened = await openPage(browser, { width: 1500, height: 1100 });
  page = opened.page;
  const record = opened.record;

  log('open /dashboard/');
  await page.goto(`${URL_BASE}/dashboard/?token=${encodeURIComponent(token)}`, { waitUntil: 'load' });
  await waitLoaded(page, 1);
  log('figures loaded, map idle');
  const period = await page.evaluate(() => window.dashboard.state.period);
  log(`period ${period.label} (${period.from} … ${period.to})`);

  // The map draws our grid-stats tiles with the period's figures.
  const rendered = await page.evaluate(() => {
    const m = window.dashboard.map;
    const feats = m.queryRenderedFeatures(undefined, { layers: ['grid-fill'] });
    const byCode = {};
    for (const f of feats) byCode[f.properties.code] = f.properties;
    return {
      count: feats.length,
      grids: Object.keys(byCode).length,
      withReports: Object.values(byCode).filter((p) => p.reported > 0).length,
      sample: Object.values(byCode).find((p) => p.reported > 0) || null,
      tiles: m.getStyle().sources.stats.tiles,
      style: m.getStyle(),
    };
  });
  log(`map: ${rendered.grids} grids rendered, ${rendered.withReports} with reports; tiles ${rendered.tiles[0]}`);
  assert(rendered.grids > 100, `the grid choropleth is rendered (${rendered.grids} grids)`);
  assert(rendered.withReports > 0, 'some grids have reports in the period');
  assert(rendered.tiles[0].startsWith(`${URL_BASE}/tiles/grid-stats/`) && rendered.tiles[0].includes(`period=${period.stats}`),
    `the choropleth uses our grid-stats tiles for the period (${rendered.tiles[0]})`);
  assert(!rendered.style.glyphs && !rendered.style.sprite, 'the style needs no glyphs or sprites');
  for (const [id, s] of Object.entries(rendered.style.sources))
    for (const t of s.tiles || []) assert(t.startsWith(URL_BASE), `source ${id} tiles come from the server (${t})`);
  // The rendered count of a grid is the OGC collection's.
  const code = rendered.sample.code;
  const item = await apiFetch(`/collections/grid-stats/items/${code}?period=${encodeURIComponent(period.stats)}`);
  assert(item.properties.reported === rendered.sample.reported,
    `grid ${code}: the map shows ${rendered.sample.reported} reports, the API ${item.properties.reported}`);

  // The charts hold the API's figures.
  const chartData = await page.evaluate(() => {
    const out = {};
    for (const [name, c] of Object.entries(window.dashboard.charts)) {
      const o = c.getOption();
      out[name] = {
        series: o.series.map((s) => s.data.map((d) => (typeof d === 'object' && d !== null ? d.value : d))),
        categories: o.yAxis && o.yAxis[0] ? o.yAxis[0].data : null,
        canvas: c.getDom().querySelector('canvas') !== null,
      };
    }
    return out;
  });
  for (const [name, c] of Object.entries(chartData)) {
    assert(c.canvas, `chart ${name} has a canvas`);
    assert(c.series.length > 0 && c.series[0].length > 0, `chart ${name} has data`);
  }
  const q = `from=${period.from}&to=${period.to}`;
  const trend = await apiFetch(`/v1/indicators?unit=district&period=day&${q}`, { token });
  const apiTrend = trend.units[0].periods.map((p) => p.counts.reported);
  assert(JSON.stringify(chartData.trend.series[0]) === JSON.stringify(apiTrend), 'the trend chart is the API\'s reports by day');
  const trendTotal = apiTrend.reduce((a, b) => a + b, 0);
  assert(trendTotal > 0, `reports in the period (${trendTotal})`);
  const district = await apiFetch(`/v1/indicators?unit=district&period=custom&${q}`, { token });
  const pieTotal = chartData.categories.series[0].reduce((a, b) => a + b, 0);
  assert(pieTotal === district.units[0].periods[0].counts.reported,
    `the category chart adds up to the district's reports (${pieTotal} vs ${district.units[0].periods[0].counts.reported})`);
  const deps = await apiFetch(`/v1/indicators?unit=department&period=custom&${q}`, { token });
  const best = deps.units.filter((u) => u.periods[0].rates.closing_in_time_rate.value !== null)
    .sort((a, b) => b.periods[0].rates.closing_in_time_rate.value - a.periods[0].rates.closing_in_time_rate.value || a.code.localeCompare(b.code))[0];
  assert(chartData.departments.categories[0] === (best.name || best.code),
    `the department ranking starts with the best 按期结案率 (${chartData.departments.categories[0]} vs ${best.name})`);
  assert(Math.abs(chartData.departments.series[0][0] - Math.round(best.periods[0].rates.closing_in_time_rate.value * 1000) / 10) < 1e-9,
    'the ranking shows the rate in percent');

  // The assessment table: graded units, as the API ranks them.
  const rows = await page.$$eval('#assessment tbody tr', (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent.trim())));
  const assessment = await apiFetch(`/v1/assessment?unit=department&month=${period.month}`, { token });
  const graded = assessment.units.filter((u) => u.grade);
  log(`assessment: ${rows.length} rows, ${graded.length} graded departments`);
  assert(graded.length > 0, 'some departments are graded');
  assert(rows.length >= graded.length, 'every graded unit has a row');
  assert(rows[0][3] === graded[0].grade && rows[0][0] === String(graded[0].rank), `the first row is the best unit (${rows[0].join(' | ')})`);
  assert(/^[A-E]$/.test(rows[0][3]), 'grades are shown');

  // The overdue list and the hotspots panel are filled from the API.
  const overdue = await apiFetch('/v1/overdue?limit=200', { token });
  const overdueRows = await page.$$eval('#overdue tbody tr', (trs) => trs.length);
  assert(overdue.total === 0 || overdueRows === Math.min(overdue.total, 200), `overdue list: ${overdueRows} rows for ${overdue.total}`);
  const hotspotText = await page.textContent('#hotspots');
  assert(hotspotText.includes('emerging') && hotspotText.includes('Gi*'), 'the hotspots panel is filled');

  // The report links download the CSV and the XLSX (the page adds the token).
  for (const [sel, magic] of [['#dl-csv', 'efbbbf'], ['#dl-xlsx', '504b0304']]) {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.click(sel)]);
    const stream = await download.createReadStream();
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    const bytes = Buffer.concat(chunks);
    log(`${sel}: ${download.suggestedFilename()} ${bytes.length} bytes`);
    assert(download.suggestedFilename() === `assessment-${period.month}.${sel === '#dl-csv' ? 'csv' : 'xlsx'}`, 'the file is named by month');
    assert(bytes.subarray(0, magic.length / 2).toString('hex') === magic, `${sel} starts with ${magic}`);
  }

  // The canvas is not blank.
  const img = decodePng(await page.screenshot({ fullPage: false }));
  const box = await page.$eval('#map', (el) => { const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; });
  const colours = distinctColours(img, { x0: Math.round(box.x) + 5, y0: Math.round(box.y) + 5, x1: Math.round(box.x + box.w) - 60, y1: Math.round(box.y + box.h) - 30 });
  log(`map area: ${colours} distinct colours`);
  assert(colours >= 5, `the map is drawn (${colours} colours)`);

  // A filter reloads the figures: one town.
  const town = (await apiFetch('/collections/towns/items?limit=1')).features[0].properties.code;
  await page.selectOption('#f-town', town);
  await waitLoaded(page, 2);
  const filtered = await page.evaluate(() => ({
    tiles: window.dashboard.map.getStyle().sources.stats.tiles[0],
    reported: window.dashboard.state.district.counts.reported,
  }));
  const townFigures = await apiFetch(`/v1/indicators?unit=district&period=custom&${q}&town=${town}`, { token });
  assert(filtered.tiles.includes(`town=${town}`), 'the map tiles carry the town');
  assert(filtered.reported === townFigures.units[0].periods[0].counts.reported, `the key figures are the town's (${filtered.reported})`);
  await page.selectOption('#f-town', '');
  await waitLoaded(page, 3);

  assert(record.external.length === 0, `no external requests (got ${record.external.join(', ')})`);
  assert(record.pageErrors.length === 0, `no page errors (got ${record.pageErrors.join(' | ')})`);
  const errors = await page.evaluate(() => window.dashboard.state.messages.filter((m) => m.level === 'error').map((m) => m.text));
  assert(errors.length === 0, `no error messages on the page (got ${errors.join(' | ')})`);
  if (record.failed.length) log(`failed requests (not fatal): ${record.failed.join(' | ')}`);
} catch (e) {
  failure = e;
} finally {
  if (page) await screenshot(page, 'dashboard.png');
  await browser.close();
}
if (failure) {
  console.error(`dashboard: FAILED: ${failure.stack || failure}`);
  process.exit(1);
}
log('dashboard: all checks passed');
