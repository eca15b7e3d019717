#include "onegrid/core/hotspots.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/errors.hpp"
#include "onegrid/spatial/geos.hpp"

namespace onegrid::core {
namespace {

void check_windows(const std::vector<Period>& windows) {
    if (windows.empty()) throw indicator_error("incident counts need at least one window");
    for (std::size_t k = 0; k < windows.size(); ++k) {
        if (windows[k].until <= windows[k].from) {
            throw indicator_error("window '" + windows[k].label + "' ends before it starts");
        }
        if (k > 0 && windows[k].from < windows[k - 1].until) {
            throw indicator_error("windows must be sorted and must not overlap: '" + windows[k].label + "' starts before '" +
                                  windows[k - 1].label + "' ends");
        }
    }
}

bool counted(const CaseView& c, const CaseFilter& f) {
    return c.status != Status::voided && c.category.starts_with(f.category_prefix) && (f.town.empty() || c.town == f.town);
}

std::int64_t beijing_day(Timestamp t) {
    const Timestamp local = t + china_utc_offset;
    return local / ms_per_day - (local % ms_per_day < 0 ? 1 : 0);
}

spatial::MultiPolygon to_metric(const spatial::MultiPolygon& mp) {
    spatial::MultiPolygon out = mp;
    for (auto& poly : out) {
        for (auto& p : poly.shell) p = spatial::to_metric(p);
        for (auto& hole : poly.holes)
            for (auto& p : hole) p = spatial::to_metric(p);
    }
    return out;
}

}  // namespace

// ---- adjacency ---------------------------------------------------------------------------------

std::optional<std::size_t> GridAdjacency::find(std::string_view code) const {
    const auto it = std::lower_bound(codes.begin(), codes.end(), code);
    if (it == codes.end() || *it != code) return std::nullopt;
    return static_cast<std::size_t>(it - codes.begin());
}

GridAdjacency grid_adjacency(const std::vector<LayerFeature>& grids, const AdjacencyOptions& options) {
    std::vector<const LayerFeature*> sorted;
    for (const auto& g : grids) sorted.push_back(&g);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->code < b->code; });
    for (std::size_t k = 1; k < sorted.size(); ++k) {
        if (sorted[k]->code == sorted[k - 1]->code) throw spatial::data_error("grid code '" + sorted[k]->code + "' appears twice");
    }
    GridAdjacency adj;
    adj.neighbours.resize(sorted.size());
    spatial::GeosContext ctx;
    GEOSContextHandle_t h = ctx.handle();
    std::vector<spatial::GeosGeometryPtr> boundaries;
    std::vector<spatial::GeosGeometryPtr> buffers;
    for (const LayerFeature* g : sorted) {
        adj.codes.push_back(g->code);
        auto geom = spatial::to_geos(ctx, to_metric(g->geometry));
        if (const auto why = spatial::invalid_reason(ctx, geom.get()); !why.empty()) {
            throw spatial::data_error("grid '" + g->code + "' is not a valid polygon: " + why);
        }
        boundaries.push_back(spatial::geos_owned(ctx, GEOSBoundary_r(h, geom.get()), "grid boundary"));
        buffers.push_back(spatial::geos_owned(ctx, GEOSBuffer_r(h, geom.get(), options.tolerance_m, 4), "grid buffer"));
    }
    GEOSSTRtree* tree = GEOSSTRtree_create_r(h, 10);
    std::vector<std::uint32_t> ids(sorted.size());
    for (std::uint32_t i = 0; i < ids.size(); ++i) {
        ids[i] = i;
        GEOSSTRtree_insert_r(h, tree, buffers[i].get(), &ids[i]);
    }
    struct Query {
        std::uint32_t self = 0;
        std::vector<std::uint32_t> hits;
    } q;
    try {
        for (std::uint32_t i = 0; i < ids.size(); ++i) {
            q.self = i;
            q.hits.clear();
            GEOSSTRtree_query_r(
                h, tree, boundaries[i].get(),
                [](void* item, void* data) {
                    auto* qq = static_cast<Query*>(data);
                    const std::uint32_t j = *static_cast<std::uint32_t*>(item);
                    if (j > qq->self) qq->hits.push_back(j);
                },
                &q);
            for (std::uint32_t j : q.hits) {
                // The stretch of i's boundary within the tolerance of j.
                auto shared = spatial::geos_owned(ctx, GEOSIntersection_r(h, boundaries[i].get(), buffers[j].get()),
                                                  "shared boundary");
                double length = 0;
                if (GEOSLength_r(h, shared.get(), &length) != 1) length = 0;
                if (length >= options.min_shared_m) {
                    adj.neighbours[i].push_back(j);
                    adj.neighbours[j].push_back(i);
                }
            }
        }
    } catch (...) {
        GEOSSTRtree_destroy_r(h, tree);
        throw;
    }
    GEOSSTRtree_destroy_r(h, tree);
    for (auto& n : adj.neighbours) std::sort(n.begin(), n.end());
    return adj;
}

GridAdjacency load_grid_adjacency(Store& store, Timestamp at, const AdjacencyOptions& options) {
    const auto v = store.version_at("grids", at);
    if (!v) throw not_found_error("no version of the base grid (layer 'grids') is in force at " + format_iso8601(at));
    return grid_adjacency(store.features("grids", v->version), options);
}

// ---- counts ------------------------------------------------------------------------------------

GridCategoryCounts count_incidents(const CaseLog& log, const std::vector<Period>& windows, const CaseFilter& filter) {
    check_windows(windows);
    GridCategoryCounts out;
    out.windows = windows;
    std::vector<Timestamp> starts;
    for (const auto& w : windows) starts.push_back(w.from);
    std::map<std::pair<std::string, std::string>, std::vector<std::int64_t>> rows;
    log.for_each_case([&](const CaseView& c) {
        if (c.grid.empty() || !counted(c, filter)) return;
        if (c.reported_at < windows.front().from || c.reported_at >= windows.back().until) return;
        const auto k = static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), c.reported_at) - starts.begin()) - 1;
        if (c.reported_at >= windows[k].until) return;
        auto& counts = rows[{std::string(c.grid), std::string(c.category)}];
        if (counts.empty()) counts.resize(windows.size());
        ++counts[k];
    });
    for (auto& [key, counts] : rows) out.rows.push_back({key.first, key.second, std::move(counts)});
    return out;
}

// ---- emerging hotspots -------------------------------------------------------------------------

double binomial_upper_tail(std::int64_t n, std::int64_t k, double p) {
    if (k <= 0) return 1.0;
    if (k > n) return 0.0;
    if (p <= 0.0) return 0.0;
    if (p >= 1.0) return 1.0;
    const double nd = static_cast<double>(n);
    const double lp = std::log(p);
    const double lq = std::log1p(-p);
    auto log_term = [&](std::int64_t i) {
        const double id = static_cast<double>(i);
        return std::lgamma(nd + 1) - std::lgamma(id + 1) - std::lgamma(nd - id + 1) + id * lp + (nd - id) * lq;
    };
    // Sum the tail away from the mean, where the terms shrink: the upper tail itself when k lies
    // above the mean, otherwise one minus the lower tail.
    const bool upper = static_cast<double>(k) > nd * p;
    const std::int64_t start = upper ? k : k - 1;
    double sum = 0;
    double term = 1;  // relative to the first term
    for (std::int64_t i = start; upper ? i <= n : i >= 0; upper ? ++i : --i) {
        sum += term;
        if (term < 1e-17 * sum) break;
        const double id = static_cast<double>(i);
        term *= upper ? (nd - id) / (id + 1) * (p / (1 - p)) : id / (nd - id + 1) * ((1 - p) / p);
    }
    const double tail = std::exp(log_term(start)) * sum;
    return upper ? std::min(1.0, tail) : std::clamp(1.0 - tail, 0.0, 1.0);
}

std::vector<EmergingTest> emerging_hotspots(const CaseLog& log, Timestamp end, const HotspotConfig& config,
                                            const CaseFilter& filter) {
    if (config.week <= 0 || config.trailing_weeks < 1) {
        throw indicator_error("the emerging-hotspot test needs a positive week and at least one trailing week");
    }
    const Timestamp current_from = end - config.week;
    const Timestamp baseline_from = end - (config.trailing_weeks + 1) * config.week;
    struct CB {
        std::int64_t current = 0;
        std::int64_t trailing = 0;
    };
    std::map<std::pair<std::string, std::string>, CB> cells;  // (grid, "") is the grid over all categories
    log.for_each_case([&](const CaseView& c) {
        if (c.grid.empty() || !counted(c, filter) || c.reported_at < baseline_from || c.reported_at >= end) return;
        const bool now = c.reported_at >= current_from;
        auto count = [&](CB& cell) { (now ? cell.current : cell.trailing) += 1; };
        count(cells[{std::string(c.grid), std::string()}]);
        if (!c.category.empty()) count(cells[{std::string(c.grid), std::string(c.category)}]);
    });
    const double p0 = 1.0 / (config.trailing_weeks + 1);
    std::vector<EmergingTest> out;
    for (const auto& [key, cb] : cells) {
        if (cb.current < config.min_count) continue;
        EmergingTest t;
        t.grid = key.first;
        t.category = key.second;
        t.current = cb.current;
        t.trailing = cb.trailing;
        t.expected = static_cast<double>(cb.current + cb.trailing) * p0;
        t.p_value = binomial_upper_tail(cb.current + cb.trailing, cb.current, p0);
        out.push_back(std::move(t));
    }
    std::stable_sort(out.begin(), out.end(), [](const EmergingTest& a, const EmergingTest& b) {
        if (a.category.empty() != b.category.empty()) return a.category.empty();
        return a.p_value < b.p_value;
    });
    // Benjamini–Hochberg within each level: q(i) = min over j ≥ i of p(j)·m / j, by ascending p.
    const auto level_end = std::find_if(out.begin(), out.end(), [](const EmergingTest& t) { return !t.category.empty(); });
    for (auto [first, last] : {std::pair{out.begin(), level_end}, std::pair{level_end, out.end()}}) {
        const auto m = static_cast<double>(last - first);
        double running = 1.0;
        for (auto it = last; it != first;) {
            --it;
            const auto rank = static_cast<double>(it - first + 1);
            running = std::min(running, it->p_value * m / rank);
            it->q_value = running;
        }
    }
    for (auto& t : out) t.flagged = t.p_value < config.alpha && t.q_value <= config.max_q;
    return out;
}

// ---- Getis-Ord Gi* -----------------------------------------------------------------------------

std::string_view to_string(GiClass c) noexcept {
    switch (c) {
        case GiClass::cold_99: return "cold_99";
        case GiClass::cold_95: return "cold_95";
        case GiClass::cold_90: return "cold_90";
        case GiClass::none: return "none";
        case GiClass::hot_90: return "hot_90";
        case GiClass::hot_95: return "hot_95";
        case GiClass::hot_99: return "hot_99";
    }
    return "none";
}

GiClass classify_gi(double z) noexcept {
    const double a = std::abs(z);
    const int level = a >= 2.576 ? 3 : a >= 1.960 ? 2 : a >= 1.645 ? 1 : 0;
    return static_cast<GiClass>(z < 0 ? -level : level);
}

std::vector<GiStar> getis_ord_gi_star(const GridAdjacency& adjacency, std::span<const double> counts) {
    const std::size_t n = adjacency.codes.size();
    if (counts.size() != n || adjacency.neighbours.size() != n) {
        throw indicator_error("Gi* needs one count per grid: " + std::to_string(counts.size()) + " counts for " +
                              std::to_string(n) + " grids");
    }
    std::vector<GiStar> out(n);
    double sum = 0;
    double squares = 0;
    for (double x : counts) {
        sum += x;
        squares += x * x;
    }
    const double nd = static_cast<double>(n);
    const double mean = n > 0 ? sum / nd : 0.0;
    const double s = n > 0 ? std::sqrt(std::max(0.0, squares / nd - mean * mean)) : 0.0;
    const bool varies = n > 1 && s > 1e-12 * std::max(1.0, std::abs(mean));
    for (std::size_t i = 0; i < n; ++i) {
        GiStar& g = out[i];
        g.grid = adjacency.codes[i];
        g.count = counts[i];
        g.neighbours = static_cast<std::uint32_t>(adjacency.neighbours[i].size());
        if (!varies) continue;
        // Binary weights with the grid itself: W = S1 = neighbours + 1.
        const double w = static_cast<double>(g.neighbours) + 1.0;
        double local = counts[i];
        for (std::uint32_t j : adjacency.neighbours[i]) local += counts[j];
        const double spread = (nd * w - w * w) / (nd - 1.0);
        if (spread <= 0) continue;
        g.z = (local - mean * w) / (s * std::sqrt(spread));
        g.p_value = std::erfc(std::abs(g.z) / std::sqrt(2.0));
        g.cls = classify_gi(g.z);
    }
    return out;
}

std::vector<GiStar> gi_star_hotspots(const CaseLog& log, const GridAdjacency& adjacency, Timestamp end,
                                     const HotspotConfig& config, const CaseFilter& filter) {
    std::unordered_map<std::string_view, std::size_t> index;
    for (std::size_t k = 0; k < adjacency.codes.size(); ++k) index.emplace(adjacency.codes[k], k);
    std::vector<double> counts(adjacency.codes.size());
    const Timestamp from = end - config.window;
    log.for_each_case([&](const CaseView& c) {
        if (c.reported_at < from || c.reported_at >= end || !counted(c, filter)) return;
        if (const auto it = index.find(c.grid); it != index.end()) counts[it->second] += 1;
    });
    return getis_ord_gi_star(adjacency, counts);
}

// ---- recurring spots ---------------------------------------------------------------------------

std::vector<RecurringSpot> recurring_spots(const CaseLog& log, Timestamp end, const HotspotConfig& config,
                                           const CaseFilter& filter) {
    struct Item {
        IncidentId id;
        std::string grid;
        spatial::Point xy;  // EPSG:4549
        Timestamp at;
        std::int64_t day;
    };
    std::map<std::string, std::vector<Item>> by_category;
    const Timestamp from = end - config.window;
    log.for_each_case([&](const CaseView& c) {
        if (c.reported_at < from || c.reported_at >= end || !counted(c, filter)) return;
        by_category[std::string(c.category)].push_back({c.id, std::string(c.grid), c.location, c.reported_at, beijing_day(c.reported_at)});
    });
    const double r = config.recurring_radius_m;
    const double r2 = r * r;
    std::vector<RecurringSpot> out;
    for (auto& [category, items] : by_category) {
        if (static_cast<std::int64_t>(items.size()) < config.recurring_min_incidents) continue;
        for (auto& it : items) it.xy = spatial::to_metric(it.xy);
        // A hash of cells as large as the radius: neighbours are in the 3 × 3 cells around.
        auto cell_of = [&](spatial::Point p) {
            return std::pair<std::int64_t, std::int64_t>{static_cast<std::int64_t>(std::floor(p.x / r)),
                                                         static_cast<std::int64_t>(std::floor(p.y / r))};
        };
        std::map<std::pair<std::int64_t, std::int64_t>, std::vector<std::size_t>> cells;
        for (std::size_t k = 0; k < items.size(); ++k) cells[cell_of(items[k].xy)].push_back(k);
        std::vector<std::vector<std::size_t>> near(items.size());
        auto days_of = [&](const std::vector<std::size_t>& members) {
            std::vector<std::int64_t> days;
            for (auto m : members) days.push_back(items[m].day);
            std::sort(days.begin(), days.end());
            return static_cast<int>(std::unique(days.begin(), days.end()) - days.begin());
        };
        std::vector<std::size_t> seeds;
        for (std::size_t k = 0; k < items.size(); ++k) {
            const auto [cx, cy] = cell_of(items[k].xy);
            for (std::int64_t dx = -1; dx <= 1; ++dx) {
                for (std::int64_t dy = -1; dy <= 1; ++dy) {
                    const auto c = cells.find({cx + dx, cy + dy});
                    if (c == cells.end()) continue;
                    for (auto m : c->second) {
                        const double ex = items[m].xy.x - items[k].xy.x;
                        const double ey = items[m].xy.y - items[k].xy.y;
                        if (ex * ex + ey * ey <= r2) near[k].push_back(m);
                    }
                }
            }
            if (static_cast<std::int64_t>(near[k].size()) >= config.recurring_min_incidents &&
                days_of(near[k]) >= config.recurring_min_days) {
                seeds.push_back(k);
            }
        }
        // Greedy: the busiest seed first; an incident belongs to one spot.
        std::vector<int> seed_days(items.size());
        for (auto k : seeds) seed_days[k] = days_of(near[k]);
        std::sort(seeds.begin(), seeds.end(), [&](std::size_t a, std::size_t b) {
            if (near[a].size() != near[b].size()) return near[a].size() > near[b].size();
            if (seed_days[a] != seed_days[b]) return seed_days[a] > seed_days[b];
            return items[a].id < items[b].id;
        });
        std::vector<char> claimed(items.size());
        for (auto k : seeds) {
            if (claimed[k]) continue;
            std::vector<std::size_t> members;
            for (auto m : near[k])
                if (!claimed[m]) members.push_back(m);
            const int days = days_of(members);
            if (static_cast<std::int64_t>(members.size()) < config.recurring_min_incidents || days < config.recurring_min_days) continue;
            RecurringSpot s;
            s.category = category;
            s.grid = items[k].grid;
            s.days = days;
            s.first = items[members.front()].at;
            s.last = s.first;
            for (auto m : members) {
                claimed[m] = 1;
                s.metric.x += items[m].xy.x;
                s.metric.y += items[m].xy.y;
                s.first = std::min(s.first, items[m].at);
                s.last = std::max(s.last, items[m].at);
                s.incidents.push_back(items[m].id);
            }
            s.metric.x /= static_cast<double>(members.size());
            s.metric.y /= static_cast<double>(members.size());
            for (auto m : members) s.radius_m = std::max(s.radius_m, std::hypot(items[m].xy.x - s.metric.x, items[m].xy.y - s.metric.y));
            s.location = spatial::from_metric(s.metric);
            std::sort(s.incidents.begin(), s.incidents.end());
            out.push_back(std::move(s));
        }
    }
    std::sort(out.begin(), out.end(), [](const RecurringSpot& a, const RecurringSpot& b) {
        if (a.incidents.size() != b.incidents.size()) return a.incidents.size() > b.incidents.size();
        if (a.days != b.days) return a.days > b.days;
        if (a.category != b.category) return a.category < b.category;
        return a.incidents.front() < b.incidents.front();
    });
    return out;
}

HotspotReport find_hotspots(const CaseLog& log, const GridAdjacency& adjacency, Timestamp end, const HotspotConfig& config,
                            const CaseFilter& filter) {
    HotspotReport r;
    r.week = custom_period(end - config.week, end);
    r.baseline = custom_period(end - (config.trailing_weeks + 1) * config.week, end - config.week);
    r.window = custom_period(end - config.window, end);
    r.emerging = emerging_hotspots(log, end, config, filter);
    r.gi_star = gi_star_hotspots(log, adjacency, end, config, filter);
    r.recurring = recurring_spots(log, end, config, filter);
    return r;
}

}  // namespace onegrid::core
