// Shared helpers of the browser tests (run by tests/e2e/run.sh, which sets the environment).
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import zlib from 'node:zlib';

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the test through tests/e2e/run.sh`);
  return v;
}

export const URL_BASE = env('ONEGRID_URL').replace(/\/$/, '');
export const ARTIFACTS = env('ONEGRID_ARTIFACTS');
fs.mkdirSync(ARTIFACTS, { recursive: true });

// playwright-core lives in server/web/node_modules; resolve it from there, not from this file.
const require = createRequire(path.join(env('ONEGRID_NODE_MODULES'), 'noop.js'));
export const { chromium } = require('playwright-core');

export function log(...args) {
  const t = new Date().toISOString().slice(11, 23);
  console.log(`[${t}]`, ...args);
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Debian's chromium, headless, WebGL through SwiftShader; never a downloaded browser. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.ONEGRID_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
    ],
  });
}

/**
 * A page on a laptop-sized viewport that may only talk to the server under test: every other
 * request is aborted and recorded (the pages must work offline). Console errors and page errors
 * are recorded too.
 */
export async function openPage(browser, { width = 1366, height = 768 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const record = { external: [], consoleErrors: [], pageErrors: [], failed: [] };
  const allowed = new URL(URL_BASE).origin;
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (u.startsWith(allowed + '/') || u === allowed || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
    record.external.push(u);
    return route.abort();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') record.consoleErrors.push(m.text());
    if (process.env.ONEGRID_E2E_VERBOSE) log('console', m.type(), m.text());
  });
  page.on('pageerror', (e) => record.pageErrors.push(String(e && e.stack ? e.stack : e)));
  page.on('requestfailed', (r) => record.failed.push(`${r.method()} ${r.url()}: ${r.failure() && r.failure().errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !r.url().endsWith('.mvt')) record.failed.push(`${r.request().method()} ${r.url()}: HTTP ${r.status()}`);
  });
  return { context, page, record };
}

/** Waits for window.planner.ready and the map's next idle (tiles loaded, nothing moving). */
export async function waitPlannerReady(page, timeout = 180_000) {
  await page.waitForFunction(() => window.planner && window.planner.map, null, { timeout });
  await page.evaluate(() => window.planner.ready);
  await waitIdle(page, timeout);
}

/** The map's next 'idle' event (after a repaint, so it also resolves when already idle). */
export async function waitIdle(page, timeout = 180_000) {
  await page.evaluate(
    (ms) =>
      Promise.race([
        window.planner.whenIdle(),
        new Promise((_, reject) => setTimeout(() => reject(new Error(`the map did not become idle within ${ms} ms`)), ms)),
      ]),
    timeout,
  );
}

/** fetch against the server under test with a bearer token; throws with the server's description. */
export async function apiFetch(pathname, { token, method = 'GET', json, headers = {} } = {}) {
  const h = { Accept: 'application/json', ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    h['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  }
  const res = await fetch(URL_BASE + pathname, { method, headers: h, body });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!res.ok) {
    const d = data && typeof data === 'object' ? `${data.code}: ${data.description}` : String(text).slice(0, 300);
    throw new Error(`${method} ${pathname} -> HTTP ${res.status} ${d}`);
  }
  return data;
}

/** Saves a full-page screenshot; never throws (it runs while a failure is being reported). */
export async function screenshot(page, name) {
  const file = path.join(ARTIFACTS, name);
  try {
    await page.screenshot({ path: file, fullPage: true, timeout: 60_000 });
    log(`screenshot ${file}`);
  } catch (e) {
    log(`screenshot ${file} failed: ${e.message}`);
  }
  return file;
}

/**
 * Decodes an 8-bit RGB/RGBA PNG (what Chromium's screenshots are) into {width, height, channels,
 * pixels}. Enough to tell a rendered map from a blank canvas without another npm package.
 */
export function decodePng(buf) {
  const sig = '89504e470d0a1a0a';
  if (buf.subarray(0, 8).toString('hex') !== sig) throw new Error('not a PNG');
  let pos = 8;
  let width = 0, height = 0, depth = 0, colour = 0, interlace = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.subarray(pos + 4, pos + 8).toString('ascii');
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      colour = data[9];
      interlace = data[12];
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  if (depth !== 8 || (colour !== 2 && colour !== 6) || interlace) throw new Error(`unsupported PNG (depth ${depth}, colour ${colour})`);
  const channels = colour === 6 ? 4 : 3;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y ? pixels.subarray((y - 1) * stride, y * stride) : null;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? out[i - channels] : 0;
      const b = prev ? prev[i] : 0;
      const c = prev && i >= channels ? prev[i - channels] : 0;
      let v = line[i];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      out[i] = v & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Distinct colours (quantised to 4 bits per channel) in a rectangle of a decoded PNG. */
export function distinctColours(img, { x0 = 0, y0 = 0, x1 = img.width, y1 = img.height } = {}) {
  const seen = new Set();
  for (let y = y0; y < y1; y += 2) {
    for (let x = x0; x < x1; x += 2) {
      const i = (y * img.width + x) * img.channels;
      seen.add(((img.pixels[i] >> 4) << 8) | ((img.pixels[i + 1] >> 4) << 4) | (img.pixels[i + 2] >> 4));
    }
  }
  return seen.size;
}

// ---------------------------------------------------------------------------------------------
// Plane geometry on lon/lat (small grids: a local equirectangular scale is plenty).

function rings(geometry) {
  if (geometry.type === 'Polygon') return [geometry.coordinates];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates;
  throw new Error(`not a polygon: ${geometry.type}`);
}

/** Is [x, y] inside the (Multi)Polygon (even-odd over all rings)? */
export function contains(geometry, [x, y]) {
  let inside = false;
  for (const poly of rings(geometry)) {
    for (const ring of poly) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = ring[i];
        const [xj, yj] = ring[j];
        if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
      }
    }
  }
  return inside;
}

/** Distance in metres from [x, y] to the polygon's boundary. */
export function boundaryDistance(geometry, [x, y]) {
  const kx = 111320 * Math.cos((y * Math.PI) / 180), ky = 110540;
  let best = Infinity;
  for (const poly of rings(geometry)) {
    for (const ring of poly) {
      for (let i = 1; i < ring.length; i++) {
        const ax = (ring[i - 1][0] - x) * kx, ay = (ring[i - 1][1] - y) * ky;
        const bx = (ring[i][0] - x) * kx, by = (ring[i][1] - y) * ky;
        const dx = bx - ax, dy = by - ay;
        const l2 = dx * dx + dy * dy;
        const t = l2 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / l2)) : 0;
        const px = ax + t * dx, py = ay + t * dy;
        best = Math.min(best, Math.hypot(px, py));
      }
    }
  }
  return best;
}

export function bbox(geometry) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const poly of rings(geometry))
    for (const ring of poly)
      for (const [x, y] of ring) {
        b[0] = Math.min(b[0], x); b[1] = Math.min(b[1], y); b[2] = Math.max(b[2], x); b[3] = Math.max(b[3], y);
      }
  return b;
}

/**
 * Points inside the polygon, at least `margin` metres from its boundary, on an n×n lattice over
 * its bbox, restricted by `where(point)`, the deepest first.
 */
export function interiorPoints(geometry, { n = 40, margin = 0, where = () => true } = {}) {
  const [x0, y0, x1, y1] = bbox(geometry);
  const out = [];
  for (let i = 1; i < n; i++) {
    for (let j = 1; j < n; j++) {
      const p = [x0 + ((x1 - x0) * i) / n, y0 + ((y1 - y0) * j) / n];
      if (!where(p) || !contains(geometry, p)) continue;
      const d = boundaryDistance(geometry, p);
      if (d >= margin) out.push({ p, d });
    }
  }
  out.sort((a, b) => b.d - a.d);
  return out;
}

/** Clicks the map at a lon/lat (projected by the page's map into page pixels). */
export async function clickLngLat(page, lngLat, options = {}) {
  const xy = await page.evaluate(([lng, lat]) => {
    const m = window.planner.map;
    const p = m.project([lng, lat]);
    const r = m.getContainer().getBoundingClientRect();
    return { x: r.left + p.x, y: r.top + p.y };
  }, lngLat);
  await page.mouse.click(xy.x, xy.y, options);
  return xy;
}

/**
 * Draws a line with the page's drawing tool by real clicks: one click per point, then a second
 * click on the last point, which finishes the line (terra-draw's closing point).
 */
export async function drawLine(page, points) {
  for (const p of points) {
    await clickLngLat(page, p);
    await page.waitForTimeout(150);
  }
  await clickLngLat(page, points[points.length - 1]);
}

/** The outer ring of a single-polygon grid (without the closing position), or null. */
export function outerRing(geometry) {
  const poly = geometry.type === 'Polygon' ? geometry.coordinates : geometry.coordinates.length === 1 ? geometry.coordinates[0] : null;
  if (!poly) return null;
  const r = poly[0];
  return r.length > 1 && r[0][0] === r[r.length - 1][0] && r[0][1] === r[r.length - 1][1] ? r.slice(0, -1) : r;
}

/** The longest run of A's outer-ring vertices that B's boundary also has (their shared boundary), in order. */
export function sharedBoundary(a, b) {
  const ra = outerRing(a.geometry);
  const rb = outerRing(b.geometry);
  if (!ra || !rb) return [];
  const key = (c) => `${c[0]},${c[1]}`;
  const inB = new Set(rb.map(key));
  const flags = ra.map((c) => inB.has(key(c)));
  const n = ra.length;
  if (flags.every(Boolean)) return [];
  let best = [];
  for (let i = 0; i < n; i++) {
    if (!flags[i] || flags[(i - 1 + n) % n]) continue;
    const run = [];
    for (let k = i; flags[k % n] && run.length < n; k++) run.push(ra[k % n]);
    if (run.length > best.length) best = run;
  }
  return best;
}
