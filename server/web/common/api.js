// OneGrid browser pages: a small client for the OneGrid HTTP API.
// Every request carries the bearer token; every error becomes an ApiError whose message is the
// server's description (the JSON body {"code", "description"} of a 4xx/5xx reply).

export class ApiError extends Error {
  constructor(status, code, description, body) {
    super(description || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || `http_${status}`;
    this.description = description || `HTTP ${status}`;
    this.body = body;
  }
}

const TOKEN_KEY = 'onegrid.token';

/** The token: ?token= in the URL wins (and is remembered), else the one stored in localStorage. */
export function initialToken() {
  const fromUrl = new URLSearchParams(window.location.search).get('token');
  if (fromUrl) {
    storeToken(fromUrl);
    // Keep the secret out of the address bar (and of bookmarks and screenshots).
    const url = new URL(window.location.href);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url);
    return fromUrl;
  }
  try {
    return window.localStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function storeToken(token) {
  try {
    if (token) window.localStorage.setItem(TOKEN_KEY, token);
    else window.localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage may be disabled: the token then lives for this page only */
  }
}

export class Api {
  constructor(token = '') {
    this.token = token;
  }

  setToken(token) {
    this.token = token || '';
  }

  authHeaders() {
    return this.token ? { Authorization: `Bearer ${this.token}` } : {};
  }

  /**
   * request('POST', '/v1/drafts', {json: {...}, ifMatch: ['"a@1"'], headers: {...}})
   * Resolves to {status, headers, data} (data: parsed JSON, text, or null for 204).
   */
  async request(method, path, { json, ifMatch, headers = {} } = {}) {
    const h = { Accept: 'application/json, application/geo+json;q=0.9, */*;q=0.1', ...this.authHeaders(), ...headers };
    let body;
    if (json !== undefined) {
      h['Content-Type'] = 'application/json';
      body = JSON.stringify(json);
    }
    if (ifMatch && ifMatch.length) h['If-Match'] = ifMatch.join(', ');
    let res;
    try {
      res = await fetch(path, { method, headers: h, body, cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, 'network_error', `${method} ${path}: the server cannot be reached (${e.message})`);
    }
    const type = res.headers.get('Content-Type') || '';
    let data = null;
    if (res.status !== 204 && method !== 'HEAD') {
      const text = await res.text();
      if (text && (type.includes('json') || /^[\s]*[{[]/.test(text))) {
        try {
          data = JSON.parse(text);
        } catch {
          data = text;
        }
      } else {
        data = text || null;
      }
    }
    if (!res.ok) {
      const code = data && typeof data === 'object' ? data.code : undefined;
      let description = data && typeof data === 'object' ? data.description || data.message : undefined;
      if (!description) description = typeof data === 'string' && data ? data.slice(0, 300) : res.statusText;
      throw new ApiError(res.status, code, `${description}`, data);
    }
    return { status: res.status, headers: res.headers, data };
  }

  async get(path) {
    return (await this.request('GET', path)).data;
  }

  async post(path, json, ifMatch) {
    return (await this.request('POST', path, { json, ifMatch })).data;
  }

  async del(path, ifMatch) {
    return (await this.request('DELETE', path, { ifMatch })).data;
  }
}

/** A readable one-line message for any error (ApiError or other). */
export function describeError(e) {
  if (e instanceof ApiError) {
    return e.status ? `${e.description} (${e.code}, HTTP ${e.status})` : e.description;
  }
  return e && e.message ? e.message : String(e);
}

/** The workflow states in which a case is still open (not closed, rated or voided). */
export const OPEN_STATUSES = ['reported', 'registered', 'dispatched', 'accepted', 'returned', 'handled', 'rework'];

/** [minx, miny, maxx, maxy] of any GeoJSON geometry (or null when it has no coordinates). */
export function geometryBbox(geom) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const visit = (c) => {
    if (typeof c[0] === 'number') {
      if (c[0] < b[0]) b[0] = c[0];
      if (c[1] < b[1]) b[1] = c[1];
      if (c[0] > b[2]) b[2] = c[0];
      if (c[1] > b[3]) b[3] = c[1];
    } else {
      for (const x of c) visit(x);
    }
  };
  const walk = (g) => {
    if (!g) return;
    if (g.type === 'GeometryCollection') g.geometries.forEach(walk);
    else if (g.coordinates) visit(g.coordinates);
  };
  walk(geom);
  return Number.isFinite(b[0]) ? b : null;
}

export function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
