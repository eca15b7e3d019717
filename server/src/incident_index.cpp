#include "incident_index.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <new>
#include <numbers>

#include "onegrid/spatial/crs.hpp"

namespace onegrid::server::detail {

namespace {
constexpr std::size_t huge_page = std::size_t{2} << 20;
}

void* huge_allocate(std::size_t bytes) {
    if (bytes < huge_page) return ::operator new(bytes, std::align_val_t{64});
    // Rounded up to whole huge pages and aligned to one, so that all of it can be backed by them.
    const std::size_t size = (bytes + huge_page - 1) / huge_page * huge_page;
    void* raw = mmap(nullptr, size + huge_page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    auto* base = static_cast<char*>(raw);
    char* aligned = reinterpret_cast<char*>((reinterpret_cast<std::uintptr_t>(base) + huge_page - 1) / huge_page * huge_page);
    if (aligned > base) munmap(base, static_cast<std::size_t>(aligned - base));
    const std::size_t tail = static_cast<std::size_t>(base + size + huge_page - (aligned + size));
    if (tail > 0) munmap(aligned + size, tail);
    // Advice only: where transparent huge pages are off the memory is ordinary pages.
    (void)madvise(aligned, size, MADV_HUGEPAGE);
    return aligned;
}

void huge_deallocate(void* p, std::size_t bytes) noexcept {
    if (bytes < huge_page) {
        ::operator delete(p, std::align_val_t{64});
        return;
    }
    munmap(p, (bytes + huge_page - 1) / huge_page * huge_page);
}

IncidentRow IncidentIndex::row_of(const core::Incident& i) {
    IncidentRow r;
    r.id = i.id;
    r.location = i.location;
    r.status = i.status;
    r.source = i.source;
    r.outside = i.outside;
    r.self_handled = i.self_handled;
    r.escalation_level = i.escalation_level;
    r.category = i.category;
    r.grid = i.grid;
    r.community = i.community;
    r.town = i.town;
    r.department = i.department;
    r.sub_unit = i.sub_unit;
    r.reporter = i.reporter.id;
    r.reported_at = i.reported_at;
    r.updated_at = i.updated_at;
    r.due_at = i.due_at;
    r.closed_at = i.closed_at;
    return r;
}

namespace {

std::int64_t cell_column(double lon, double size) { return static_cast<std::int64_t>(std::floor((lon + 180.0) / size)); }

std::int64_t cell_row(double lat, double size) { return static_cast<std::int64_t>(std::floor((lat + 90.0) / size)); }

std::uint64_t key_of(std::int64_t column, std::int64_t row) {
    return (static_cast<std::uint64_t>(column) << 32) | static_cast<std::uint64_t>(row & 0xffffffff);
}

/// Calls fn(entries) for each cell of `cells` (cells of `size` degrees, by key_of) that `box` touches.
template <typename Map, typename F>
void for_each_cell(const Map& cells, const spatial::Box& box, double size, F&& fn) {
    const auto x1 = cell_column(box.maxx, size);
    const auto y1 = cell_row(box.maxy, size);
    for (auto cx = cell_column(box.minx, size); cx <= x1; ++cx) {
        for (auto cy = cell_row(box.miny, size); cy <= y1; ++cy) {
            const auto it = cells.find(key_of(cx, cy));
            if (it != cells.end()) fn(it->second);
        }
    }
}

}  // namespace

std::uint64_t IncidentIndex::cell_key(double lon, double lat, double size) {
    return key_of(cell_column(lon, size), cell_row(lat, size));
}

void IncidentIndex::add_open_locked(const IncidentRow& row) {
    if (core::is_open(row.status))
        m_open_cells[cell_key(row.location.x, row.location.y, open_cell)].push_back({row.location, row.id, row.reported_at, row.category});
}

void IncidentIndex::remove_open_locked(const IncidentRow& row) {
    if (!core::is_open(row.status)) return;
    auto it = m_open_cells.find(cell_key(row.location.x, row.location.y, open_cell));
    if (it == m_open_cells.end()) return;
    auto& v = it->second;
    const auto e = std::find_if(v.begin(), v.end(), [&](const OpenEntry& o) { return o.id == row.id; });
    if (e != v.end()) {
        *e = v.back();
        v.pop_back();
    }
    if (v.empty()) m_open_cells.erase(it);
}

void IncidentIndex::insert_locked(IncidentRow row) {
    const auto pos = static_cast<std::uint32_t>(m_rows.size());
    m_cells[cell_key(row.location.x, row.location.y)].push_back({row.location, pos});
    add_open_locked(row);
    m_position[row.id] = pos;
    m_rows.push_back(std::move(row));
}

void IncidentIndex::load(core::Store& store) {
    std::vector<IncidentRow> rows;
    core::IncidentQuery q;
    q.limit = 0;
    store.scan_incidents(q, [&](const core::Incident& i) { rows.push_back(row_of(i)); });
    std::unique_lock lock(m_mutex);
    m_rows.clear();
    m_position.clear();
    m_cells.clear();
    m_open_cells.clear();
    // Room to grow: moving a million rows to a larger array (or rehashing a million ids) blocks
    // every reader for a long moment, so the first new reports after the start must not force it.
    m_rows.reserve(rows.size() + rows.size() / 4 + 4096);
    m_position.reserve(m_rows.capacity());
    for (auto& r : rows) insert_locked(std::move(r));
    ++m_version;
}

void IncidentIndex::upsert(const core::Incident& incident) {
    IncidentRow row = row_of(incident);
    std::unique_lock lock(m_mutex);
    auto it = m_position.find(row.id);
    if (it == m_position.end()) {
        // Ids grow, so appending keeps the array in id order (paging relies on it); an older id
        // arriving late is inserted in place.
        if (!m_rows.empty() && m_rows.back().id > row.id) {
            // Concurrent intakes commit together and reach here in any order, so this is common,
            // but the row then belongs only a few places before the end: the rows after it move
            // up by one, and so do their positions and their cell entries (no rebuild).
            const auto at_it = std::lower_bound(m_rows.begin(), m_rows.end(), row.id,
                                                [](const IncidentRow& r, core::IncidentId id) { return r.id < id; });
            const auto at = static_cast<std::uint32_t>(at_it - m_rows.begin());
            const auto by_pos = [](const CellEntry& e, std::uint32_t p) { return e.pos < p; };
            // From the back, so that a cell's entries stay distinct and in position order.
            for (auto p = static_cast<std::uint32_t>(m_rows.size()); p-- > at;) {
                const IncidentRow& r = m_rows[p];
                m_position[r.id] = p + 1;
                auto& v = m_cells[cell_key(r.location.x, r.location.y)];
                const auto e = std::lower_bound(v.begin(), v.end(), p, by_pos);
                if (e != v.end() && e->pos == p) ++e->pos;
            }
            const spatial::Point location = row.location;
            add_open_locked(row);
            m_position[row.id] = at;
            m_rows.insert(m_rows.begin() + at, std::move(row));
            auto& v = m_cells[cell_key(location.x, location.y)];
            v.insert(std::lower_bound(v.begin(), v.end(), at, by_pos), CellEntry{location, at});
        } else {
            insert_locked(std::move(row));
        }
    } else {
        IncidentRow& old = m_rows[it->second];
        const std::uint32_t pos = it->second;
        const auto by_pos = [](const CellEntry& e, std::uint32_t p) { return e.pos < p; };
        if (!(old.location == row.location)) {
            auto& v = m_cells[cell_key(old.location.x, old.location.y)];
            const auto at = std::lower_bound(v.begin(), v.end(), pos, by_pos);
            if (at != v.end() && at->pos == pos) v.erase(at);
            auto& n = m_cells[cell_key(row.location.x, row.location.y)];
            n.insert(std::lower_bound(n.begin(), n.end(), pos, by_pos), CellEntry{row.location, pos});
        }
        if (core::is_open(old.status) != core::is_open(row.status) || !(old.location == row.location) ||
            old.category != row.category || old.reported_at != row.reported_at) {
            remove_open_locked(old);
            add_open_locked(row);
        }
        old = std::move(row);
    }
    ++m_version;
}

bool IncidentIndex::matches(const IncidentRow& r, const Query& q) const {
    if (q.bbox && !q.bbox->contains(r.location)) return false;
    if (!q.statuses.empty() && !q.statuses.count(r.status)) return false;
    if (!q.categories.empty() && !q.categories.count(r.category)) return false;
    if (!q.grid.empty() && r.grid != q.grid) return false;
    if (!q.community.empty() && r.community != q.community) return false;
    if (!q.town.empty() && r.town != q.town) return false;
    if (!q.department.empty() && r.department != q.department) return false;
    if (q.reported_from && r.reported_at < *q.reported_from) return false;
    if (q.reported_to && r.reported_at > *q.reported_to) return false;
    if (q.extra && !q.extra(r)) return false;
    return true;
}

template <typename F>
void IncidentIndex::visit_box_locked(const spatial::Box& box, F&& fn) const {
    for_each_cell(m_cells, box, cell, [&](const std::vector<CellEntry>& entries) {
        for (const CellEntry& e : entries)
            if (box.contains(e.location)) fn(e.pos);
    });
}

IncidentIndex::Result IncidentIndex::query(const Query& q) const {
    Result out;
    std::shared_lock lock(m_mutex);
    auto take = [&](std::uint32_t pos) {
        const IncidentRow& r = m_rows[pos];
        if (!matches(r, q)) return;
        if (out.matched >= q.offset && out.rows.size() < q.limit) out.rows.push_back(r);
        ++out.matched;
    };
    const bool small_box = q.bbox && (q.bbox->width() / cell) * (q.bbox->height() / cell) < 4096;
    if (small_box) {
        // The positions of the rows inside the box, in id order (positions are in id order). Only
        // rows inside the box are sorted and filtered: the cells under a small box hold many more.
        std::vector<std::uint32_t> positions;
        visit_box_locked(*q.bbox, [&](std::uint32_t p) { positions.push_back(p); });
        std::sort(positions.begin(), positions.end());
        if (q.statuses.empty() && q.categories.empty() && q.grid.empty() && q.community.empty() && q.town.empty() &&
            q.department.empty() && !q.reported_from && !q.reported_to && !q.extra) {
            // The box alone: every position matches, and only the page's rows are read.
            out.matched = positions.size();
            if (q.offset < positions.size()) out.rows.reserve(std::min(q.limit, positions.size() - q.offset));
            const std::size_t end = q.offset + std::min(q.limit, positions.size() - std::min(q.offset, positions.size()));
            for (std::size_t i = q.offset; i < end; ++i) {
                if (i + 4 < end) {  // the whole row is copied: all of its lines
                    const char* row = reinterpret_cast<const char*>(&m_rows[positions[i + 4]]);
                    for (std::size_t at = 0; at < sizeof(IncidentRow); at += 64) __builtin_prefetch(row + at);
                }
                out.rows.push_back(m_rows[positions[i]]);
            }
            return out;
        }
        out.rows.reserve(std::min(q.limit, positions.size()));
        constexpr std::size_t ahead = 8;  // the rows' first two lines, as in for_each_in
        for (std::size_t i = 0; i < positions.size(); ++i) {
            if (i + ahead < positions.size()) {
                const char* row = reinterpret_cast<const char*>(&m_rows[positions[i + ahead]]);
                __builtin_prefetch(row);
                __builtin_prefetch(row + 64);
            }
            take(positions[i]);
        }
    } else {
        for (std::uint32_t p = 0; p < m_rows.size(); ++p) take(p);
    }
    return out;
}

std::optional<IncidentRow> IncidentIndex::get(core::IncidentId id) const {
    std::shared_lock lock(m_mutex);
    auto it = m_position.find(id);
    if (it == m_position.end()) return std::nullopt;
    return m_rows[it->second];
}

void IncidentIndex::for_each_in(const spatial::Box& box, const std::function<void(const IncidentRow&)>& fn) const {
    std::shared_lock lock(m_mutex);
    if ((box.width() / cell) * (box.height() / cell) > m_cells.size()) {
        for (const auto& r : m_rows)
            if (box.contains(r.location)) fn(r);
        return;
    }
    // The rows under a tile lie scattered over memory (they are in id order, not in space): gather
    // them first, visit them in memory order (fewer page walks), and load each row a few rows
    // before its turn, so that the loads overlap.
    std::vector<std::uint32_t> positions;
    visit_box_locked(box, [&](std::uint32_t p) { positions.push_back(p); });
    std::sort(positions.begin(), positions.end());
    // Only the first two cache lines of a row: the fields a tile reads (see IncidentRow).
    constexpr std::size_t ahead = 16;
    for (std::size_t i = 0; i < positions.size(); ++i) {
        if (i + ahead < positions.size()) {
            const char* row = reinterpret_cast<const char*>(&m_rows[positions[i + ahead]]);
            __builtin_prefetch(row);
            __builtin_prefetch(row + 64);
        }
        fn(m_rows[positions[i]]);
    }
}

std::vector<core::IncidentId> IncidentIndex::open_near(const std::string& category, spatial::Point p, double radius_m,
                                                       core::Timestamp since) const {
    // A box a little larger than the circle (as the store's query), then the exact distance.
    const double dlat = radius_m / 110574.0 * 1.01;
    const double dlon = radius_m / (111320.0 * std::max(0.05, std::cos(p.y * std::numbers::pi / 180.0))) * 1.01;
    const spatial::Box box{p.x - dlon, p.y - dlat, p.x + dlon, p.y + dlat};
    std::vector<std::pair<double, core::IncidentId>> near;
    {
        std::shared_lock lock(m_mutex);
        for_each_cell(m_open_cells, box, open_cell, [&](const std::vector<OpenEntry>& entries) {
            for (const OpenEntry& e : entries) {
                if (!box.contains(e.location) || e.reported_at < since || e.category != category) continue;
                const double d = spatial::distance_m(p, e.location);
                if (d <= radius_m) near.emplace_back(d, e.id);
            }
        });
    }
    std::sort(near.begin(), near.end());
    std::vector<core::IncidentId> out;
    out.reserve(near.size());
    for (const auto& [d, id] : near) out.push_back(id);
    return out;
}

void IncidentIndex::for_each(const std::function<void(const IncidentRow&)>& fn) const {
    std::shared_lock lock(m_mutex);
    for (const auto& r : m_rows) fn(r);
}

std::size_t IncidentIndex::size() const {
    std::shared_lock lock(m_mutex);
    return m_rows.size();
}

}  // namespace onegrid::server::detail
