// The analysis and assessment centre over HTTP (/v1): indicators per unit and period, the monthly
// assessment with grades and rankings, hotspots, the overdue list, the assessment report as CSV
// and XLSX; and the per-grid statistics behind the `grid-stats` collection and tile layer. The
// figures come from the server's CaseLog, which incident_changed keeps current event by event;
// every definition is in docs/indicators.md.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>

#include "default_weights.hpp"
#include "json_writer.hpp"
#include "ogc_support.hpp"
#include "onegrid/core/assessment.hpp"
#include "onegrid/core/hotspots.hpp"

namespace onegrid::server {

using detail::JsonWriter;
namespace o = ogc;

/// What the analysis service keeps between requests: computed tables while no case changed (and
/// for at most a minute, since deadlines pass without events), the grid adjacency per base
/// version, the assessment weights.
struct AnalysisState {
    std::mutex mutex;
    struct Entry {
        std::uint64_t cases_version = 0;
        core::Timestamp minute = 0;
        std::shared_ptr<const void> value;
    };
    std::map<std::string, Entry> cache;
    int adjacency_version = -1;
    std::shared_ptr<const core::GridAdjacency> adjacency;
    std::shared_ptr<const core::AssessmentConfig> weights;
};

namespace {

// ---- parameters -----------------------------------------------------------------------------------

[[noreturn]] void bad(std::string_view name, const std::string& why) {
    throw o::bad_parameter(std::string(name) + ": " + why);
}

core::UnitKind unit_param(const Target& t, core::UnitKind dflt) {
    const auto v = t.param("unit");
    if (!v) return dflt;
    const auto k = core::parse_unit_kind(*v);
    if (!k) bad("unit", "'" + *v + "' is not a unit kind (grid, community, town, department, grid_worker, district)");
    return *k;
}

core::CivilDate date_param(std::string_view name, const std::string& v) {
    const auto d = core::parse_date(v);
    if (!d || v.size() != 10) bad(name, "'" + v + "' is not a date YYYY-MM-DD");
    return *d;
}

core::Period month_period(std::string_view name, const std::string& v) {
    int y = 0;
    int m = 0;
    const bool shape = v.size() == 7 && v[4] == '-' && std::from_chars(v.data(), v.data() + 4, y).ptr == v.data() + 4 &&
                       std::from_chars(v.data() + 5, v.data() + 7, m).ptr == v.data() + 7;
    if (!shape || m < 1 || m > 12 || y < 1970 || y > 9999) bad(name, "'" + v + "' is not a month YYYY-MM");
    return core::calendar_period(core::PeriodKind::month, {y, m, 1});
}

core::Period week_period(std::string_view name, const std::string& v) {
    int y = 0;
    int w = 0;
    const bool shape = v.size() == 8 && v[4] == '-' && v[5] == 'W' && std::from_chars(v.data(), v.data() + 4, y).ptr == v.data() + 4 &&
                       std::from_chars(v.data() + 6, v.data() + 8, w).ptr == v.data() + 8;
    if (!shape || w < 1 || w > 53 || y < 1970 || y > 9999) bad(name, "'" + v + "' is not an ISO week YYYY-Www");
    // ISO 8601: week 1 is the week with 4 January.
    const core::CivilDate jan4{y, 1, 4};
    const core::CivilDate monday = core::add_days(core::add_days(jan4, -core::weekday(jan4)), 7 * (w - 1));
    auto p = core::calendar_period(core::PeriodKind::week, monday);
    if (p.label != v) bad(name, "year " + std::to_string(y) + " has no week " + std::to_string(w));
    return p;
}

/// One period named by its label: YYYY-MM, YYYY-Www, YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD (both days included).
core::Period period_label(std::string_view name, const std::string& v) {
    if (v.size() == 7) return month_period(name, v);
    if (v.size() == 8 && v[5] == 'W') return week_period(name, v);
    if (v.size() == 10) return core::calendar_period(core::PeriodKind::day, date_param(name, v));
    if (v.size() == 21 && v[10] == '/') {
        const auto a = date_param(name, v.substr(0, 10));
        const auto b = date_param(name, v.substr(11));
        if (b < a) bad(name, "the range " + v + " ends before it starts");
        return core::custom_period(core::start_of_day(a), core::start_of_day(core::add_days(b, 1)));
    }
    bad(name, "'" + v + "' is not a period (YYYY-MM, YYYY-Www, YYYY-MM-DD or YYYY-MM-DD/YYYY-MM-DD)");
}

core::Timestamp as_of_param(const Target& t, core::Timestamp now) {
    const auto v = t.param("as_of");
    if (!v) return now;
    const auto ts = core::parse_iso8601(*v);
    if (!ts) bad("as_of", "'" + *v + "' is not an RFC 3339 date-time");
    if (*ts > now) bad("as_of", *v + " is in the future: figures are taken at a past moment or now");
    return *ts;
}

std::size_t count_param(const Target& t, const char* name, std::size_t dflt, std::size_t max) {
    const auto v = t.param(name);
    if (!v) return dflt;
    std::size_t n = 0;
    const auto r = std::from_chars(v->data(), v->data() + v->size(), n);
    if (v->empty() || r.ec != std::errc() || r.ptr != v->data() + v->size()) bad(name, "'" + *v + "' is not a non-negative integer");
    return std::min(n, max);
}

std::vector<core::UnitInfo> units_of(App::Context& ctx, core::UnitKind kind, core::Timestamp at) {
    std::vector<core::UnitInfo> out;
    auto from_layer = [&](const char* layer) {
        if (auto snap = ctx.layers.at(layer, at))
            for (const auto& f : snap->features) out.push_back({f.code, f.name});
    };
    switch (kind) {
        case core::UnitKind::grid: from_layer("grids"); break;
        case core::UnitKind::community: from_layer("communities"); break;
        case core::UnitKind::town: from_layer("towns"); break;
        case core::UnitKind::department:
            for (const auto& d : ctx.store.departments()) out.push_back({d.code, d.name});
            break;
        case core::UnitKind::grid_worker:
            for (const auto& u : ctx.store.users())
                if (u.role == core::Role::grid_worker) out.push_back({u.id, u.name});
            break;
        case core::UnitKind::district:
            from_layer("district");
            if (out.empty()) out.push_back({"district", ""});
            out.resize(1);
            break;
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.code < b.code; });
    out.erase(std::unique(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.code == b.code; }), out.end());
    return out;
}

/// `town` and `category`, checked against the towns and the category catalogue.
core::CaseFilter filter_params(App::Context& ctx, const Target& t, core::Timestamp now) {
    core::CaseFilter f;
    if (auto v = t.param("town"); v && !v->empty()) {
        const auto towns = units_of(ctx, core::UnitKind::town, now);
        if (std::none_of(towns.begin(), towns.end(), [&](const auto& u) { return u.code == *v; }))
            bad("town", "no town or street with code '" + *v + "'");
        f.town = *v;
    }
    if (auto v = t.param("category"); v && !v->empty()) {
        const bool digits = std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; });
        if (!digits || (v->size() != 2 && v->size() != 4))
            bad("category", "'" + *v + "' is neither a major class (2 digits) nor a category (4 digits)");
        const auto categories = ctx.category_map();
        if (std::none_of(categories->begin(), categories->end(), [&](const auto& c) { return c.first.starts_with(*v); }))
            bad("category", "no category with code or major class '" + *v + "'");
        f.category_prefix = *v;
    }
    return f;
}

/// Grid, community and town codes begin with their town's code: a town filter keeps those units.
void restrict_to_town(std::vector<core::UnitInfo>& units, core::UnitKind kind, const std::string& town) {
    if (town.empty() || !(kind == core::UnitKind::grid || kind == core::UnitKind::community || kind == core::UnitKind::town)) return;
    std::erase_if(units, [&](const core::UnitInfo& u) { return !u.code.starts_with(town); });
}

// ---- cached computations ----------------------------------------------------------------------------

AnalysisState& state(App::Context& ctx) {
    // Created by the first request; Context is built before any thread serves.
    static std::mutex create;
    std::lock_guard lock(create);
    if (!ctx.analysis) ctx.analysis = std::make_shared<AnalysisState>();
    return *ctx.analysis;
}

/// A value computed by `make` for `key`, reused while no case changed within the same minute.
template <typename T, typename F>
std::shared_ptr<const T> cached(App::Context& ctx, const std::string& key, F&& make) {
    AnalysisState& st = state(ctx);
    const std::uint64_t version = ctx.cases_version.load();
    const core::Timestamp minute = ctx.clock.now() / core::ms_per_minute;
    {
        std::lock_guard lock(st.mutex);
        auto it = st.cache.find(key);
        if (it != st.cache.end() && it->second.cases_version == version && it->second.minute == minute)
            return std::static_pointer_cast<const T>(it->second.value);
    }
    auto value = std::make_shared<const T>(make());
    std::lock_guard lock(st.mutex);
    if (st.cache.size() > 64) st.cache.clear();
    st.cache[key] = {version, minute, value};
    return value;
}

std::shared_ptr<const core::AssessmentConfig> weights(App::Context& ctx) {
    AnalysisState& st = state(ctx);
    std::lock_guard lock(st.mutex);
    if (!st.weights) {
        st.weights = std::make_shared<const core::AssessmentConfig>(
            ctx.config.assessment_weights.empty()
                ? core::AssessmentConfig::parse(detail::default_assessment_weights, "data/assessment/weights.json (built in)")
                : core::AssessmentConfig::load(ctx.config.assessment_weights));
    }
    return st.weights;
}

std::shared_ptr<const core::GridAdjacency> adjacency(App::Context& ctx, core::Timestamp now) {
    const auto base = ctx.layers.at("grids", now);
    if (!base) throw core::not_found_error("there is no base grid in force");
    AnalysisState& st = state(ctx);
    {
        std::lock_guard lock(st.mutex);
        if (st.adjacency && st.adjacency_version == base->version) return st.adjacency;
    }
    auto a = std::make_shared<const core::GridAdjacency>(core::grid_adjacency(base->features));
    std::lock_guard lock(st.mutex);
    st.adjacency = a;
    st.adjacency_version = base->version;
    return a;
}

core::IndicatorTable table(App::Context& ctx, core::IndicatorQuery q) {
    std::string key = "table|" + std::string(core::to_string(q.unit)) + "|" + q.filter.town + "|" + q.filter.category_prefix + "|" +
                      std::to_string(q.as_of.value_or(0) / core::ms_per_minute) + "|" + std::to_string(q.units.size());
    for (const auto& p : q.periods) key += "|" + std::to_string(p.from) + "-" + std::to_string(p.until);
    for (const auto& u : q.units) key += "," + u.code;
    return *cached<core::IndicatorTable>(ctx, key, [&] { return ctx.case_log.indicators(q); });
}

// ---- writing ---------------------------------------------------------------------------------------

void write_counts(JsonWriter& w, const core::Counts& c) {
    w.key("counts").begin_object();
    w.key("reported").value(c.reported).key("registered").value(c.registered).key("voided").value(c.voided);
    w.key("dispatched").value(c.dispatched).key("handled").value(c.handled).key("handled_in_time").value(c.handled_in_time);
    w.key("reworked").value(c.reworked).key("due").value(c.due).key("closed").value(c.closed);
    w.key("closed_in_time").value(c.closed_in_time).key("overdue").value(c.overdue).key("self_handled").value(c.self_handled);
    w.key("rated").value(c.rated).key("satisfied").value(c.satisfied).key("basically_satisfied").value(c.basically_satisfied);
    w.key("unsatisfied").value(c.unsatisfied);
    w.end_object();
    w.key("rates").begin_object();
    for (const auto r : core::all_rates) {
        const auto rate = core::rate(c, r);
        w.key(core::to_string(r)).begin_object();
        w.key("value");
        if (const auto v = rate.value()) {
            w.value(*v);
        } else {
            w.null();
        }
        w.key("numerator").value(rate.numerator).key("denominator").value(rate.denominator);
        w.key("label_zh").value(core::label_zh(r));
        w.end_object();
    }
    w.end_object();
    w.key("mean_handling_hours");
    if (const auto h = core::mean_handling_hours(c)) {
        w.value(*h);
    } else {
        w.null();
    }
}

void write_period(JsonWriter& w, const core::Period& p) {
    w.begin_object().key("label").value(p.label).key("from").value(core::format_iso8601(p.from));
    w.key("until").value(core::format_iso8601(p.until)).end_object();
}

void write_filter(JsonWriter& w, const core::CaseFilter& f) {
    w.key("filter").begin_object().key("town").value(f.town).key("category").value(f.category_prefix).end_object();
}

Reply json_ok(std::string body) {
    Reply r = json_reply(std::move(body));
    r.header("Cache-Control", "private, no-cache");
    return r;
}

// ---- endpoints -------------------------------------------------------------------------------------

Reply indicators(App::Context& ctx, const Call& call) {
    const Target& t = call.target;
    o::check_parameters(t, {"unit", "period", "from", "to", "town", "category", "code", "as_of", "limit", "offset"});
    const core::Timestamp now = ctx.clock.now();
    core::IndicatorQuery q;
    q.unit = unit_param(t, core::UnitKind::grid);
    q.as_of = as_of_param(t, now);
    q.filter = filter_params(ctx, t, now);
    const std::string granularity = t.param("period").value_or("month");
    const core::CivilDate today = core::civil_date(*q.as_of - 1);
    const core::CivilDate to = t.has("to") ? date_param("to", *t.param("to")) : today;
    core::CivilDate from{};
    if (t.has("from")) {
        from = date_param("from", *t.param("from"));
    } else if (granularity == "day" || granularity == "custom") {
        from = core::add_days(to, -29);
    } else if (granularity == "week") {
        from = core::add_days(to, -7 * 11);
    } else {
        from = {to.month == 12 ? to.year : to.year - 1, to.month == 12 ? 1 : to.month + 1, 1};
    }
    if (to < from) bad("from", "the range " + core::format_date(from) + " … " + core::format_date(to) + " ends before it starts");
    const core::Timestamp a = core::start_of_day(from);
    const core::Timestamp b = core::start_of_day(core::add_days(to, 1));
    if (granularity == "day") {
        q.periods = core::calendar_periods(core::PeriodKind::day, a, b);
    } else if (granularity == "week") {
        q.periods = core::calendar_periods(core::PeriodKind::week, a, b);
    } else if (granularity == "month") {
        q.periods = core::calendar_periods(core::PeriodKind::month, a, b);
    } else if (granularity == "custom") {
        q.periods = {core::custom_period(a, b)};
    } else {
        bad("period", "'" + granularity + "' is not day, week, month or custom");
    }
    if (q.periods.size() > 800) bad("from", "the range holds " + std::to_string(q.periods.size()) + " periods; at most 800");
    if (q.unit != core::UnitKind::district) {
        q.units = units_of(ctx, q.unit, now);
        restrict_to_town(q.units, q.unit, q.filter.town);
        if (auto codes = t.param("code")) {
            std::set<std::string> wanted;
            std::size_t start = 0;
            for (std::size_t i = 0; i <= codes->size(); ++i) {
                if (i == codes->size() || (*codes)[i] == ',') {
                    if (i > start) wanted.insert(codes->substr(start, i - start));
                    start = i + 1;
                }
            }
            for (const auto& c : wanted)
                if (std::none_of(q.units.begin(), q.units.end(), [&](const auto& u) { return u.code == c; }))
                    bad("code", "no " + std::string(core::to_string(q.unit)) + " '" + c + "'");
            std::erase_if(q.units, [&](const core::UnitInfo& u) { return !wanted.contains(u.code); });
        }
    } else {
        q.units = units_of(ctx, q.unit, now);
    }
    if (q.units.size() * q.periods.size() > 400000)
        bad("period", "units × periods is " + std::to_string(q.units.size() * q.periods.size()) +
                          "; narrow it (at most 400000 cells): fewer periods, a town, or code=");
    const auto tab = table(ctx, q);
    const std::size_t limit = count_param(t, "limit", 5000, 100000);
    const std::size_t offset = count_param(t, "offset", 0, 100000000);
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.key("unit").value(core::to_string(tab.kind)).key("unit_zh").value(core::label_zh(tab.kind));
    w.key("period").value(granularity).key("from").value(core::format_date(from)).key("to").value(core::format_date(to));
    w.key("as_of").value(core::format_iso8601(*q.as_of));
    write_filter(w, q.filter);
    w.key("definitions").value("docs/indicators.md");
    w.key("periods").begin_array();
    for (const auto& p : tab.periods) write_period(w, p);
    w.end_array();
    w.key("total").value(static_cast<std::int64_t>(tab.units.size()));
    w.key("offset").value(static_cast<std::int64_t>(offset)).key("limit").value(static_cast<std::int64_t>(limit));
    w.key("units").begin_array();
    for (std::size_t u = offset; u < tab.units.size() && u < offset + limit; ++u) {
        w.begin_object().key("code").value(tab.units[u].code).key("name").value(tab.units[u].name);
        w.key("periods").begin_array();
        for (std::size_t p = 0; p < tab.periods.size(); ++p) {
            w.begin_object().key("period").value(tab.periods[p].label);
            write_counts(w, tab.at(u, p));
            w.end_object();
        }
        w.end_array().end_object();
    }
    w.end_array().end_object();
    return json_ok(std::move(out));
}

/// The month of `month=` (default: the current month, Beijing time).
core::Period month_param(const Target& t, core::Timestamp now) {
    if (auto v = t.param("month")) return month_period("month", *v);
    return core::calendar_period(core::PeriodKind::month, core::civil_date(now));
}

core::Assessment assessment_of(App::Context& ctx, core::UnitKind kind, const core::Period& month, const core::CaseFilter& filter,
                               core::Timestamp as_of) {
    core::IndicatorQuery q;
    q.unit = kind;
    q.periods = {month};
    q.filter = filter;
    q.as_of = as_of;
    q.units = units_of(ctx, kind, std::min(as_of, month.until - 1));
    restrict_to_town(q.units, kind, filter.town);
    const auto tab = table(ctx, q);
    return core::assess(tab, 0, *weights(ctx));
}

Reply assessment(App::Context& ctx, const Call& call) {
    const Target& t = call.target;
    o::check_parameters(t, {"unit", "month", "town", "category", "as_of", "sort", "limit", "offset"});
    const core::Timestamp now = ctx.clock.now();
    const auto kind = unit_param(t, core::UnitKind::grid);
    const auto month = month_param(t, now);
    const auto as_of = as_of_param(t, now);
    const auto filter = filter_params(ctx, t, now);
    const std::string sort = t.param("sort").value_or("score");
    std::optional<core::RateId> by_rate;
    if (sort != "score" && sort != "code") {
        by_rate = core::parse_rate_id(sort);
        if (!by_rate) bad("sort", "'" + sort + "' is not score, code or a rate (closing_rate, closing_in_time_rate, handling_in_time_rate, rework_rate, satisfaction_rate)");
    }
    const std::size_t limit = count_param(t, "limit", 5000, 100000);
    const std::size_t offset = count_param(t, "offset", 0, 100000000);
    const auto a = assessment_of(ctx, kind, month, filter, as_of);
    // The order asked for, and the rank in it (equal values share a rank; units without data last).
    std::vector<std::size_t> order(a.units.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::vector<int> sort_rank(a.units.size(), 0);
    if (sort == "code") {
        std::sort(order.begin(), order.end(), [&](auto x, auto y) { return a.units[x].unit.code < a.units[y].unit.code; });
    } else if (by_rate) {
        const bool lower_better = *by_rate == core::RateId::rework;
        auto val = [&](std::size_t i) { return core::rate(a.units[i].counts, *by_rate).value(); };
        std::stable_sort(order.begin(), order.end(), [&](auto x, auto y) {
            const auto vx = val(x);
            const auto vy = val(y);
            if (vx.has_value() != vy.has_value()) return vx.has_value();
            if (!vx) return a.units[x].unit.code < a.units[y].unit.code;
            if (*vx != *vy) return lower_better ? *vx < *vy : *vx > *vy;
            return a.units[x].unit.code < a.units[y].unit.code;
        });
        for (std::size_t k = 0; k < order.size(); ++k) {
            const auto v = val(order[k]);
            if (!v) break;
            sort_rank[order[k]] = (k > 0 && val(order[k - 1]) == v) ? sort_rank[order[k - 1]] : static_cast<int>(k + 1);
        }
    }
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.key("unit").value(core::to_string(kind)).key("unit_zh").value(core::label_zh(kind));
    w.key("month").value(month.label).key("as_of").value(core::format_iso8601(as_of));
    write_filter(w, filter);
    w.key("sort").value(sort);
    w.key("weights").begin_object();
    for (const auto r : core::all_rates) w.key(core::to_string(r)).value(a.weights[static_cast<std::size_t>(r)]);
    w.end_object();
    w.key("grades").value("A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, E below");
    std::map<char, std::int64_t> grade_counts;
    for (const auto& u : a.units)
        if (u.grade != 0) ++grade_counts[u.grade];
    w.key("grade_counts").begin_object();
    for (char g : {'A', 'B', 'C', 'D', 'E'}) w.key(std::string(1, g)).value(grade_counts[g]);
    w.end_object();
    w.key("total").value(static_cast<std::int64_t>(a.units.size()));
    w.key("csv").value(call.base + "/v1/reports/assessment.csv?month=" + month.label + "&unit=" + std::string(core::to_string(kind)));
    w.key("xlsx").value(call.base + "/v1/reports/assessment.xlsx?month=" + month.label + "&unit=" + std::string(core::to_string(kind)));
    w.key("units").begin_array();
    for (std::size_t k = offset; k < order.size() && k < offset + limit; ++k) {
        const auto& u = a.units[order[k]];
        w.begin_object().key("code").value(u.unit.code).key("name").value(u.unit.name);
        w.key("score");
        if (u.score) {
            w.value(*u.score);
        } else {
            w.null();
        }
        w.key("grade");
        if (u.grade != 0) {
            w.value(std::string(1, u.grade));
        } else {
            w.null();
        }
        w.key("rank");
        if (u.rank > 0) {
            w.value(u.rank);
        } else {
            w.null();
        }
        if (by_rate) {
            w.key("sort_rank");
            if (sort_rank[order[k]] > 0) {
                w.value(sort_rank[order[k]]);
            } else {
                w.null();
            }
        }
        w.key("rate_scores").begin_object();
        for (const auto r : core::all_rates) {
            w.key(core::to_string(r));
            if (const auto& s = u.rate_scores[static_cast<std::size_t>(r)]) {
                w.value(*s);
            } else {
                w.null();
            }
        }
        w.end_object();
        write_counts(w, u.counts);
        w.end_object();
    }
    w.end_array().end_object();
    return json_ok(std::move(out));
}

/// Where a hotspot week ends: the end of `week=` (or now, when that is earlier); default now.
core::Timestamp hotspot_end(const Target& t, core::Timestamp now) {
    if (auto v = t.param("week")) {
        const auto p = week_period("week", *v);
        if (p.from >= now) bad("week", *v + " has not begun");
        return std::min(p.until, now);
    }
    return now;
}

void write_grid_location(JsonWriter& w, const LayerSnapshot* grids, const std::string& code) {
    const auto it = grids != nullptr ? grids->by_code.find(code) : std::unordered_map<std::string, std::size_t>::const_iterator{};
    if (grids == nullptr || it == grids->by_code.end()) {
        w.key("name").null().key("bbox").null();
        return;
    }
    w.key("name").value(grids->features[it->second].name);
    const auto& b = grids->boxes[it->second];
    w.key("bbox").begin_array().value(b.minx).value(b.miny).value(b.maxx).value(b.maxy).end_array();
}

Reply hotspots(App::Context& ctx, const Call& call) {
    const Target& t = call.target;
    o::check_parameters(t, {"week", "town", "category", "limit"});
    const core::Timestamp now = ctx.clock.now();
    const core::Timestamp end = hotspot_end(t, now);
    const auto filter = filter_params(ctx, t, now);
    const std::size_t limit = count_param(t, "limit", 200, 100000);
    const auto adj = adjacency(ctx, now);
    const std::string key = "hotspots|" + std::to_string(end / core::ms_per_minute) + "|" + filter.town + "|" + filter.category_prefix;
    const auto report = cached<core::HotspotReport>(ctx, key, [&] { return core::find_hotspots(ctx.case_log, *adj, end, {}, filter); });
    const auto grids = ctx.layers.at("grids", now);
    std::string out;
    JsonWriter w(out);
    w.begin_object();
    w.key("end").value(core::format_iso8601(end));
    write_filter(w, filter);
    w.key("week");
    write_period(w, report->week);
    w.key("baseline");
    write_period(w, report->baseline);
    w.key("window");
    write_period(w, report->window);
    const core::HotspotConfig cfg;
    w.key("method").begin_object();
    w.key("emerging").value("this week's count c against the trailing " + std::to_string(cfg.trailing_weeks) +
                            " weeks' b: one-sided exact binomial test of c given c + b with p = 1/" +
                            std::to_string(cfg.trailing_weeks + 1) + "; flagged when c ≥ " + std::to_string(cfg.min_count) +
                            " and p < " + std::to_string(cfg.alpha).substr(0, 4));
    w.key("gi_star").value("Getis-Ord Gi* of the counts of the window over rook adjacency of the grids, z-score classes at 90/95/99%");
    w.key("recurring").value("the same category within 50 m on at least 3 days in the window");
    w.end_object();
    std::int64_t flagged = 0;
    for (const auto& e : report->emerging) flagged += e.flagged ? 1 : 0;
    w.key("emerging_tested").value(static_cast<std::int64_t>(report->emerging.size()));
    w.key("emerging_flagged").value(flagged);
    w.key("emerging").begin_array();
    std::size_t n = 0;
    for (const auto& e : report->emerging) {
        if (n++ >= limit) break;
        w.begin_object().key("grid").value(e.grid);
        w.key("category");
        if (e.category.empty()) {
            w.null();
        } else {
            w.value(e.category);
        }
        w.key("current").value(e.current).key("trailing").value(e.trailing).key("expected").value(e.expected);
        w.key("p_value").value(e.p_value).key("q_value").value(e.q_value).key("flagged").value(e.flagged);
        write_grid_location(w, grids.get(), e.grid);
        w.end_object();
    }
    w.end_array();
    std::map<std::string, std::int64_t> classes;
    w.key("gi_star").begin_array();
    for (const auto& g : report->gi_star) {
        if (g.cls == core::GiClass::none) continue;
        ++classes[std::string(core::to_string(g.cls))];
        w.begin_object().key("grid").value(g.grid).key("count").value(g.count).key("neighbours").value(static_cast<std::int64_t>(g.neighbours));
        w.key("z").value(g.z).key("p_value").value(g.p_value).key("class").value(core::to_string(g.cls));
        write_grid_location(w, grids.get(), g.grid);
        w.end_object();
    }
    w.end_array();
    w.key("gi_star_classes").begin_object();
    for (const auto& [k, v] : classes) w.key(k).value(v);
    w.end_object();
    w.key("recurring").begin_array();
    n = 0;
    for (const auto& r : report->recurring) {
        if (n++ >= limit) break;
        w.begin_object().key("category").value(r.category).key("category_name").value(category_name(ctx, r.category));
        w.key("grid").value(r.grid);
        w.key("location").begin_array().value(r.location.x).value(r.location.y).end_array();
        w.key("radius_m").value(r.radius_m).key("days").value(r.days);
        w.key("first").value(core::format_iso8601(r.first)).key("last").value(core::format_iso8601(r.last));
        w.key("incidents").begin_array();
        for (const auto id : r.incidents) w.value(static_cast<std::int64_t>(id));
        w.end_array().end_object();
    }
    w.end_array().end_object();
    return json_ok(std::move(out));
}

Reply overdue(App::Context& ctx, const Call& call) {
    const Target& t = call.target;
    o::check_parameters(t, {"town", "category", "department", "limit"});
    const core::Timestamp now = ctx.clock.now();
    const auto filter = filter_params(ctx, t, now);
    const std::string department = t.param("department").value_or("");
    std::map<std::string, std::string> departments;
    for (const auto& d : ctx.store.departments()) departments[d.code] = d.name;
    if (!department.empty() && !departments.contains(department)) bad("department", "no department '" + department + "'");
    const std::size_t limit = count_param(t, "limit", 100, 10000);
    std::vector<detail::IncidentRow> rows;
    ctx.incidents.for_each([&](const detail::IncidentRow& r) {
        // Overdue as the map shows it: open, with the department, and past its deadline.
        if (!(r.due_at && *r.due_at < now && core::is_open(r.status) && r.status != core::Status::handled)) return;
        if (!filter.town.empty() && r.town != filter.town) return;
        if (!filter.category_prefix.empty() && !r.category.starts_with(filter.category_prefix)) return;
        if (!department.empty() && r.department != department) return;
        rows.push_back(r);
    });
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return *a.due_at != *b.due_at ? *a.due_at < *b.due_at : a.id < b.id; });
    std::string out;
    JsonWriter w(out);
    w.begin_object().key("as_of").value(core::format_iso8601(now));
    write_filter(w, filter);
    w.key("total").value(static_cast<std::int64_t>(rows.size()));
    w.key("items").begin_array();
    for (std::size_t i = 0; i < rows.size() && i < limit; ++i) {
        const auto& r = rows[i];
        w.begin_object().key("id").value(static_cast<std::int64_t>(r.id));
        w.key("category").value(r.category).key("category_name").value(category_name(ctx, r.category));
        w.key("status").value(core::to_string(r.status)).key("status_zh").value(core::label_zh(r.status));
        w.key("grid").value(r.grid).key("town").value(r.town);
        w.key("department").value(r.department);
        const auto d = departments.find(r.department);
        w.key("department_name").value(d != departments.end() ? d->second : std::string());
        w.key("due_at").value(core::format_iso8601(*r.due_at));
        w.key("hours_overdue").value(std::round(static_cast<double>(now - *r.due_at) / core::ms_per_hour * 10) / 10);
        w.key("escalation_level").value(r.escalation_level);
        w.key("location").begin_array().value(r.location.x).value(r.location.y).end_array();
        w.end_object();
    }
    w.end_array().end_object();
    return json_ok(std::move(out));
}

Reply report(App::Context& ctx, const Call& call, const std::string& format) {
    const Target& t = call.target;
    o::check_parameters(t, {"month", "unit", "town", "category", "as_of"});
    const core::Timestamp now = ctx.clock.now();
    const auto month = month_param(t, now);
    const auto as_of = as_of_param(t, now);
    const auto filter = filter_params(ctx, t, now);
    std::vector<core::UnitKind> kinds;
    if (auto v = t.param("unit")) {
        std::size_t start = 0;
        for (std::size_t i = 0; i <= v->size(); ++i) {
            if (i == v->size() || (*v)[i] == ',') {
                const std::string item = v->substr(start, i - start);
                start = i + 1;
                const auto k = core::parse_unit_kind(item);
                if (!k) bad("unit", "'" + item + "' is not a unit kind (grid, community, town, department, grid_worker, district)");
                if (std::find(kinds.begin(), kinds.end(), *k) == kinds.end()) kinds.push_back(*k);
            }
        }
    } else {
        kinds.assign(core::all_unit_kinds.begin(), core::all_unit_kinds.end());
    }
    std::vector<core::Assessment> all;
    for (const auto k : kinds) all.push_back(assessment_of(ctx, k, month, filter, as_of));
    const std::string name = "assessment-" + month.label;
    Reply r;
    if (format == "csv") {
        r = Reply(http::status::ok, "text/csv; charset=utf-8", core::report_csv(all));
    } else {
        r = Reply(http::status::ok, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", core::report_xlsx(all));
    }
    r.header("Content-Disposition", "attachment; filename=\"" + name + "." + format + "\"");
    r.header("Cache-Control", "private, no-cache");
    return r;
}

}  // namespace

// ---- grid statistics ---------------------------------------------------------------------------------

const std::vector<std::string>& grid_stats_parameters() {
    static const std::vector<std::string> names = {"period", "town", "category"};
    return names;
}

std::shared_ptr<const GridStats> grid_stats(App::Context& ctx, const Target& target) {
    ctx.wait_case_log(std::chrono::seconds(20));
    const core::Timestamp now = ctx.clock.now();
    const core::Period period = target.has("period") ? period_label("period", *target.param("period"))
                                                     : core::calendar_period(core::PeriodKind::month, core::civil_date(now));
    const auto filter = filter_params(ctx, target, now);
    auto grids = ctx.layers.at("grids", std::min(now, period.until - 1));
    if (!grids) grids = ctx.layers.at("grids", now);
    if (!grids) throw core::not_found_error("there is no base grid in force");
    const std::string key = "grid-stats|" + period.label + "|" + std::to_string(period.from) + "|" + filter.town + "|" +
                            filter.category_prefix + "|" + std::to_string(grids->version);
    return cached<GridStats>(ctx, key, [&] {
        GridStats s;
        s.grids = grids;
        s.period = period;
        s.as_of = now;
        s.town = filter.town;
        s.category = filter.category_prefix;
        core::IndicatorQuery q;
        q.unit = core::UnitKind::grid;
        q.periods = {period};
        q.filter = filter;
        q.as_of = now;
        for (const auto& f : grids->features) q.units.push_back({f.code, f.name});
        // The layer's features in their order; the table wants each code once.
        std::sort(q.units.begin(), q.units.end(), [](const auto& a, const auto& b) { return a.code < b.code; });
        q.units.erase(std::unique(q.units.begin(), q.units.end(), [](const auto& a, const auto& b) { return a.code == b.code; }),
                      q.units.end());
        const auto tab = ctx.case_log.indicators(q);
        s.counts.resize(grids->features.size());
        for (std::size_t i = 0; i < grids->features.size(); ++i)
            if (const auto u = tab.find(grids->features[i].code)) s.counts[i] = tab.at(*u, 0);
        return s;
    });
}

spatial::MvtProperties grid_stats_properties(const GridStats& stats, std::size_t i) {
    const auto& f = stats.grids->features[i];
    const core::Counts& c = stats.counts[i];
    spatial::MvtProperties p = {{"code", f.code},
                                {"name", f.name},
                                {"parent", f.parent},
                                {"period", stats.period.label},
                                {"reported", c.reported},
                                {"registered", c.registered},
                                {"dispatched", c.dispatched},
                                {"handled", c.handled},
                                {"handled_in_time", c.handled_in_time},
                                {"reworked", c.reworked},
                                {"due", c.due},
                                {"closed", c.closed},
                                {"closed_in_time", c.closed_in_time},
                                {"overdue", c.overdue},
                                {"self_handled", c.self_handled},
                                {"rated", c.rated},
                                {"satisfied", c.satisfied + c.basically_satisfied}};
    for (const auto r : core::all_rates)
        if (const auto v = core::rate(c, r).value()) p.emplace_back(std::string(core::to_string(r)), *v);
    if (const auto h = core::mean_handling_hours(c)) p.emplace_back("mean_handling_hours", *h);
    return p;
}

// ---- the service -------------------------------------------------------------------------------------

std::optional<Reply> analysis_service(App::Context& ctx, Call& call) {
    const auto& p = call.parts;
    if (p.size() < 2 || p[0] != "v1") return std::nullopt;
    const std::string& what = p[1];
    const bool known = (p.size() == 2 && (what == "indicators" || what == "assessment" || what == "hotspots" || what == "overdue")) ||
                       (p.size() == 3 && what == "reports");
    if (!known) return std::nullopt;
    if (call.req.method() != http::verb::get && call.req.method() != http::verb::head)
        return error_reply(http::status::method_not_allowed, "method_not_allowed", "the analysis endpoints are read-only (GET)");
    if (!call.who.authenticated)
        return error_reply(http::status::unauthorized, "unauthorized", "indicators and assessments need a token");
    // The command centre reads everything; towns read (and are mostly filtered to themselves by
    // the pages); the other roles work cases and are assessed, they do not read the assessment.
    if (!call.who.any_of({core::Role::command_centre, core::Role::town_officer}))
        return error_reply(http::status::forbidden, "forbidden", "indicators and assessments are for the command centre and town leaders");
    try {
        ctx.wait_case_log(std::chrono::seconds(20));
        if (what == "indicators") return indicators(ctx, call);
        if (what == "assessment") return assessment(ctx, call);
        if (what == "hotspots") return hotspots(ctx, call);
        if (what == "overdue") return overdue(ctx, call);
        if (p[2] == "assessment.csv") return report(ctx, call, "csv");
        if (p[2] == "assessment.xlsx") return report(ctx, call, "xlsx");
        return error_reply(http::status::not_found, "not_found", "no report '" + p[2] + "' (assessment.csv, assessment.xlsx)");
    } catch (const o::bad_parameter& e) {
        return error_reply(http::status::bad_request, "invalid_parameter", e.what());
    } catch (const core::indicator_error& e) {
        return error_reply(http::status::bad_request, "invalid_parameter", e.what());
    }
}

}  // namespace onegrid::server
