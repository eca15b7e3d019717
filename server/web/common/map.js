// OneGrid browser pages: a MapLibre map on OneGrid's own tiles (the page's origin), the same way
// on every page: tile requests carry the page's token, navigation and scale controls, and map
// errors reported once through the page's `report(text)` (a missing tile, 404, is no error: tiles
// outside the data simply do not exist).
/* global maplibregl */

/**
 * @param {object} o  container, style, center, zoom, maxZoom; api (its token goes with our own
 *                    requests); report(text) shows an error once
 */
export function createMap({ container, style, center, zoom, maxZoom, api, report }) {
  const origin = window.location.origin;
  const map = new maplibregl.Map({
    container,
    style,
    center,
    zoom,
    maxZoom,
    attributionControl: { compact: true },
    transformRequest: (url) => (url.startsWith(origin) && api.token ? { url, headers: { Authorization: `Bearer ${api.token}` } } : { url }),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
  map.on('error', (e) => {
    const status = e && e.error && e.error.status;
    if (status === 404) return;
    report((e && e.error && e.error.message) || 'map error');
  });
  return map;
}
