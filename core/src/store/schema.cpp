#include "store/schema.hpp"

#include <filesystem>
#include <fstream>
#include <vector>

namespace onegrid::core::detail {
namespace {

struct Migration {
    int version;
    const char* description;
    const char* sql;
};

// Every change to the schema is a new entry at the end; applied migrations never change.
const std::vector<Migration>& migrations() {
    static const std::vector<Migration> list = {
        {1, "initial schema", R"SQL(
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE layers (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('district','town','community','base','business')),
  title TEXT NOT NULL,
  department TEXT,
  plugin TEXT
);
CREATE TABLE layer_versions (
  layer TEXT NOT NULL REFERENCES layers(id),
  version INTEGER NOT NULL,
  effective_from INTEGER NOT NULL,
  published_at INTEGER NOT NULL,
  note TEXT,
  features INTEGER NOT NULL,
  PRIMARY KEY (layer, version)
);
CREATE TABLE layer_features (
  id INTEGER PRIMARY KEY,
  layer TEXT NOT NULL,
  version INTEGER NOT NULL,
  code TEXT NOT NULL,
  name TEXT,
  parent TEXT,
  properties TEXT,
  minx REAL, miny REAL, maxx REAL, maxy REAL,
  UNIQUE (layer, version, code),
  FOREIGN KEY (layer, version) REFERENCES layer_versions(layer, version)
);
SELECT AddGeometryColumn('layer_features', 'geom', 4490, 'MULTIPOLYGON', 'XY', 1);
SELECT CreateSpatialIndex('layer_features', 'geom');

CREATE TABLE departments (code TEXT PRIMARY KEY, name TEXT NOT NULL, plugin TEXT);
CREATE TABLE categories (
  code TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  major_class TEXT,
  kind TEXT,
  time_limit REAL NOT NULL,
  limit_unit TEXT NOT NULL CHECK (limit_unit IN ('hours','workdays')),
  plugin TEXT
);
CREATE TABLE routing_rules (
  id INTEGER PRIMARY KEY,
  category TEXT, layer TEXT, code TEXT,
  department TEXT NOT NULL, sub_unit TEXT,
  priority INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE users (
  id TEXT PRIMARY KEY, name TEXT, role TEXT NOT NULL,
  department TEXT, town TEXT, grid TEXT
);
CREATE TABLE api_tokens (
  hash TEXT PRIMARY KEY,
  user_id TEXT, role TEXT NOT NULL, department TEXT, town TEXT, label TEXT,
  created_at INTEGER NOT NULL, expires_at INTEGER, revoked_at INTEGER
);
CREATE TABLE calendar (date TEXT PRIMARY KEY, workday INTEGER NOT NULL);

-- Incidents, events and outbox messages are never deleted, so plain rowids never repeat (no
-- AUTOINCREMENT bookkeeping on every insert).
CREATE TABLE incidents (
  id INTEGER PRIMARY KEY,
  request_id TEXT UNIQUE,
  source TEXT NOT NULL,
  category TEXT NOT NULL,
  description TEXT, address TEXT,
  lon REAL NOT NULL, lat REAL NOT NULL,
  orig_x REAL, orig_y REAL, orig_crs TEXT,
  grid TEXT, grid_version INTEGER, community TEXT, town TEXT,
  outside INTEGER NOT NULL DEFAULT 0, distance_m REAL,
  department TEXT, sub_unit TEXT,
  status TEXT NOT NULL,
  due_at INTEGER, warn_at INTEGER, warned_at INTEGER, escalation_level INTEGER NOT NULL DEFAULT 0,
  next_check_at INTEGER,
  self_handled INTEGER NOT NULL DEFAULT 0,
  duplicate_of INTEGER, rating TEXT,
  reporter_name TEXT, reporter_phone TEXT, reporter_id TEXT,
  reported_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, closed_at INTEGER,
  media TEXT,
  business TEXT
);
SELECT AddGeometryColumn('incidents', 'geom', 4490, 'POINT', 'XY', 1);
SELECT CreateSpatialIndex('incidents', 'geom');
-- Incidents arrive all the time: OneGrid writes their point geometry and its R*Tree entry itself
-- (in the same transaction), instead of SpatiaLite's generic per-row triggers, which cost more
-- than the rest of an intake together. The index stays SpatiaLite's own idx_incidents_geom.
DROP TRIGGER ggi_incidents_geom;
DROP TRIGGER ggu_incidents_geom;
DROP TRIGGER gii_incidents_geom;
DROP TRIGGER giu_incidents_geom;
DROP TRIGGER gid_incidents_geom;
DROP TRIGGER tmi_incidents_geom;
DROP TRIGGER tmu_incidents_geom;
DROP TRIGGER tmd_incidents_geom;
CREATE INDEX incidents_status ON incidents(status);
CREATE INDEX incidents_grid ON incidents(grid);
CREATE INDEX incidents_department ON incidents(department, status);
CREATE INDEX incidents_reported ON incidents(reported_at);
CREATE INDEX incidents_next_check ON incidents(next_check_at) WHERE next_check_at IS NOT NULL;

CREATE TABLE events (
  id INTEGER PRIMARY KEY,
  incident INTEGER NOT NULL REFERENCES incidents(id),
  seq INTEGER NOT NULL,
  at INTEGER NOT NULL,
  actor TEXT, role TEXT NOT NULL, action TEXT NOT NULL,
  from_status TEXT, to_status TEXT,
  note TEXT, media TEXT, data TEXT,
  UNIQUE (incident, seq)
);
CREATE INDEX events_at ON events(at);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
  BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

CREATE TABLE media (
  hash TEXT PRIMARY KEY, mime TEXT NOT NULL, size INTEGER NOT NULL, created_at INTEGER NOT NULL
);
CREATE TABLE media_links (
  hash TEXT NOT NULL REFERENCES media(hash),
  incident INTEGER NOT NULL REFERENCES incidents(id),
  event INTEGER REFERENCES events(id)
);
CREATE INDEX media_links_incident ON media_links(incident);

CREATE TABLE outbox (
  id INTEGER PRIMARY KEY,
  incident INTEGER, event INTEGER,
  department TEXT, topic TEXT NOT NULL, payload TEXT NOT NULL,
  created_at INTEGER NOT NULL, delivered_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT
);
CREATE INDEX outbox_pending ON outbox(next_attempt_at) WHERE delivered_at IS NULL;
)SQL"},
        {2, "migration log; media usage index", R"SQL(
CREATE TABLE schema_log (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL);
CREATE INDEX media_links_hash ON media_links(hash);
)SQL"},
        {3, "crosswalk of business layers against the base grid", R"SQL(
CREATE TABLE crosswalk_summary (
  layer TEXT PRIMARY KEY,
  base_version INTEGER NOT NULL, business_version INTEGER NOT NULL,
  grids INTEGER NOT NULL, aligned INTEGER NOT NULL, split INTEGER NOT NULL, uncovered INTEGER NOT NULL,
  computed_at INTEGER NOT NULL
);
CREATE TABLE crosswalk (
  layer TEXT NOT NULL,
  base_code TEXT NOT NULL,
  business_code TEXT NOT NULL,
  area_m2 REAL NOT NULL,
  share REAL NOT NULL,
  PRIMARY KEY (layer, base_code, business_code)
) WITHOUT ROWID;
)SQL"},
        {4, "planners' drafts of layers", R"SQL(
CREATE TABLE drafts (
  id INTEGER PRIMARY KEY,
  layer TEXT NOT NULL REFERENCES layers(id),
  name TEXT NOT NULL,
  base_version INTEGER NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  revision INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE draft_features (
  draft INTEGER NOT NULL REFERENCES drafts(id) ON DELETE CASCADE,
  code TEXT NOT NULL,
  name TEXT NOT NULL,
  parent TEXT NOT NULL,
  properties TEXT,
  geom BLOB NOT NULL,
  revision INTEGER NOT NULL,
  PRIMARY KEY (draft, code)
) WITHOUT ROWID;
)SQL"},
        {5, "index of cases by category and place (duplicate check at intake)", R"SQL(
CREATE INDEX incidents_nearby ON incidents(category, lat, lon, reported_at, status);
)SQL"},
        // Every intake wrote a page of it at a random place (a fifth of an intake's WAL bytes),
        // and the duplicate check it served now runs on the spatial index (or, in the server, on
        // the open cases it keeps in memory).
        {6, "drop the category-and-place index: duplicate checks use the spatial index", R"SQL(
DROP INDEX incidents_nearby;
)SQL"},
    };
    return list;
}

}  // namespace

int latest_schema_version() noexcept { return migrations().back().version; }

int inspect_database(const std::string& path) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec) throw store_error("cannot read '" + path + "': " + ec.message());
    if (size == 0) return 0;
    {
        // The SQLite header: anything else is not a database at all.
        std::ifstream in(path, std::ios::binary);
        char header[16] = {};
        in.read(header, sizeof header);
        if (!in || std::string(header, 15) != "SQLite format 3") {
            throw schema_error("'" + path + "' is not a OneGrid database (not a SQLite file); it was left untouched");
        }
    }
    // Read what decides first; refuse after, so that every refusal names the file and says it
    // was left untouched, including SQLite's own reports of a damaged file.
    std::int64_t app = 0;
    std::int64_t version = 0;
    std::string check = "ok";
    try {
        Db db(path, SQLITE_OPEN_READONLY);
        app = db.scalar("PRAGMA application_id").value_or(0);
        version = db.scalar("PRAGMA user_version").value_or(0);
        if (app == onegrid_application_id && version <= latest_schema_version()) {
            // A full structural check for files of ordinary size (seconds for very large ones,
            // which get the schema check only; `onegrid check` runs the full one on demand).
            db.scalar("SELECT count(*) FROM sqlite_master");
            if (size < (std::uintmax_t{256} << 20)) {
                auto quick = db.prepare("PRAGMA quick_check(1)");
                if (quick.step()) check = quick.text(0);
            }
        }
    } catch (const schema_error& e) {  // SQLite found the file damaged or not a database
        throw schema_error("'" + path + "' is corrupt (" + e.what() + "); it was left untouched");
    } catch (const store_error& e) {
        throw schema_error("'" + path + "' cannot be used: " + e.what() + "; it was left untouched");
    }
    if (app != onegrid_application_id) {
        throw schema_error("'" + path + "' is not a OneGrid database (application_id " + std::to_string(app) +
                           "); it was left untouched");
    }
    if (version > latest_schema_version()) {
        throw schema_error("'" + path + "' has schema version " + std::to_string(version) +
                           ", newer than this OneGrid understands (" + std::to_string(latest_schema_version()) +
                           "); upgrade OneGrid. The file was left untouched");
    }
    if (check != "ok") throw schema_error("'" + path + "' is corrupt: " + check + "; it was left untouched");
    return static_cast<int>(version);
}

void migrate(Db& db, int from_version, int to_version) {
    if (to_version <= 0) to_version = latest_schema_version();
    for (const Migration& m : migrations()) {
        if (m.version <= from_version || m.version > to_version) continue;
        db.exec("BEGIN IMMEDIATE");
        try {
            if (m.version == 1) {
                // SpatiaLite's metadata with only the systems OneGrid uses.
                db.exec("SELECT InitSpatialMetadata(0, 'NONE')");
                db.exec("SELECT InsertEpsgSrid(4490); SELECT InsertEpsgSrid(4326); SELECT InsertEpsgSrid(4549); "
                        "SELECT InsertEpsgSrid(3857)");
            }
            db.exec(m.sql);
            if (m.version == 1 &&
                db.scalar("SELECT count(*) FROM geometry_columns WHERE spatial_index_enabled = 1").value_or(0) != 2) {
                throw store_error("SpatiaLite could not create the geometry columns and their spatial indexes");
            }
            if (m.version >= 2) {
                auto log = db.prepare("INSERT INTO schema_log(version, description, applied_at) VALUES (?, ?, datetime('now'))");
                log.bind(1, m.version).bind(2, m.description);
                log.run();
            }
            db.exec("PRAGMA application_id = " + std::to_string(onegrid_application_id));
            db.exec("PRAGMA user_version = " + std::to_string(m.version));
            db.exec("COMMIT");
        } catch (...) {
            sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
            throw;
        }
    }
}

}  // namespace onegrid::core::detail
