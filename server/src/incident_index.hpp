#pragma once
// The server's in-memory view of all incidents for map and feature queries: the public fields of
// every incident in a flat array, with a uniform grid of cells over longitude/latitude. Kept in
// step with the store by the server, which is the only writer; readers share a lock.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "onegrid/core/model.hpp"
#include "onegrid/core/store.hpp"

namespace onegrid::server::detail {

/// Memory for HugePageAllocator: mapped and advised for huge pages from 2 MiB on, plain new below.
void* huge_allocate(std::size_t bytes);
void huge_deallocate(void* p, std::size_t bytes) noexcept;

/// The fields a tile or a bbox query reads come first and fit the row's first two cache lines (rows
/// are aligned to them): a tile visits thousands of rows scattered over memory and loads only those.
struct alignas(64) IncidentRow {
    core::IncidentId id = 0;
    spatial::Point location;
    core::Status status = core::Status::reported;
    core::Source source = core::Source::grid_worker;
    bool outside = false;
    bool self_handled = false;
    int escalation_level = 0;
    std::optional<core::Timestamp> due_at;
    std::string category;
    std::string grid;
    // (112 bytes up to here)
    std::string department;
    std::string community;
    std::string town;
    std::string sub_unit;
    std::string reporter;  ///< reporter id: only for scoping, never published
    core::Timestamp reported_at = 0;
    core::Timestamp updated_at = 0;
    std::optional<core::Timestamp> closed_at;
};

/// Large arrays on transparent huge pages where the kernel offers them: the rows of a million
/// incidents span hundreds of megabytes, and a tile reads thousands of them at random, which on
/// 4 KiB pages costs a page walk for nearly every row.
template <class T>
struct HugePageAllocator {
    using value_type = T;
    HugePageAllocator() = default;
    template <class U>
    HugePageAllocator(const HugePageAllocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(huge_allocate(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { huge_deallocate(p, n * sizeof(T)); }
    template <class U>
    bool operator==(const HugePageAllocator<U>&) const noexcept { return true; }
};

class IncidentIndex {
public:
    struct Query {
        std::optional<spatial::Box> bbox;
        std::set<core::Status> statuses;
        std::set<std::string> categories;
        std::string grid;
        std::string community;
        std::string town;
        std::string department;
        std::optional<core::Timestamp> reported_from;  ///< inclusive
        std::optional<core::Timestamp> reported_to;    ///< inclusive
        std::function<bool(const IncidentRow&)> extra;  ///< further filter (CQL2, scope)
        std::size_t offset = 0;
        std::size_t limit = 100;
    };
    struct Result {
        std::vector<IncidentRow> rows;
        std::size_t matched = 0;
    };

    void load(core::Store& store);
    void upsert(const core::Incident& incident);
    [[nodiscard]] Result query(const Query& q) const;
    [[nodiscard]] std::optional<IncidentRow> get(core::IncidentId id) const;
    /// Visits rows inside a box (for tiles), under the read lock.
    void for_each_in(const spatial::Box& box, const std::function<void(const IncidentRow&)>& fn) const;
    /// The open incidents of a category reported since `since` within `radius_m` of `p`, nearest
    /// first: duplicate candidates at intake (core::Store::open_incidents_near's contract).
    [[nodiscard]] std::vector<core::IncidentId> open_near(const std::string& category, spatial::Point p, double radius_m,
                                                          core::Timestamp since) const;
    /// Visits every row, under the read lock.
    void for_each(const std::function<void(const IncidentRow&)>& fn) const;
    [[nodiscard]] std::size_t size() const;
    [[nodiscard]] std::uint64_t version() const noexcept { return m_version.load(); }

    static IncidentRow row_of(const core::Incident& i);

private:
    static constexpr double cell = 0.005;  // degrees (~500 m)
    /// Open incidents by smaller cells, for duplicate checks at intake: a check looks ~50 m
    /// around a report, and a cell of a town centre holds thousands of incidents, nearly all closed.
    static constexpr double open_cell = 0.001;  // degrees (~100 m)
    /// What a duplicate check asks of a case, so that it reads no row.
    struct OpenEntry {
        spatial::Point location;
        core::IncidentId id = 0;
        core::Timestamp reported_at = 0;
        std::string category;
    };
    /// A row in a cell, with its location: boxes are tested against the cell's own compact array
    /// rather than against the rows (one cache miss per row).
    struct CellEntry {
        spatial::Point location;
        std::uint32_t pos = 0;
    };
    [[nodiscard]] static std::uint64_t cell_key(double lon, double lat, double size = cell);
    void add_open_locked(const IncidentRow& row);
    void remove_open_locked(const IncidentRow& row);
    [[nodiscard]] bool matches(const IncidentRow& r, const Query& q) const;
    void insert_locked(IncidentRow row);
    /// Calls fn(pos) for every row inside `box`, cell by cell (not in id order).
    template <typename F>
    void visit_box_locked(const spatial::Box& box, F&& fn) const;

    mutable std::shared_mutex m_mutex;
    std::vector<IncidentRow, HugePageAllocator<IncidentRow>> m_rows;
    std::unordered_map<core::IncidentId, std::uint32_t> m_position;
    std::unordered_map<std::uint64_t, std::vector<CellEntry>> m_cells;  // each in position order
    std::unordered_map<std::uint64_t, std::vector<OpenEntry>> m_open_cells;  // by id, not position: rows move
    std::atomic<std::uint64_t> m_version{1};
};

}  // namespace onegrid::server::detail
