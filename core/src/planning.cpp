#include "onegrid/core/planning.hpp"

#include <algorithm>
#include <chrono>
#include <set>

#include <nlohmann/json.hpp>

#include "onegrid/spatial/crs.hpp"

namespace onegrid::core {

namespace {

bool same_geometry(const spatial::MultiPolygon& a, const spatial::MultiPolygon& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].shell != b[i].shell || a[i].holes.size() != b[i].holes.size()) return false;
        for (std::size_t k = 0; k < a[i].holes.size(); ++k)
            if (a[i].holes[k] != b[i].holes[k]) return false;
    }
    return true;
}

std::optional<double> number(const LayerFeature& f, const char* key) {
    auto it = f.properties.find(key);
    if (it == f.properties.end()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(it->second.c_str(), &end);
    if (end == it->second.c_str()) return std::nullopt;
    return v;
}

std::string format_count(double v) { return std::to_string(static_cast<long long>(std::llround(v))); }

bool is_open_status(Status s) { return s != Status::voided && s != Status::closed && s != Status::rated; }

}  // namespace

std::vector<std::string> changed_codes(const std::vector<LayerFeature>& before, const std::vector<LayerFeature>& after) {
    std::map<std::string, const LayerFeature*> old;
    for (const auto& f : before) old[f.code] = &f;
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (const auto& f : after) {
        seen.insert(f.code);
        auto it = old.find(f.code);
        if (it == old.end() || !same_geometry(it->second->geometry, f.geometry)) out.push_back(f.code);
    }
    for (const auto& f : before)
        if (!seen.contains(f.code)) out.push_back(f.code);
    std::sort(out.begin(), out.end());
    return out;
}

struct Planner::Loaded {
    Draft draft;
    LayerInfo layer;
    std::map<std::string, DraftFeature> units;

    const DraftFeature& unit(const std::string& code) const {
        auto it = units.find(code);
        if (it == units.end()) throw not_found_error("no unit " + code + " in draft " + std::to_string(draft.id));
        return it->second;
    }
    std::vector<LayerFeature> features() const {
        std::vector<LayerFeature> out;
        out.reserve(units.size());
        for (const auto& [code, u] : units) out.push_back(u.feature);
        return out;
    }
};

Planner::Planner(Store& store, const Clock& clock, GeographyHolder& geography)
    : m_store(store), m_clock(clock), m_geography(geography) {}

Planner::Loaded Planner::load(std::int64_t id) {
    Loaded l;
    const auto d = m_store.draft(id);
    if (!d) throw not_found_error("no draft " + std::to_string(id));
    l.draft = *d;
    const auto info = m_store.layer(d->layer);
    if (!info) throw not_found_error("the layer '" + d->layer + "' of draft " + std::to_string(id) + " no longer exists");
    l.layer = *info;
    for (auto& u : m_store.draft_features(id)) {
        const std::string code = u.feature.code;
        l.units.emplace(code, std::move(u));
    }
    return l;
}

namespace {

/// The revisions the caller saw of `codes`, required for every one of them.
std::map<std::string, std::int64_t> expect(const Revisions& seen, const std::vector<std::string>& codes) {
    std::map<std::string, std::int64_t> out;
    for (const auto& c : codes) {
        auto it = seen.find(c);
        if (it == seen.end()) throw precondition_required("the edit must name the revision of unit " + c + " it is based on (If-Match)");
        out[c] = it->second;
    }
    return out;
}

/// A unit the caller saw that is gone or changed since: a conflict (checked before the edit is
/// computed; the store checks again atomically when it writes).
template <class Units>
void fresh(const Units& units, const Revisions& seen, const std::vector<std::string>& codes) {
    for (const auto& c : codes) {
        auto s = seen.find(c);
        if (s == seen.end()) continue;
        auto u = units.find(c);
        if (u == units.end()) throw conflict_error("unit " + c + " no longer exists in the draft");
        if (u->second.revision != s->second)
            throw conflict_error("unit " + c + " was changed by someone else (revision " + std::to_string(u->second.revision) +
                                 ", you saw " + std::to_string(s->second) + ")");
    }
}

/// A new code for a piece split off `code` among `taken`: for a 15-digit grid code the next free
/// grid number of its community; otherwise `code-2`, `code-3`, ….
std::string new_code(const std::string& code, const std::set<std::string>& taken) {
    const bool grid = code.size() == 15 && code.find_first_not_of("0123456789") == std::string::npos;
    if (grid) {
        const std::string community = code.substr(0, 12);
        int next = 1;
        for (const auto& t : taken)
            if (t.size() == 15 && t.rfind(community, 0) == 0) next = std::max(next, std::atoi(t.substr(12).c_str()) + 1);
        if (next > 999) throw planning_error("community " + community + " has no free grid number left");
        char buf[16];
        std::snprintf(buf, sizeof buf, "%03d", next);
        return community + buf;
    }
    for (int n = 2;; ++n) {
        const std::string c = code + "-" + std::to_string(n);
        if (!taken.contains(c)) return c;
    }
}

/// "南营社区第15网格" → "南营社区第16网格" for the new code's number; other names get a suffix.
std::string new_name(const std::string& name, const std::string& code) {
    const auto di = name.rfind("第");
    const auto wi = name.rfind("网格");
    if (di != std::string::npos && wi != std::string::npos && wi > di && code.size() == 15) {
        return name.substr(0, di) + "第" + std::to_string(std::atoi(code.substr(12).c_str())) + "网格";
    }
    return name + " (" + code + ")";
}

/// Which of many boxes hold a point: the boxes bucketed on a 64×64 lattice over their bounds.
class BoxBuckets {
public:
    explicit BoxBuckets(const std::vector<spatial::Box>& boxes) : m_boxes(boxes) {
        for (const auto& b : boxes) m_all.expand(b);
        m_cw = std::max(m_all.width() / n, 1e-12);
        m_ch = std::max(m_all.height() / n, 1e-12);
        m_cells.resize(static_cast<std::size_t>(n) * n);
        for (std::size_t k = 0; k < boxes.size(); ++k)
            for (int y = row(boxes[k].miny); y <= row(boxes[k].maxy); ++y)
                for (int x = col(boxes[k].minx); x <= col(boxes[k].maxx); ++x) m_cells[static_cast<std::size_t>(y) * n + x].push_back(k);
    }
    [[nodiscard]] const spatial::Box& bounds() const { return m_all; }
    [[nodiscard]] bool covers(spatial::Point p) const {
        if (!m_all.contains(p)) return false;
        for (const std::size_t k : m_cells[static_cast<std::size_t>(row(p.y)) * n + col(p.x)])
            if (m_boxes[k].contains(p)) return true;
        return false;
    }

private:
    static constexpr int n = 64;
    [[nodiscard]] int col(double x) const { return std::clamp(static_cast<int>((x - m_all.minx) / m_cw), 0, n - 1); }
    [[nodiscard]] int row(double y) const { return std::clamp(static_cast<int>((y - m_all.miny) / m_ch), 0, n - 1); }
    const std::vector<spatial::Box>& m_boxes;
    spatial::Box m_all;
    double m_cw = 1, m_ch = 1;
    std::vector<std::vector<std::size_t>> m_cells;
};

}  // namespace

Draft Planner::create_draft(const std::string& layer, const std::string& name, const std::string& who) {
    const auto info = m_store.layer(layer);
    if (!info) throw not_found_error("no layer '" + layer + "'");
    if (info->kind != LayerKind::base && info->kind != LayerKind::business)
        throw planning_error("only the base grid and business layers are edited in drafts, not '" + layer + "'");
    const auto v = m_store.version_at(layer, m_clock.now());
    const auto versions = m_store.versions(layer);
    // The draft starts from the newest version (which may take effect later).
    const int base = versions.empty() ? 0 : versions.back().version;
    if (name.empty() || name.size() > 200) throw planning_error("a draft needs a name of at most 200 characters");
    Draft d;
    d.layer = layer;
    d.name = name;
    d.base_version = base;
    d.created_by = who;
    d.created_at = m_clock.now();
    (void)v;
    return m_store.create_draft(d, base > 0 ? m_store.features(layer, base) : std::vector<LayerFeature>{});
}

DraftChange Planner::split(std::int64_t draft, const std::string& code, const spatial::Line& line, const Revisions& seen) {
    const Loaded l = load(draft);
    fresh(l.units, seen, {code});
    const auto& unit = l.unit(code);
    DraftEdit edit;
    edit.expected = expect(seen, {code});
    std::vector<spatial::MultiPolygon> pieces;
    try {
        pieces = spatial::split_by_line(unit.feature.geometry, line);
    } catch (const spatial::edit_error& e) {
        throw planning_error("cannot split " + code + ": " + e.what());
    }
    std::set<std::string> taken;
    for (const auto& [c, u] : l.units) taken.insert(c);
    std::vector<double> areas;
    double total = 0;
    for (const auto& p : pieces) total += areas.emplace_back(spatial::area_m2(p));
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        LayerFeature f = unit.feature;
        f.geometry = pieces[i];
        if (i > 0) {
            f.code = new_code(code, taken);
            taken.insert(f.code);
            f.name = new_name(unit.feature.name, f.code);
            edit.expected[f.code] = 0;
        }
        // Residents and households follow the area (a planner corrects them where known).
        for (const char* k : {"population", "households"})
            if (auto v = number(unit.feature, k)) f.properties[k] = format_count(*v * areas[i] / total);
        edit.put.push_back(std::move(f));
    }
    DraftChange out;
    out.changed = m_store.edit_draft(draft, edit, m_clock.now());
    return out;
}

DraftChange Planner::merge(std::int64_t draft, const std::string& a, const std::string& b, const Revisions& seen) {
    if (a == b) throw planning_error("merge needs two different units");
    const Loaded l = load(draft);
    fresh(l.units, seen, {a, b});
    const auto& ua = l.unit(a);
    const auto& ub = l.unit(b);
    DraftEdit edit;
    edit.expected = expect(seen, {a, b});
    LayerFeature f = ua.feature;
    try {
        f.geometry = spatial::merge_adjacent(ua.feature.geometry, ub.feature.geometry);
    } catch (const spatial::edit_error& e) {
        throw planning_error("cannot merge " + a + " and " + b + ": " + e.what());
    }
    for (const char* k : {"population", "households"}) {
        const auto va = number(ua.feature, k);
        const auto vb = number(ub.feature, k);
        if (va || vb) f.properties[k] = format_count(va.value_or(0) + vb.value_or(0));
    }
    edit.put.push_back(std::move(f));
    edit.remove.push_back(b);
    DraftChange out;
    out.changed = m_store.edit_draft(draft, edit, m_clock.now());
    out.removed = {b};
    return out;
}

DraftChange Planner::move_boundary(std::int64_t draft, const std::string& a, const std::string& b, const spatial::Line& line,
                                   const Revisions& seen) {
    if (a == b) throw planning_error("a boundary lies between two different units");
    const Loaded l = load(draft);
    fresh(l.units, seen, {a, b});
    const auto& ua = l.unit(a);
    const auto& ub = l.unit(b);
    DraftEdit edit;
    edit.expected = expect(seen, {a, b});
    std::pair<spatial::MultiPolygon, spatial::MultiPolygon> moved;
    try {
        moved = spatial::move_shared_boundary(ua.feature.geometry, ub.feature.geometry, line);
    } catch (const spatial::edit_error& e) {
        throw planning_error("cannot move the boundary of " + a + " and " + b + ": " + e.what());
    }
    LayerFeature fa = ua.feature;
    LayerFeature fb = ub.feature;
    fa.geometry = std::move(moved.first);
    fb.geometry = std::move(moved.second);
    edit.put = {fa, fb};
    DraftChange out;
    out.changed = m_store.edit_draft(draft, edit, m_clock.now());
    return out;
}

DraftChange Planner::recode(std::int64_t draft, const std::string& from, const std::string& to, const Revisions& seen) {
    if (to.empty() || to.size() > 64) throw planning_error("a code must have 1 to 64 characters");
    const Loaded l = load(draft);
    fresh(l.units, seen, {from});
    const auto& u = l.unit(from);
    if (l.units.contains(to)) throw planning_error("code " + to + " is already used in the draft");
    DraftEdit edit;
    edit.expected = expect(seen, {from});
    edit.expected[to] = 0;
    LayerFeature f = u.feature;
    f.code = to;
    if (l.layer.kind == LayerKind::base && to.size() >= 12) f.parent = to.substr(0, 12);
    edit.put.push_back(std::move(f));
    edit.remove.push_back(from);
    DraftChange out;
    out.changed = m_store.edit_draft(draft, edit, m_clock.now());
    out.removed = {from};
    return out;
}

DraftChange Planner::put_unit(std::int64_t draft, const LayerFeature& unit, std::optional<std::int64_t> seen) {
    (void)load(draft);
    if (unit.code.empty() || unit.code.size() > 64) throw planning_error("a unit needs a code of 1 to 64 characters");
    if (unit.geometry.empty() || !spatial::all_finite(unit.geometry)) throw planning_error("unit " + unit.code + " needs a polygon geometry");
    DraftEdit edit;
    edit.expected[unit.code] = seen.value_or(0);
    edit.put.push_back(unit);
    DraftChange out;
    out.changed = m_store.edit_draft(draft, edit, m_clock.now());
    return out;
}

DraftChange Planner::remove_unit(std::int64_t draft, const std::string& code, std::int64_t seen) {
    const Loaded l = load(draft);
    (void)l.unit(code);
    DraftEdit edit;
    edit.expected[code] = seen;
    edit.remove.push_back(code);
    DraftChange out;
    m_store.edit_draft(draft, edit, m_clock.now());
    out.removed = {code};
    return out;
}

DraftChange Planner::replace_all(std::int64_t draft, const std::vector<LayerFeature>& units) {
    const Loaded l = load(draft);
    std::set<std::string> codes;
    for (const auto& u : units) {
        if (u.code.empty()) throw planning_error("every unit of the replacement needs a code");
        if (!codes.insert(u.code).second) throw planning_error("code " + u.code + " appears twice in the replacement");
    }
    DraftEdit edit;
    for (const auto& [code, u] : l.units) {
        edit.expected[code] = u.revision;
        if (!codes.contains(code)) edit.remove.push_back(code);
    }
    for (const auto& u : units)
        if (!l.units.contains(u.code)) edit.expected[u.code] = 0;
    edit.put = units;
    DraftChange out;
    out.changed = m_store.edit_draft(draft, edit, m_clock.now());
    out.removed = edit.remove;
    return out;
}

spatial::CoverageRules Planner::rules_for(const LayerInfo& layer) const {
    spatial::CoverageRules r;
    if (layer.kind != LayerKind::base) {
        r.code_digits = 0;
        r.sliver_m2 = 500;
    }
    return r;
}

Validation Planner::validate(std::int64_t draft) {
    const auto t0 = std::chrono::steady_clock::now();
    const Loaded l = load(draft);
    std::vector<spatial::CoverageUnit> units;
    units.reserve(l.units.size());
    for (const auto& [code, u] : l.units)
        units.push_back({code, u.feature.geometry, u.feature.parent, number(u.feature, "population"), number(u.feature, "households")});
    std::vector<spatial::CoverageUnit> parents;
    spatial::MultiPolygon extent;
    const Timestamp now = m_clock.now();
    if (l.layer.kind == LayerKind::base) {
        for (const auto& info : m_store.layers()) {
            const auto v = m_store.version_at(info.id, now);
            if (!v) continue;
            if (info.kind == LayerKind::community) {
                for (auto& f : m_store.features(info.id, v->version)) parents.push_back({f.code, std::move(f.geometry), f.parent, {}, {}});
            } else if (info.kind == LayerKind::district) {
                for (auto& f : m_store.features(info.id, v->version)) extent.insert(extent.end(), f.geometry.begin(), f.geometry.end());
            }
        }
    }
    Validation out;
    out.findings = spatial::validate_coverage(units, parents, extent, rules_for(l.layer));
    for (const auto& f : out.findings) (f.severity == spatial::Severity::error ? out.errors : out.warnings)++;
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

std::vector<Move> Planner::reassign(const Geography& before, const Geography& after, const std::vector<spatial::Box>& areas,
                                    const std::string& layer, int version, bool write, std::size_t& moved,
                                    std::vector<Incident>* changed) {
    (void)before;
    std::map<IncidentId, Incident> candidates;
    IncidentQuery q;
    q.open_only = true;
    q.limit = 0;
    if (areas.size() <= 16) {
        for (const auto& box : areas) {
            q.bbox = box;
            m_store.scan_incidents(q, [&](const Incident& i) { candidates.try_emplace(i.id, i); });
        }
    } else {
        // Many areas (a bulk replacement, a re-coding): one scan of their common bounds instead
        // of a query per area, most of which would read the same cases again.
        const BoxBuckets buckets(areas);
        q.bbox = buckets.bounds();
        m_store.scan_incidents(q, [&](const Incident& i) {
            if (buckets.covers(i.location)) candidates.try_emplace(i.id, i);
        });
    }
    const bool base = after.base && after.base->info.id == layer;
    auto target = [&](const Incident& i) -> std::optional<std::pair<std::string, std::string>> {
        const auto p = after.place(i.location);
        if (base) {
            if (p.grid == i.grid) return std::nullopt;
            return std::pair{i.grid, p.grid};
        }
        std::string old_code, new_code;
        for (const auto& b : i.business)
            if (b.layer == layer) old_code = b.code;
        for (const auto& b : p.business)
            if (b.layer == layer) new_code = b.code;
        if (old_code == new_code) return std::nullopt;
        return std::pair{old_code, new_code};
    };
    std::map<std::pair<std::string, std::string>, std::size_t> counts;
    std::vector<std::pair<IncidentId, Decide>> batch;
    const Timestamp now = m_clock.now();
    auto flush = [&] {
        if (batch.empty()) return;
        for (auto& r : m_store.transition_many(batch))
            if (changed != nullptr && r.event.action == "reassign") changed->push_back(std::move(r.incident));
        batch.clear();
    };
    for (const auto& [id, inc] : candidates) {
        if (!is_open_status(inc.status)) continue;
        const auto t = target(inc);
        if (!t) continue;
        ++counts[*t];
        ++moved;
        if (!write) continue;
        batch.emplace_back(id, [&, layer, version, now](const Incident& cur) {
            Change c;
            c.incident = cur;
            Incident& i = c.incident;
            const auto p = after.place(cur.location);
            std::string from, to;
            if (base) {
                from = cur.grid;
                to = p.grid;
                i.grid = p.grid;
                i.grid_version = p.grid_version;
                i.community = p.community;
                i.town = p.town;
                i.outside = p.outside;
                i.distance_m = p.distance_m;
            } else {
                for (auto& b : i.business)
                    if (b.layer == layer) from = b.code;
                i.business.erase(std::remove_if(i.business.begin(), i.business.end(), [&](const GridAssignment& g) { return g.layer == layer; }),
                                 i.business.end());
                for (const auto& b : p.business)
                    if (b.layer == layer) {
                        to = b.code;
                        i.business.push_back(b);
                    }
            }
            if (from == to) return c;  // changed meanwhile: nothing to record
            i.updated_at = now;
            Event& e = c.event;
            e.at = now;
            e.actor = "planner";
            e.role = Role::system;
            e.action = "reassign";
            e.from = cur.status;
            e.to = cur.status;
            e.note = layer + " version " + std::to_string(version) + ": " + (from.empty() ? "(none)" : from) + " → " + (to.empty() ? "(none)" : to);
            e.data = nlohmann::json{{"layer", layer}, {"version", version}, {"from", from}, {"to", to}}.dump();
            return c;
        });
        if (batch.size() >= 2000) flush();
    }
    flush();
    std::vector<Move> out;
    for (const auto& [k, n] : counts) out.push_back({k.first, k.second, n});
    return out;
}

PublishPreview Planner::preview(std::int64_t draft) {
    const Loaded l = load(draft);
    const auto base_features = l.draft.base_version > 0 ? m_store.features(l.layer.id, l.draft.base_version) : std::vector<LayerFeature>{};
    const auto now_features = l.features();
    PublishPreview out;
    out.changed = changed_codes(base_features, now_features);
    std::vector<spatial::Box> areas;
    std::set<std::string> changed(out.changed.begin(), out.changed.end());
    for (const auto& f : base_features)
        if (changed.contains(f.code)) areas.push_back(spatial::bounds(f.geometry));
    for (const auto& f : now_features)
        if (changed.contains(f.code)) areas.push_back(spatial::bounds(f.geometry));
    const auto before = m_geography.get();
    Geography after = *before;
    auto layer = build_layer(l.layer, l.draft.base_version + 1, now_features);
    if (l.layer.kind == LayerKind::base) {
        after.base = layer;
    } else {
        bool found = false;
        for (auto& b : after.business)
            if (b->info.id == l.layer.id) {
                b = layer;
                found = true;
            }
        if (!found) after.business.push_back(layer);
    }
    std::size_t moved = 0;
    out.moves = reassign(*before, after, areas, l.layer.id, l.draft.base_version + 1, false, moved, nullptr);
    out.incidents_to_move = moved;
    return out;
}

PublishReport Planner::publish(std::int64_t draft, std::optional<Timestamp> effective_from, const std::string& note, const std::string& who) {
    const auto t0 = std::chrono::steady_clock::now();
    std::lock_guard lock(m_publish);
    const Loaded l = load(draft);
    const auto versions = m_store.versions(l.layer.id);
    const int latest = versions.empty() ? 0 : versions.back().version;
    if (latest != l.draft.base_version) {
        throw conflict_error("layer '" + l.layer.id + "' got version " + std::to_string(latest) + " after draft " + std::to_string(draft) +
                             " was made from version " + std::to_string(l.draft.base_version) + ": start a new draft");
    }
    PublishReport report;
    const Validation v = validate(draft);
    report.validation_seconds = v.seconds;
    if (v.errors > 0) {
        throw validation_failed("draft " + std::to_string(draft) + " has " + std::to_string(v.errors) +
                                    " error(s): fix them before publishing (validate lists them)",
                                v.findings);
    }
    const Timestamp now = m_clock.now();
    const Timestamp eff = effective_from.value_or(now);
    report.version = m_store.publish_version(l.layer.id, l.features(), eff,
                                             note.empty() ? "draft " + std::to_string(draft) + " (" + l.draft.name + ") by " + who : note);
    m_store.delete_draft(draft);
    if (eff <= now) report.moved = apply_due_locked(nullptr);
    report.publish_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return report;
}

std::size_t Planner::apply_due_versions(std::vector<Incident>* moved_out) {
    std::lock_guard lock(m_publish);
    return apply_due_locked(moved_out);
}

std::size_t Planner::apply_due_locked(std::vector<Incident>* moved_out) {
    const Timestamp now = m_clock.now();
    std::size_t total = 0;
    for (const auto& info : m_store.layers()) {
        if (info.kind != LayerKind::base && info.kind != LayerKind::business) continue;
        const auto v = m_store.version_at(info.id, now);
        if (!v) continue;
        const auto before = m_geography.get();
        std::shared_ptr<const IndexedLayer> current;
        if (info.kind == LayerKind::base) {
            current = before->base;
        } else {
            for (const auto& b : before->business)
                if (b->info.id == info.id) current = b;
        }
        if (current && current->version == v->version) continue;
        auto layer = load_layer(m_store, info, v->version);
        Geography after = *before;
        if (info.kind == LayerKind::base) {
            after.base = layer;
        } else {
            bool found = false;
            for (auto& b : after.business)
                if (b->info.id == info.id) {
                    b = layer;
                    found = true;
                }
            if (!found) after.business.push_back(layer);
        }
        std::vector<spatial::Box> areas;
        if (current) {
            const auto old_features = m_store.features(info.id, current->version);
            const auto new_features = m_store.features(info.id, v->version);
            const auto changed = changed_codes(old_features, new_features);
            const std::set<std::string> c(changed.begin(), changed.end());
            for (const auto& f : old_features)
                if (c.contains(f.code)) areas.push_back(spatial::bounds(f.geometry));
            for (const auto& f : new_features)
                if (c.contains(f.code)) areas.push_back(spatial::bounds(f.geometry));
        }
        std::size_t moved = 0;
        if (!areas.empty()) reassign(*before, after, areas, info.id, v->version, true, moved, moved_out);
        m_geography.replace_layer(layer);
        total += moved;
    }
    return total;
}

VersionDiff Planner::diff(const std::string& layer, int from_version, int to_version) {
    if (!m_store.layer(layer)) throw not_found_error("no layer '" + layer + "'");
    bool has_from = false, has_to = false;
    for (const auto& v : m_store.versions(layer)) {
        has_from = has_from || v.version == from_version;
        has_to = has_to || v.version == to_version;
    }
    if (!has_from) throw not_found_error("layer '" + layer + "' has no version " + std::to_string(from_version));
    if (!has_to) throw not_found_error("layer '" + layer + "' has no version " + std::to_string(to_version));
    const auto a = m_store.features(layer, from_version);
    const auto b = m_store.features(layer, to_version);
    std::map<std::string, const LayerFeature*> old;
    for (const auto& f : a) old[f.code] = &f;
    VersionDiff out;
    std::set<std::string> seen;
    for (const auto& f : b) {
        seen.insert(f.code);
        auto it = old.find(f.code);
        if (it == old.end()) {
            out.added.push_back(f.code);
            continue;
        }
        const bool geom = !same_geometry(it->second->geometry, f.geometry);
        const bool attrs = it->second->name != f.name || it->second->parent != f.parent || it->second->properties != f.properties;
        if (geom || attrs) {
            out.changed.push_back({f.code, spatial::area_m2(it->second->geometry), spatial::area_m2(f.geometry), geom, attrs});
        }
    }
    for (const auto& f : a)
        if (!seen.contains(f.code)) out.removed.push_back(f.code);
    return out;
}

}  // namespace onegrid::core
