#include "onegrid/core/indicators.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <unordered_map>
#include <unordered_set>

namespace onegrid::core {
namespace {

// How the log reduces a case's history: each event that a count depends on becomes a fact
// (32 bytes) in the case's block of the flat fact array; outcomes that become known later (a
// handling sent back to rework, a round closed) are written into the fact they belong to. The
// definitions are in docs/indicators.md; the comments here say how they are implemented.

constexpr Timestamp never = std::numeric_limits<Timestamp>::max();
constexpr std::uint32_t none = 0;  // dictionary index of the empty code
constexpr std::uint32_t initial_block = 8;  // facts reserved per case while loading (most cases need 5 to 7)

enum class Step : std::uint8_t { reported, registered, voided, self_handled, dispatched, handled, round, rated };

// Fact flags.
constexpr std::uint8_t in_time = 1;      // handled: at or before the round's deadline; round: closed by it
constexpr std::uint8_t overdue = 2;      // round: the department held the case at its deadline
constexpr std::uint8_t running = 4;      // round: the department holds it now and has since before the deadline
constexpr std::uint8_t cancelled = 8;    // round: returned (退回) before its deadline
constexpr std::uint8_t no_deadline = 16; // round: the deadline is unknown

struct Fact {
    Timestamp at = 0;           // the event's time; for a round: its deadline
    Timestamp outcome = never;  // handled: sent back to rework at; round: closed at
    std::int64_t value = 0;     // handled: ms since the department got the case; rated: the Rating
    std::uint32_t department = none;
    Step step = Step::reported;
    std::uint8_t flags = 0;
};
static_assert(sizeof(Fact) == 32, "facts are kept compact");

enum class Act : std::uint8_t {
    report, register_case, void_case, dispatch, accept, return_case, handle, verify_pass, verify_fail,
    self_handle, rate, reopen, other,
};

Act parse_act(std::string_view a) {
    static const std::pair<std::string_view, Act> names[] = {
        {"report", Act::report},          {"register", Act::register_case}, {"void", Act::void_case},
        {"dispatch", Act::dispatch},      {"accept", Act::accept},          {"return", Act::return_case},
        {"handle", Act::handle},          {"verify_pass", Act::verify_pass}, {"verify_fail", Act::verify_fail},
        {"self_handle", Act::self_handle}, {"rate", Act::rate},             {"reopen", Act::reopen},
    };
    for (const auto& [n, act] : names)
        if (n == a) return act;
    return Act::other;
}

bool clock_runs(Status s) { return s == Status::dispatched || s == Status::accepted || s == Status::rework; }

// The string value of a top-level key of a JSON object as OneGrid writes event data. Without
// backslashes no string value can contain a quote, so a key found followed by a colon is a key.
std::optional<std::string> json_field(std::string_view json, std::string_view key) {
    if (json.empty()) return std::nullopt;
    if (json.find('\\') != std::string_view::npos) {
        const auto j = nlohmann::json::parse(json, nullptr, false);
        if (!j.is_object()) return std::nullopt;
        const auto it = j.find(std::string(key));
        if (it == j.end() || !it->is_string()) return std::nullopt;
        return it->get<std::string>();
    }
    auto skip_space = [&](std::size_t p) {
        while (p < json.size() && (json[p] == ' ' || json[p] == '\t' || json[p] == '\n' || json[p] == '\r')) ++p;
        return p;
    };
    std::size_t pos = 0;
    while ((pos = json.find(key, pos)) != std::string_view::npos) {
        const std::size_t start = pos;
        pos += key.size();
        if (start == 0 || json[start - 1] != '"' || pos >= json.size() || json[pos] != '"') continue;
        std::size_t p = skip_space(pos + 1);
        if (p >= json.size() || json[p] != ':') continue;
        p = skip_space(p + 1);
        if (p >= json.size() || json[p] != '"') return std::nullopt;
        const std::size_t end = json.find('"', p + 1);
        if (end == std::string_view::npos) return std::nullopt;
        return std::string(json.substr(p + 1, end - p - 1));
    }
    return std::nullopt;
}

struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Codes of one kind, numbered from 1 (0 is the empty code).
class Dictionary {
public:
    Dictionary() : m_codes(1) {}
    std::uint32_t id(std::string_view code) {
        if (code.empty()) return none;
        if (const auto it = m_index.find(code); it != m_index.end()) return it->second;
        const auto id = static_cast<std::uint32_t>(m_codes.size());
        m_codes.emplace_back(code);
        m_index.emplace(std::string(code), id);
        return id;
    }
    [[nodiscard]] std::optional<std::uint32_t> find(std::string_view code) const {
        if (code.empty()) return none;
        const auto it = m_index.find(code);
        if (it == m_index.end()) return std::nullopt;
        return it->second;
    }
    [[nodiscard]] const std::string& code(std::uint32_t id) const { return m_codes[id]; }
    [[nodiscard]] std::size_t size() const noexcept { return m_codes.size(); }

private:
    std::vector<std::string> m_codes;
    std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> m_index;
};

struct Case {
    IncidentId id = 0;
    Timestamp reported_at = 0;
    spatial::Point location;
    std::uint32_t grid = none, community = none, town = none, department = none, worker = none, category = none;
    std::uint32_t first = 0, count = 0, capacity = 0;  // the case's block of facts
    // Where the case stands, to take its next event.
    Timestamp handover_at = never;    // when the department last got the case (dispatch, rework, reopen)
    Timestamp running_since = never;  // the deadline clock runs since; never: it stands still
    std::int32_t last_seq = 0;
    std::int32_t round = -1;          // the current round's fact, within the block
    std::int32_t handle = -1;         // the latest handling's fact, within the block
    std::uint32_t closed_by = none;   // department of the round that closed the case last
    Status status = Status::reported;
};

// What the log takes from an event.
struct EventInput {
    int seq = 0;
    Timestamp at = 0;
    Act act = Act::other;
    Role role = Role::system;
    std::string_view actor;
    std::optional<Status> to;
    std::optional<Timestamp> due;
    std::string department;
    std::optional<Rating> rating;
};

EventInput input_of(const Event& e) {
    EventInput in;
    in.seq = e.seq;
    in.at = e.at;
    in.act = parse_act(e.action);
    in.role = e.role;
    in.actor = e.actor;
    in.to = e.to;
    if (in.act == Act::dispatch || in.act == Act::reopen) {
        if (auto due = json_field(e.data, "due_at")) in.due = parse_iso8601(*due);
        if (auto dep = json_field(e.data, "department")) in.department = std::move(*dep);
    } else if (in.act == Act::rate) {
        if (auto r = json_field(e.data, "rating")) in.rating = parse_rating(*r);
    }
    return in;
}

std::string two_digits(int v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02d", v);
    return buf;
}

std::int64_t day_number(CivilDate d) { return (start_of_day(d, 0)) / ms_per_day; }

}  // namespace

struct CaseLog::Impl {
    mutable std::shared_mutex mutex;
    std::vector<Case> cases;
    std::unordered_map<IncidentId, std::uint32_t> by_id;
    std::vector<Fact> facts;
    std::size_t garbage = 0;  // facts in abandoned blocks
    std::size_t events = 0;
    std::optional<Timestamp> latest;
    Dictionary grids, communities, towns, departments, workers, categories;
    // The deadline rule for events without `due_at`.
    std::unordered_map<std::string, std::pair<double, LimitUnit>, StringHash, std::equal_to<>> limits;
    WorkCalendar calendar;

    std::uint32_t new_case(const Incident& i, std::uint32_t block) {
        const auto index = static_cast<std::uint32_t>(cases.size());
        Case& c = cases.emplace_back();
        c.first = static_cast<std::uint32_t>(facts.size());
        c.capacity = block;
        facts.resize(facts.size() + block);
        by_id.emplace(i.id, index);
        attributes(c, i);
        return index;
    }

    void attributes(Case& c, const Incident& i) {
        c.id = i.id;
        c.reported_at = i.reported_at;
        c.location = i.location;
        c.grid = grids.id(i.grid);
        c.community = communities.id(i.community);
        c.town = towns.id(i.town);
        c.department = departments.id(i.department);
        c.category = categories.id(i.category);
    }

    void reset(Case& c) {
        const Case keep = c;
        c = Case{};
        c.id = keep.id;
        c.reported_at = keep.reported_at;
        c.location = keep.location;
        c.grid = keep.grid;
        c.community = keep.community;
        c.town = keep.town;
        c.department = keep.department;
        c.category = keep.category;
        c.first = keep.first;
        c.capacity = keep.capacity;
    }

    Fact& fact(const Case& c, std::int32_t offset) { return facts[c.first + static_cast<std::uint32_t>(offset)]; }

    std::int32_t add(Case& c, const Fact& f) {
        if (c.count == c.capacity) {
            if (c.first + c.capacity == facts.size()) {
                facts.push_back(f);  // the block is last: it grows in place
                ++c.capacity;
                return static_cast<std::int32_t>(c.count++);
            }
            // Move the block to the end, with room to grow; the old block is garbage.
            const auto first = static_cast<std::uint32_t>(facts.size());
            const std::uint32_t capacity = std::max<std::uint32_t>(4, c.count * 2);
            facts.resize(facts.size() + capacity);
            std::copy_n(facts.begin() + c.first, c.count, facts.begin() + first);
            garbage += c.capacity;
            c.first = first;
            c.capacity = capacity;
        }
        facts[c.first + c.count] = f;
        return static_cast<std::int32_t>(c.count++);
    }

    // Rewrites the fact array with every block exactly as long as it is.
    void compact() {
        std::vector<Fact> packed;
        packed.reserve(facts.size() - garbage);
        for (Case& c : cases) {
            const auto first = static_cast<std::uint32_t>(packed.size());
            packed.insert(packed.end(), facts.begin() + c.first, facts.begin() + c.first + c.count);
            c.first = first;
            c.capacity = c.count;
        }
        facts = std::move(packed);
        garbage = 0;
    }

    void maybe_compact() {
        if (garbage > (1u << 16) && garbage * 2 > facts.size()) compact();
    }

    std::optional<Timestamp> deadline(const Case& c, const EventInput& e) const {
        if (e.due) return e.due;
        const auto it = limits.find(categories.code(c.category));
        if (it == limits.end()) return std::nullopt;
        return calendar.add(e.at, it->second.first, it->second.second);
    }

    // The deadline clock stops at `t`: the round is overdue if its deadline fell while it ran.
    void stop_clock(Case& c, Timestamp t) {
        if (c.round >= 0) {
            Fact& r = fact(c, c.round);
            if (!(r.flags & no_deadline) && c.running_since <= r.at && r.at < t) r.flags |= overdue;
            r.flags &= static_cast<std::uint8_t>(~running);
        }
        c.running_since = never;
    }

    void start_clock(Case& c, Timestamp t) {
        c.running_since = t;
        if (c.round >= 0) {
            Fact& r = fact(c, c.round);
            if (!(r.flags & no_deadline) && t <= r.at) r.flags |= running;
        }
    }

    // Takes the next event of a case.
    void take(Case& c, const EventInput& e) {
        switch (e.act) {
            case Act::report:
                add(c, {c.reported_at, never, 0, none, Step::reported, 0});
                if (e.role == Role::grid_worker) c.worker = workers.id(e.actor);
                break;
            case Act::register_case: add(c, {e.at, never, 0, none, Step::registered, 0}); break;
            case Act::void_case: add(c, {e.at, never, 0, none, Step::voided, 0}); break;
            case Act::self_handle:
                add(c, {e.at, never, 0, none, Step::self_handled, 0});
                c.closed_by = none;
                break;
            case Act::dispatch:
            case Act::reopen: {
                if (c.running_since != never) stop_clock(c, e.at);
                std::uint32_t dep = departments.id(e.department);
                if (dep == none) dep = e.act == Act::reopen && c.round >= 0 ? fact(c, c.round).department : c.department;
                if (e.act == Act::dispatch) add(c, {e.at, never, 0, dep, Step::dispatched, 0});
                // A reopening sends the last handling back: it did not satisfy the resident.
                if (e.act == Act::reopen && c.handle >= 0) {
                    Fact& h = fact(c, c.handle);
                    h.outcome = std::min(h.outcome, e.at);
                }
                const auto due = deadline(c, e);
                c.round = add(c, {due.value_or(e.at), never, 0, dep, Step::round, due ? std::uint8_t{0} : no_deadline});
                c.handle = -1;
                c.handover_at = e.at;
                break;
            }
            case Act::return_case:
                if (c.round >= 0) {
                    Fact& r = fact(c, c.round);
                    if (!(r.flags & no_deadline) && e.at < r.at) r.flags |= cancelled;
                }
                break;
            case Act::handle: {
                Fact h{e.at, never, c.handover_at != never ? e.at - c.handover_at : 0, c.department, Step::handled, 0};
                if (c.round >= 0) {
                    const Fact& r = fact(c, c.round);
                    h.department = r.department;
                    if (!(r.flags & no_deadline) && e.at <= r.at) h.flags = in_time;
                }
                c.handle = add(c, h);
                break;
            }
            case Act::verify_pass:
                if (c.round >= 0) {
                    Fact& r = fact(c, c.round);
                    r.outcome = std::min(r.outcome, e.at);
                    if (!(r.flags & no_deadline) && e.at <= r.at) r.flags |= in_time;
                    c.closed_by = r.department;
                }
                break;
            case Act::verify_fail:
                if (c.handle >= 0) {
                    Fact& h = fact(c, c.handle);
                    h.outcome = std::min(h.outcome, e.at);
                }
                c.handover_at = e.at;
                break;
            case Act::rate:
                if (e.rating) add(c, {e.at, never, static_cast<std::int64_t>(*e.rating), c.closed_by, Step::rated, 0});
                break;
            case Act::accept:
            case Act::other: break;
        }
        if (e.to) c.status = *e.to;
        const bool runs = clock_runs(c.status);
        if (c.running_since != never && !runs) stop_clock(c, e.at);
        else if (c.running_since == never && runs) start_clock(c, e.at);
        if (e.seq > 0) c.last_seq = e.seq;
        else ++c.last_seq;
        ++events;
        if (!latest || e.at > *latest) latest = e.at;
    }

    [[nodiscard]] const Dictionary* dictionary(UnitKind k) const {
        switch (k) {
            case UnitKind::grid: return &grids;
            case UnitKind::community: return &communities;
            case UnitKind::town: return &towns;
            case UnitKind::department: return &departments;
            case UnitKind::grid_worker: return &workers;
            case UnitKind::district: return nullptr;
        }
        return nullptr;
    }
};

// ---- names -----------------------------------------------------------------------------------

std::string_view to_string(UnitKind k) noexcept {
    switch (k) {
        case UnitKind::grid: return "grid";
        case UnitKind::community: return "community";
        case UnitKind::town: return "town";
        case UnitKind::department: return "department";
        case UnitKind::grid_worker: return "grid_worker";
        case UnitKind::district: return "district";
    }
    return "unknown";
}

std::string_view label_zh(UnitKind k) noexcept {
    switch (k) {
        case UnitKind::grid: return "网格";
        case UnitKind::community: return "社区";
        case UnitKind::town: return "街镇";
        case UnitKind::department: return "部门";
        case UnitKind::grid_worker: return "网格员";
        case UnitKind::district: return "区";
    }
    return "未知";
}

std::optional<UnitKind> parse_unit_kind(std::string_view s) noexcept {
    for (UnitKind k : all_unit_kinds)
        if (to_string(k) == s) return k;
    return std::nullopt;
}

std::string_view to_string(RateId r) noexcept {
    switch (r) {
        case RateId::closing: return "closing_rate";
        case RateId::closing_in_time: return "closing_in_time_rate";
        case RateId::handling_in_time: return "handling_in_time_rate";
        case RateId::rework: return "rework_rate";
        case RateId::satisfaction: return "satisfaction_rate";
    }
    return "unknown";
}

std::string_view label_zh(RateId r) noexcept {
    switch (r) {
        case RateId::closing: return "结案率";
        case RateId::closing_in_time: return "按期结案率";
        case RateId::handling_in_time: return "按期处置率";
        case RateId::rework: return "返工率";
        case RateId::satisfaction: return "满意率";
    }
    return "未知";
}

std::optional<RateId> parse_rate_id(std::string_view s) noexcept {
    for (RateId r : all_rates)
        if (to_string(r) == s) return r;
    return std::nullopt;
}

// ---- counts and rates --------------------------------------------------------------------------

Counts& Counts::operator+=(const Counts& o) noexcept {
    reported += o.reported;
    registered += o.registered;
    voided += o.voided;
    dispatched += o.dispatched;
    handled += o.handled;
    handled_in_time += o.handled_in_time;
    reworked += o.reworked;
    due += o.due;
    closed += o.closed;
    closed_in_time += o.closed_in_time;
    overdue += o.overdue;
    self_handled += o.self_handled;
    rated += o.rated;
    satisfied += o.satisfied;
    basically_satisfied += o.basically_satisfied;
    unsatisfied += o.unsatisfied;
    handling_ms += o.handling_ms;
    return *this;
}

std::optional<double> Rate::value() const noexcept {
    if (denominator == 0) return std::nullopt;
    return static_cast<double>(numerator) / static_cast<double>(denominator);
}

Rate rate(const Counts& c, RateId r) noexcept {
    switch (r) {
        case RateId::closing: return {c.closed, c.due};
        case RateId::closing_in_time: return {c.closed_in_time, c.due};
        case RateId::handling_in_time: return {c.handled_in_time, c.handled};
        case RateId::rework: return {c.reworked, c.handled};
        case RateId::satisfaction: return {c.satisfied + c.basically_satisfied, c.rated};
    }
    return {};
}

std::optional<double> mean_handling_hours(const Counts& c) noexcept {
    if (c.handled == 0) return std::nullopt;
    return static_cast<double>(c.handling_ms) / static_cast<double>(c.handled) / static_cast<double>(ms_per_hour);
}

// ---- periods -----------------------------------------------------------------------------------

Period calendar_period(PeriodKind kind, CivilDate d) {
    Period p;
    switch (kind) {
        case PeriodKind::day:
            p.from = start_of_day(d);
            p.until = start_of_day(add_days(d, 1));
            p.label = format_date(d);
            break;
        case PeriodKind::week: {
            const CivilDate monday = add_days(d, -weekday(d));
            p.from = start_of_day(monday);
            p.until = start_of_day(add_days(monday, 7));
            // ISO 8601: the week belongs to the year of its Thursday.
            const CivilDate thursday = add_days(monday, 3);
            const auto week = (day_number(thursday) - day_number({thursday.year, 1, 1})) / 7 + 1;
            p.label = std::to_string(thursday.year) + "-W" + two_digits(static_cast<int>(week));
            break;
        }
        case PeriodKind::month: {
            const CivilDate first{d.year, d.month, 1};
            const CivilDate next = d.month == 12 ? CivilDate{d.year + 1, 1, 1} : CivilDate{d.year, d.month + 1, 1};
            p.from = start_of_day(first);
            p.until = start_of_day(next);
            p.label = std::to_string(d.year) + "-" + two_digits(d.month);
            break;
        }
    }
    return p;
}

std::vector<Period> calendar_periods(PeriodKind kind, Timestamp from, Timestamp until) {
    if (until <= from) {
        throw indicator_error("periods from " + format_iso8601(from) + " until " + format_iso8601(until) +
                              ": the end must be after the start");
    }
    std::vector<Period> out;
    for (Period p = calendar_period(kind, civil_date(from)); p.from < until; p = calendar_period(kind, civil_date(p.until))) {
        out.push_back(p);
    }
    return out;
}

Period custom_period(Timestamp from, Timestamp until) {
    if (until <= from) {
        throw indicator_error("period from " + format_iso8601(from) + " until " + format_iso8601(until) +
                              ": the end must be after the start");
    }
    Period p{from, until, ""};
    const CivilDate a = civil_date(from);
    const CivilDate b = civil_date(until);
    if (start_of_day(a) == from && start_of_day(b) == until) p.label = format_date(a) + "/" + format_date(b);
    else p.label = format_iso8601(from) + "/" + format_iso8601(until);
    return p;
}

std::optional<std::size_t> IndicatorTable::find(std::string_view code) const {
    for (std::size_t i = 0; i < units.size(); ++i)
        if (units[i].code == code) return i;
    return std::nullopt;
}

// ---- the log -----------------------------------------------------------------------------------

CaseLog::CaseLog() : m_impl(std::make_unique<Impl>()) {}
CaseLog::~CaseLog() = default;
CaseLog::CaseLog(CaseLog&&) noexcept = default;
CaseLog& CaseLog::operator=(CaseLog&&) noexcept = default;

void CaseLog::set_deadline_rule(const std::vector<Category>& categories, WorkCalendar calendar) {
    std::unique_lock lock(m_impl->mutex);
    m_impl->limits.clear();
    for (const auto& c : categories) m_impl->limits[c.code] = {c.limit, c.limit_unit};
    m_impl->calendar = std::move(calendar);
}

CaseLog CaseLog::load(Store& store) {
    CaseLog log;
    log.set_deadline_rule(store.categories(), WorkCalendar(store.calendar()));
    Impl& im = *log.m_impl;
    std::unique_lock lock(im.mutex);
    store.scan_incidents(IncidentQuery{}, [&](const Incident& i) {
        if (im.by_id.count(i.id) == 0) im.new_case(i, initial_block);
    });
    // Events come in time order; within a case that is also their order (seq) except for events of
    // the same millisecond written out of order, which wait for their predecessor.
    std::unordered_map<std::uint32_t, std::map<int, Event>> waiting;
    store.scan_events(std::numeric_limits<Timestamp>::min(), never, [&](const Event& e) {
        const auto it = im.by_id.find(e.incident);
        if (it == im.by_id.end()) return;  // an incident stored after the incidents were read
        Case& c = im.cases[it->second];
        if (e.seq <= c.last_seq) return;
        if (e.seq != c.last_seq + 1) {
            waiting[it->second].emplace(e.seq, e);
            return;
        }
        im.take(c, input_of(e));
        if (waiting.empty()) return;
        const auto w = waiting.find(it->second);
        if (w == waiting.end()) return;
        while (!w->second.empty() && w->second.begin()->first == c.last_seq + 1) {
            im.take(c, input_of(w->second.begin()->second));
            w->second.erase(w->second.begin());
        }
        if (w->second.empty()) waiting.erase(w);
    });
    // Sequence numbers have no gaps in a store; whatever still waits is taken in order.
    for (auto& [index, events] : waiting)
        for (auto& [seq, e] : events) im.take(im.cases[index], input_of(e));
    im.compact();
    // Room to grow: moving millions of cases and facts to larger arrays (or rehashing the id map)
    // holds the log's lock for a long moment, so the first new reports after a start must not
    // force it.
    im.cases.reserve(im.cases.size() + im.cases.size() / 4 + 4096);
    im.by_id.reserve(im.cases.capacity());
    im.facts.reserve(im.facts.size() + im.facts.size() / 4 + 4 * 4096);
    return log;
}

bool CaseLog::apply(const Incident& incident, const Event& event) {
    Impl& im = *m_impl;
    std::unique_lock lock(im.mutex);
    auto it = im.by_id.find(incident.id);
    if (it == im.by_id.end()) {
        if (event.seq > 1) {
            throw indicator_error("event " + std::to_string(event.seq) + " of incident " + std::to_string(incident.id) +
                                  " arrived, but the log has none of its earlier events: put() the case with its whole history");
        }
        im.new_case(incident, 0);
        it = im.by_id.find(incident.id);
    }
    Case& c = im.cases[it->second];
    if (event.seq > 0 && event.seq <= c.last_seq) return false;
    if (event.seq > c.last_seq + 1) {
        throw indicator_error("event " + std::to_string(event.seq) + " of incident " + std::to_string(incident.id) +
                              " arrived after event " + std::to_string(c.last_seq) + ": event " +
                              std::to_string(c.last_seq + 1) + " is missing; put() the case with its whole history");
    }
    im.attributes(c, incident);
    im.take(c, input_of(event));
    im.maybe_compact();
    return true;
}

void CaseLog::put(const Incident& incident, std::span<const Event> events) {
    for (std::size_t k = 1; k < events.size(); ++k) {
        if (events[k].seq != 0 && events[k].seq <= events[k - 1].seq) {
            throw indicator_error("events of incident " + std::to_string(incident.id) + " are not in order: event " +
                                  std::to_string(events[k].seq) + " follows event " + std::to_string(events[k - 1].seq));
        }
    }
    Impl& im = *m_impl;
    std::unique_lock lock(im.mutex);
    auto it = im.by_id.find(incident.id);
    if (it == im.by_id.end()) {
        im.new_case(incident, 0);
        it = im.by_id.find(incident.id);
    }
    Case& c = im.cases[it->second];
    im.reset(c);
    im.attributes(c, incident);
    for (const Event& e : events) im.take(c, input_of(e));
    im.maybe_compact();
}

std::size_t CaseLog::size() const {
    std::shared_lock lock(m_impl->mutex);
    return m_impl->cases.size();
}

std::size_t CaseLog::event_count() const {
    std::shared_lock lock(m_impl->mutex);
    return m_impl->events;
}

std::optional<Timestamp> CaseLog::latest() const {
    std::shared_lock lock(m_impl->mutex);
    return m_impl->latest;
}

void CaseLog::for_each_case(const std::function<void(const CaseView&)>& fn) const {
    std::shared_lock lock(m_impl->mutex);
    const Impl& im = *m_impl;
    for (const Case& c : im.cases) {
        CaseView v;
        v.id = c.id;
        v.grid = im.grids.code(c.grid);
        v.community = im.communities.code(c.community);
        v.town = im.towns.code(c.town);
        v.department = im.departments.code(c.department);
        v.grid_worker = im.workers.code(c.worker);
        v.category = im.categories.code(c.category);
        v.reported_at = c.reported_at;
        v.location = c.location;
        v.status = c.status;
        fn(v);
    }
}

IndicatorTable CaseLog::indicators(const IndicatorQuery& q) const {
    if (q.periods.empty()) throw indicator_error("indicators need at least one period");
    for (std::size_t k = 0; k < q.periods.size(); ++k) {
        const Period& p = q.periods[k];
        if (p.until <= p.from) {
            throw indicator_error("period '" + p.label + "' ends (" + format_iso8601(p.until) + ") before it starts (" +
                                  format_iso8601(p.from) + ")");
        }
        if (k > 0 && p.from < q.periods[k - 1].until) {
            throw indicator_error("periods must be sorted and must not overlap: '" + p.label + "' starts before '" +
                                  q.periods[k - 1].label + "' ends");
        }
    }
    std::shared_lock lock(m_impl->mutex);
    const Impl& im = *m_impl;
    IndicatorTable table;
    table.kind = q.unit;
    table.periods = q.periods;
    // Without a time given, the figures are as of the latest event: what the log knows.
    table.as_of = q.as_of ? q.as_of : im.latest;

    // Which cases pass the filter.
    std::vector<char> category_ok(im.categories.size());
    for (std::uint32_t id = 0; id < category_ok.size(); ++id) {
        category_ok[id] = im.categories.code(id).starts_with(q.filter.category_prefix) ? 1 : 0;
    }
    std::optional<std::uint32_t> town;
    if (!q.filter.town.empty()) town = im.towns.find(q.filter.town).value_or(std::numeric_limits<std::uint32_t>::max());
    auto passes = [&](const Case& c) { return category_ok[c.category] != 0 && (!town || c.town == *town); };

    // Units: dictionary index → row.
    const Dictionary* dict = im.dictionary(q.unit);
    std::vector<std::int32_t> row_of(dict != nullptr ? dict->size() : 0, -1);
    if (dict == nullptr) {
        table.units.push_back(q.units.empty() ? UnitInfo{"district", ""} : q.units.front());
    } else if (!q.units.empty()) {
        std::unordered_set<std::string_view> seen;
        for (std::size_t k = 0; k < q.units.size(); ++k) {
            const std::string& code = q.units[k].code;
            if (!seen.insert(code).second) {
                throw indicator_error("unit '" + code + "' is listed twice among the " + std::string(to_string(q.unit)) + " units");
            }
            if (code.empty()) continue;
            if (auto id = dict->find(code)) row_of[*id] = static_cast<std::int32_t>(k);
        }
        table.units = q.units;
    } else {
        std::vector<char> used(dict->size());
        for (const Case& c : im.cases) {
            if (!passes(c)) continue;
            switch (q.unit) {
                case UnitKind::grid: used[c.grid] = 1; break;
                case UnitKind::community: used[c.community] = 1; break;
                case UnitKind::town: used[c.town] = 1; break;
                case UnitKind::grid_worker: used[c.worker] = 1; break;
                case UnitKind::department:
                    used[c.department] = 1;
                    for (std::uint32_t k = 0; k < c.count; ++k) used[im.facts[c.first + k].department] = 1;
                    break;
                case UnitKind::district: break;
            }
        }
        std::vector<std::uint32_t> ids;
        for (std::uint32_t id = 1; id < used.size(); ++id)
            if (used[id]) ids.push_back(id);
        std::sort(ids.begin(), ids.end(), [&](auto a, auto b) { return dict->code(a) < dict->code(b); });
        for (std::size_t k = 0; k < ids.size(); ++k) {
            row_of[ids[k]] = static_cast<std::int32_t>(k);
            table.units.push_back({dict->code(ids[k]), ""});
        }
    }
    const std::size_t n_periods = q.periods.size();
    table.counts.assign(table.units.size() * n_periods, Counts{});

    std::vector<Timestamp> starts;
    for (const auto& p : q.periods) starts.push_back(p.from);
    const Timestamp first = q.periods.front().from;
    const Timestamp last = q.periods.back().until;
    auto period_of = [&](Timestamp t) -> std::int64_t {
        if (t < first || t >= last) return -1;
        const auto k = static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), t) - starts.begin()) - 1;
        return t < q.periods[k].until ? static_cast<std::int64_t>(k) : -1;
    };
    const Timestamp as_of = table.as_of.value_or(never);
    Counts* const out = table.counts.data();

    for (const Case& c : im.cases) {
        if (!passes(c)) continue;
        std::int32_t case_row = -1;
        switch (q.unit) {
            case UnitKind::grid: case_row = row_of[c.grid]; break;
            case UnitKind::community: case_row = row_of[c.community]; break;
            case UnitKind::town: case_row = row_of[c.town]; break;
            case UnitKind::grid_worker: case_row = row_of[c.worker]; break;
            case UnitKind::district: case_row = 0; break;
            case UnitKind::department: break;
        }
        const bool by_department = q.unit == UnitKind::department;
        if (!by_department && case_row < 0) continue;
        const Fact* f = im.facts.data() + c.first;
        const Fact* const end = f + c.count;
        for (; f != end; ++f) {
            std::int32_t row = case_row;
            if (by_department) {
                // Steps without their own department are the responsible department's; a rating
                // is the department's that closed the case (none for a self-handled case).
                const std::uint32_t dep = f->department != none ? f->department : f->step == Step::rated ? none : c.department;
                row = dep == none ? -1 : row_of[dep];
                if (row < 0) continue;
            }
            if (f->step == Step::round) {
                if (f->flags & (cancelled | no_deadline)) continue;
                const bool closed = f->outcome <= as_of;
                if (f->at > as_of && !closed) continue;  // not yet due and not closed
                const auto p = period_of(f->at);
                if (p < 0) continue;
                Counts& k = out[static_cast<std::size_t>(row) * n_periods + static_cast<std::size_t>(p)];
                ++k.due;
                if (closed) {
                    ++k.closed;
                    if (f->flags & in_time) ++k.closed_in_time;
                }
                if (f->at <= as_of && (f->flags & (overdue | running))) ++k.overdue;
                continue;
            }
            if (f->at > as_of) continue;
            const auto p = period_of(f->at);
            if (p < 0) continue;
            Counts& k = out[static_cast<std::size_t>(row) * n_periods + static_cast<std::size_t>(p)];
            switch (f->step) {
                case Step::reported: ++k.reported; break;
                case Step::registered: ++k.registered; break;
                case Step::voided: ++k.voided; break;
                case Step::self_handled: ++k.self_handled; break;
                case Step::dispatched: ++k.dispatched; break;
                case Step::handled:
                    ++k.handled;
                    k.handling_ms += f->value;
                    if (f->flags & in_time) ++k.handled_in_time;
                    if (f->outcome <= as_of) ++k.reworked;
                    break;
                case Step::rated:
                    ++k.rated;
                    switch (static_cast<Rating>(f->value)) {
                        case Rating::satisfied: ++k.satisfied; break;
                        case Rating::basically_satisfied: ++k.basically_satisfied; break;
                        case Rating::unsatisfied: ++k.unsatisfied; break;
                    }
                    break;
                case Step::round: break;
            }
        }
    }
    return table;
}

// ---- units -------------------------------------------------------------------------------------

std::vector<UnitInfo> load_units(Store& store, UnitKind kind, Timestamp at) {
    std::vector<UnitInfo> out;
    auto from_layer = [&](const std::string& layer) {
        const auto v = store.version_at(layer, at);
        if (!v) return;
        for (const auto& f : store.features(layer, v->version)) out.push_back({f.code, f.name});
    };
    switch (kind) {
        case UnitKind::grid: from_layer("grids"); break;
        case UnitKind::community: from_layer("communities"); break;
        case UnitKind::town: from_layer("towns"); break;
        case UnitKind::department:
            for (const auto& d : store.departments()) out.push_back({d.code, d.name});
            break;
        case UnitKind::grid_worker:
            for (const auto& u : store.users())
                if (u.role == Role::grid_worker) out.push_back({u.id, u.name});
            break;
        case UnitKind::district:
            from_layer("district");
            if (out.empty()) out.push_back({"district", ""});
            out.resize(1);
            break;
    }
    std::sort(out.begin(), out.end(), [](const UnitInfo& a, const UnitInfo& b) { return a.code < b.code; });
    out.erase(std::unique(out.begin(), out.end(), [](const UnitInfo& a, const UnitInfo& b) { return a.code == b.code; }),
              out.end());
    return out;
}

}  // namespace onegrid::core
