// Decodes a Mapbox Vector Tile with the npm package @mapbox/vector-tile and prints what it found
// as JSON: for each layer its version, extent and features (id, type, properties, GeoJSON in
// longitude/latitude). usage: node decode_mvt.mjs NODE_MODULES TILE.mvt Z X Y
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [modules, file, z, x, y] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(join(modules, p)).href);
const { VectorTile } = await load('@mapbox/vector-tile/index.js');
const { default: Protobuf } = await load('pbf/index.js');

const tile = new VectorTile(new Protobuf(new Uint8Array(readFileSync(file))));
const out = {};
for (const [name, layer] of Object.entries(tile.layers)) {
  const features = [];
  for (let i = 0; i < layer.length; i++) {
    const f = layer.feature(i);
    features.push({
      id: f.id,
      type: f.type,
      properties: f.properties,
      geometry: f.toGeoJSON(Number(x), Number(y), Number(z)).geometry,
      rings: f.loadGeometry().length,
    });
  }
  out[name] = { version: layer.version, extent: layer.extent, features };
}
process.stdout.write(JSON.stringify(out));
