// onegrid demo-history: a synthetic but realistic history of cases for the demo district, written
// with complete event logs (the store's import path), for the dashboard, the assessment and the
// benchmarks. Deterministic for a seed. Cases follow the workflow's rules: register → dispatch
// (deadline from the category and the working-day calendar) → accept → handle → verify (sometimes
// failing into rework) → close → rating (sometimes unsatisfied and reopened); a share is
// self-handled by grid workers or voided; departments differ in speed, so some cases run overdue
// and escalate. Places follow population; a few persistent hotspot grids and a few emerging ones
// (rising over the last eight weeks) are seeded and listed in the output.

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli.hpp"
#include "onegrid/core/calendar.hpp"
#include "onegrid/core/geography.hpp"
#include "onegrid/core/routing.hpp"
#include "onegrid/core/spatialite_store.hpp"
#include "onegrid/data/demo_district.hpp"

namespace onegrid::cli {
namespace {

using core::Event;
using core::Incident;
using core::Role;
using core::Status;
using core::Timestamp;
constexpr Timestamp hour = core::ms_per_hour;

struct GridInfo {
    std::string code;
    spatial::Box box;
    double weight = 1;
};

class Simulator {
public:
    Simulator(core::Store& store, Timestamp from, Timestamp to, Timestamp now, std::uint64_t seed)
        : m_store(store), m_from(from), m_to(to), m_now(now), m_rng(seed), m_calendar(store.calendar()),
          m_routing(store.routing_rules()) {
        m_geo.load_current(store, now);
        const auto geo = m_geo.get();
        if (!geo->base) throw std::runtime_error("the database has no base grid layer: import one first");
        for (const auto& c : store.categories()) m_categories.push_back(c);
        if (m_categories.empty()) throw std::runtime_error("the database has no categories: run onegrid setup first");
        std::sort(m_categories.begin(), m_categories.end(), [](auto& a, auto& b) { return a.code < b.code; });
        // Category mix: street order, sanitation and facilities dominate; social classes are rarer.
        for (const auto& c : m_categories) {
            const std::string major = c.code.substr(0, 2);
            double w = 1.0;
            if (major == "06" || major == "09") w = 6.0;
            else if (major == "01" || major == "03") w = 4.0;
            else if (major == "02" || major == "08") w = 3.0;
            else if (major >= "11") w = 1.5;
            m_category_weights.push_back(w);
        }
        for (const auto& f : store.features("grids", geo->base->version)) {
            GridInfo g;
            g.code = f.code;
            g.box = spatial::bounds(f.geometry);
            const auto it = f.properties.find("population");
            g.weight = it != f.properties.end() ? std::max(1.0, std::strtod(it->second.c_str(), nullptr)) : 1000.0;
            m_grids.push_back(g);
        }
        std::sort(m_grids.begin(), m_grids.end(), [](auto& a, auto& b) { return a.code < b.code; });
        // Hotspots: every 97th grid is persistently busy (×5); every 211th emerges over the last
        // eight weeks of the period (×1 → ×10).
        for (std::size_t i = 0; i < m_grids.size(); ++i) {
            if (i % 97 == 13) m_persistent.push_back(i);
            if (i % 211 == 40) m_emerging.push_back(i);
        }
        for (auto i : m_persistent) m_grids[i].weight *= 5;
        m_total_weight = 0;
        for (const auto& g : m_grids) m_total_weight += g.weight;
        // Departments: some keep their deadlines, some do not.
        for (const auto& d : store.departments()) m_speed[d.code] = 0.35 + 0.6 * m_rng.uniform();
    }

    [[nodiscard]] const std::vector<std::size_t>& persistent() const { return m_persistent; }
    [[nodiscard]] const std::vector<std::size_t>& emerging() const { return m_emerging; }
    [[nodiscard]] const GridInfo& grid(std::size_t i) const { return m_grids[i]; }

    core::CaseRecord make(std::size_t n) {
        core::CaseRecord rec;
        Incident& i = rec.incident;
        i.request_id = "demo-history:" + std::to_string(n);
        // When: more in daytime and on working days.
        Timestamp t = 0;
        for (;;) {
            t = m_from + static_cast<Timestamp>(m_rng.uniform() * static_cast<double>(m_to - m_from));
            const int h = static_cast<int>(((t + core::china_utc_offset) / hour) % 24);
            const double p = (h >= 8 && h < 20 ? 1.0 : 0.25) * (m_calendar.is_workday(core::civil_date(t)) ? 1.0 : 0.6);
            if (m_rng.uniform() < p) break;
        }
        // Where: a grid by population (hotspots weighted), an emerging hotspot late in the period.
        std::size_t gi = pick_grid();
        const Timestamp emerging_start = m_to - 56 * 24 * hour;
        if (t > emerging_start && !m_emerging.empty() && m_rng.uniform() < 0.004 * static_cast<double>(t - emerging_start) / (56.0 * 24 * hour)) {
            gi = m_emerging[m_rng.next() % m_emerging.size()];
        }
        const auto geo = m_geo.get();
        spatial::Point p{};
        core::Geography::Placement place;
        for (int tries = 0;; ++tries) {
            const auto& b = m_grids[gi].box;
            p = {std::round(m_rng.uniform(b.minx, b.maxx) * 1e7) / 1e7, std::round(m_rng.uniform(b.miny, b.maxy) * 1e7) / 1e7};
            place = geo->place(p);
            if (place.grid == m_grids[gi].code || tries > 200) break;
        }
        const auto& cat = m_categories[pick_category()];
        const double r = m_rng.uniform();
        i.source = r < 0.6 ? core::Source::grid_worker : r < 0.85 ? core::Source::hotline : r < 0.95 ? core::Source::citizen
                                                                                                        : core::Source::department;
        i.category = cat.code;
        i.description = cat.name;
        i.location = p;
        i.original = p;
        i.original_crs = i.source == core::Source::grid_worker ? "cgcs2000" : "wgs84";
        i.grid = place.grid;
        i.grid_version = place.grid_version;
        i.community = place.community;
        i.town = place.town;
        i.outside = place.outside;
        i.business = place.business;
        i.reporter = {"", "", i.source == core::Source::grid_worker ? "gw-" + place.grid : "resident-" + std::to_string(m_rng.next() % 5000)};
        i.reported_at = t;
        i.updated_at = t;
        const auto route = m_routing.route(i);
        const std::string department = route ? route->department : "";
        i.sub_unit = route ? route->sub_unit : "";
        const std::string worker = "gw-" + place.grid;

        auto& ev = rec.events;
        Status status = Status::reported;
        auto add = [&](Timestamp at, const std::string& actor, Role role, const std::string& action, std::optional<Status> to,
                       const std::string& note = "", const nlohmann::json& data = nullptr) {
            if (at > m_now) return false;  // the future has not happened yet
            Event e;
            e.at = at;
            e.actor = actor;
            e.role = role;
            e.action = action;
            e.from = status;
            e.to = to ? *to : status;
            e.note = note;
            if (!data.is_null()) e.data = data.dump();
            if (to) status = *to;
            i.status = status;
            i.updated_at = at;
            ev.push_back(std::move(e));
            return true;
        };
        add(t, i.source == core::Source::grid_worker ? worker : "op-1", i.source == core::Source::grid_worker ? Role::grid_worker : Role::hotline_operator,
            "report", Status::reported, "", nlohmann::json{{"source", core::to_string(i.source)}});
        i.department = department;
        Timestamp at = t;
        auto later = [&](double mean_hours) {
            at += static_cast<Timestamp>(std::max(0.02, -std::log(1.0 - m_rng.uniform()) * mean_hours) * static_cast<double>(hour));
            return at;
        };
        // Self-handled on the spot by the grid worker, or voided as invalid/duplicate.
        if (i.source == core::Source::grid_worker && m_rng.uniform() < 0.12) {
            if (add(later(0.5), worker, Role::grid_worker, "self_handle", Status::closed, "当场处置")) {
                i.self_handled = true;
                i.closed_at = at;
            }
            rate(i, rec, at, false, add);
            return rec;
        }
        if (m_rng.uniform() < 0.04) {
            add(later(1.0), "cc-1", Role::command_centre, "void", Status::voided, "重复上报");
            return rec;
        }
        if (!add(later(1.0), "cc-1", Role::command_centre, "register", Status::registered)) return rec;
        if (department.empty()) return rec;
        const double speed = m_speed.count(department) ? m_speed[department] : 0.6;
        auto dispatch = [&](const std::string& dep) {
            if (!add(later(0.8), "cc-1", Role::command_centre, "dispatch", Status::dispatched, "",
                     nlohmann::json{{"department", dep}}))
                return false;
            i.due_at = m_calendar.add(at, cat.limit, cat.limit_unit);
            i.warn_at = m_calendar.add(at, cat.limit * 0.8, cat.limit_unit);
            i.escalation_level = 0;
            i.warned_at.reset();
            return true;
        };
        if (!dispatch(department)) return finish_open(i, rec);
        if (m_rng.uniform() < 0.04) {  // wrongly dispatched: returned, then dispatched again
            if (!add(later(3), "h-" + department, Role::department_handler, "return", Status::returned, "非本部门职责")) return finish_open(i, rec);
            if (!dispatch(department)) return finish_open(i, rec);
        }
        if (!add(later(2), "h-" + department, Role::department_handler, "accept", Status::accepted)) return finish_open(i, rec);
        int reworks = 0;
        for (;;) {
            // Handling time: a share of the time limit, longer for slow departments.
            const double limit_h = static_cast<double>(*i.due_at - at) / static_cast<double>(hour);
            const double share = std::exp(m_rng.normal() * 0.5) * speed;
            at += static_cast<Timestamp>(std::max(0.1, limit_h * share) * static_cast<double>(hour));
            if (!add(at, "h-" + department, Role::department_handler, "handle", Status::handled, "已处置")) return finish_open(i, rec);
            const bool pass = m_rng.uniform() > (reworks == 0 ? 0.08 : 0.3);
            if (pass) {
                if (add(later(4), worker, Role::grid_worker, "verify_pass", Status::closed, "核查通过")) i.closed_at = at;
                else return finish_open(i, rec);
                break;
            }
            if (!add(later(4), worker, Role::grid_worker, "verify_fail", Status::rework, "核查未通过")) return finish_open(i, rec);
            ++reworks;
        }
        const bool late = i.closed_at && i.due_at && *i.closed_at > *i.due_at;
        rate(i, rec, at, late, add);
        return rec;
    }

private:
    template <class Add>
    void rate(Incident& i, core::CaseRecord& rec, Timestamp at, bool late, Add& add) {
        (void)rec;
        if (i.status != Status::closed || m_rng.uniform() > 0.7) return;
        const double r = m_rng.uniform();
        const double unhappy = late ? 0.25 : 0.05;
        const core::Rating rating = r < unhappy ? core::Rating::unsatisfied : r < unhappy + 0.15 ? core::Rating::basically_satisfied
                                                                                                 : core::Rating::satisfied;
        at += static_cast<Timestamp>((2 + 20 * m_rng.uniform()) * static_cast<double>(hour));
        if (add(at, "op-1", Role::hotline_operator, "rate", Status::rated, "", nlohmann::json{{"rating", core::to_string(rating)}}))
            i.rating = rating;
    }

    core::CaseRecord& finish_open(Incident& i, core::CaseRecord& rec) {
        // Open at `now`: the deadline clock and escalations as the scheduler would have left them.
        const bool clock = i.status == Status::dispatched || i.status == Status::accepted || i.status == Status::rework;
        if (clock && i.due_at) {
            if (i.warn_at && m_now >= *i.warn_at) i.warned_at = *i.warn_at;
            int level = 0;
            while (level < 3 && m_now >= *i.due_at + level * 24 * hour) ++level;
            for (int l = 1; l <= level; ++l) {
                Event e;
                e.at = *i.due_at + (l - 1) * 24 * hour;
                e.actor = "scheduler";
                e.role = Role::system;
                e.action = "escalate";
                e.from = i.status;
                e.to = i.status;
                e.data = nlohmann::json{{"level", l}}.dump();
                rec.events.push_back(e);
            }
            std::stable_sort(rec.events.begin(), rec.events.end(), [](const Event& a, const Event& b) { return a.at < b.at; });
            i.escalation_level = level;
            i.next_check_at = level < 3 ? std::optional<Timestamp>(i.warned_at ? *i.due_at + level * 24 * hour : *i.warn_at) : std::nullopt;
        }
        return rec;
    }

    std::size_t pick_grid() {
        double x = m_rng.uniform() * m_total_weight;
        for (std::size_t i = 0; i < m_grids.size(); ++i) {
            x -= m_grids[i].weight;
            if (x <= 0) return i;
        }
        return m_grids.size() - 1;
    }
    std::size_t pick_category() {
        double total = 0;
        for (double w : m_category_weights) total += w;
        double x = m_rng.uniform() * total;
        for (std::size_t i = 0; i < m_category_weights.size(); ++i) {
            x -= m_category_weights[i];
            if (x <= 0) return i;
        }
        return m_category_weights.size() - 1;
    }

    core::Store& m_store;
    Timestamp m_from, m_to, m_now;
    data::Random m_rng;
    core::WorkCalendar m_calendar;
    core::RoutingTable m_routing;
    core::GeographyHolder m_geo;
    std::vector<core::Category> m_categories;
    std::vector<double> m_category_weights;
    std::vector<GridInfo> m_grids;
    double m_total_weight = 0;
    std::vector<std::size_t> m_persistent, m_emerging;
    std::map<std::string, double> m_speed;
};

int run_history(const std::vector<std::string>& args) {
    po::options_description opts("options");
    std::string db, from_s, to_s, now_s;
    std::size_t count = 0;
    std::uint64_t seed = 20260101;
    opts.add_options()("db", po::value(&db)->required(), "the OneGrid database (with grids and reference data)")(
        "incidents", po::value(&count)->required(), "how many cases to generate")(
        "from", po::value(&from_s)->default_value("2026-01-01T00:00:00+08:00"), "first report time")(
        "to", po::value(&to_s), "last report time (default: now)")(
        "now", po::value(&now_s), "the present: later steps have not happened yet (default: --to)")(
        "seed", po::value(&seed)->default_value(20260101), "random seed");
    po::variables_map vm;
    if (!parse(args, opts, vm, "demo-history", "--db FILE --incidents N [--from T] [--to T]")) return 0;
    auto time = [](const std::string& s, const char* what) {
        const auto t = core::parse_iso8601(s);
        if (!t) throw usage_error(std::string(what) + " '" + s + "' is not an RFC 3339 date-time");
        return *t;
    };
    const Timestamp from = time(from_s, "--from");
    const Timestamp to = to_s.empty() ? core::SystemClock().now() : time(to_s, "--to");
    const Timestamp now = now_s.empty() ? to : time(now_s, "--now");
    if (to <= from) throw usage_error("--to must be after --from");
    core::SpatialiteOptions so;
    so.path = db;
    so.create = false;
    auto store = core::open_spatialite_store(so);
    Simulator sim(*store, from, to, now, seed);
    const auto t0 = std::chrono::steady_clock::now();
    Progress progress("cases", count, isatty(2) != 0);
    std::vector<core::CaseRecord> batch;
    std::size_t written = 0;
    for (std::size_t n = 0; n < count; ++n) {
        batch.push_back(sim.make(n));
        if (batch.size() == 5000 || n + 1 == count) {
            written += store->import_cases(batch);
            batch.clear();
            progress.update(n + 1);
        }
    }
    progress.finish();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "demo-history: " << written << " cases written (" << count - written << " already there) in " << secs
              << " s\npersistent hotspots:";
    for (auto i : sim.persistent()) std::cout << " " << sim.grid(i).code;
    std::cout << "\nemerging hotspots (rising over the last 8 weeks):";
    for (auto i : sim.emerging()) std::cout << " " << sim.grid(i).code;
    std::cout << "\n";
    return 0;
}

}  // namespace

Command demo_history_command() {
    return {"demo-history", "generate a synthetic history of cases (with event logs) for the demo district", run_history};
}

}  // namespace onegrid::cli
