#pragma once
/// @file
/// GridIndex: which grid contains a point. Exact, immutable, shared by all threads.
///
/// ## Boundary rule
/// A point inside a grid belongs to that grid (the same answer as GEOS `Covers` / PostGIS
/// `ST_Covers`). A point on a boundary shared by two grids belongs to exactly one of them: the grid
/// that lies immediately to its **east**; where the shared boundary runs exactly east–west, the grid
/// immediately to its **north** (formally: the grid containing p + (δ, ε) for infinitesimals
/// 0 < ε ≪ δ, the half-open crossing rule). A point on the outer boundary of the coverage (no grid
/// to its east) belongs to the first grid, in layer order, whose boundary it lies on.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial {

/// A grid and its administrative chain grid → community → town → district.
struct GridUnit {
    std::string code;  ///< the grid's id (15-digit code for base grids)
    std::string name;
    std::string community;  ///< community code
    std::string community_name;
    std::string town;  ///< town/street code
    std::string town_name;
    std::string district;  ///< district code
    std::string district_name;
};

class GridIndex {
public:
    /// Returned by locate() for a point in no grid.
    static constexpr std::uint32_t outside = 0xFFFFFFFFu;

    struct BuildOptions {
        /// A cell with at most this many boundary edges becomes a leaf (tested exactly).
        std::uint32_t max_leaf_edges = 6;
        /// Subdivision stops at cells smaller than this (metres), however many edges they hold.
        double min_cell_m = 2.0;
        /// Top-level cells per grid (the top level is a uniform raster over the layer's extent).
        double top_cells_per_grid = 64.0;
        /// Threads used to build (0: hardware concurrency).
        unsigned threads = 0;
    };

    struct Nearest {
        std::uint32_t grid = outside;
        double distance_m = 0.0;
    };

    enum class Status : std::uint8_t { inside, outside };

    /// The full answer for one point.
    struct Assignment {
        Status status = Status::outside;
        std::uint32_t grid = outside;  ///< containing grid, or the nearest one when outside
        double distance_m = 0.0;       ///< 0 inside, distance to the nearest grid outside
    };

    GridIndex();
    ~GridIndex();
    GridIndex(GridIndex&&) noexcept;
    GridIndex& operator=(GridIndex&&) noexcept;

    /// Builds the index over `geometries` (EPSG:4490); `units[i]` describes `geometries[i]`.
    /// @throws data_error when sizes differ, a geometry is empty or has a non-finite coordinate.
    static GridIndex build(std::vector<GridUnit> units, std::vector<MultiPolygon> geometries,
                           const BuildOptions& options);
    static GridIndex build(std::vector<GridUnit> units, std::vector<MultiPolygon> geometries);

    /// The grid containing (lon, lat) under the boundary rule, or `outside`. Never throws;
    /// NaN and infinite coordinates are outside.
    [[nodiscard]] std::uint32_t locate(double lon, double lat) const noexcept;
    /// Batch form of locate(); `out.size()` must equal `points.size()`.
    void locate(std::span<const Point> points, std::span<std::uint32_t> out) const noexcept;

    /// The grid nearest to a point and the distance in metres (EPSG:4549); 0 inside a grid.
    [[nodiscard]] Nearest nearest(Point p) const;

    /// locate() and, when outside, nearest().
    [[nodiscard]] Assignment assign(Point p) const;

    [[nodiscard]] std::size_t size() const noexcept;
    [[nodiscard]] const GridUnit& unit(std::uint32_t grid) const;
    [[nodiscard]] const std::vector<GridUnit>& units() const noexcept;
    [[nodiscard]] const MultiPolygon& geometry(std::uint32_t grid) const;
    [[nodiscard]] Box bounds() const noexcept;
    /// Bytes held by the index structures (excluding units' strings).
    [[nodiscard]] std::size_t memory_bytes() const noexcept;
    [[nodiscard]] std::size_t vertex_count() const noexcept;
    /// Number of leaf cells (cells answered by an exact test).
    [[nodiscard]] std::size_t leaf_count() const noexcept;

    /// Exact test of one grid under the boundary rule (for tests and tools).
    [[nodiscard]] bool grid_claims(std::uint32_t grid, Point p) const noexcept;

    struct Impl;

private:
    explicit GridIndex(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

}  // namespace onegrid::spatial

namespace onegrid::spatial {

struct PolygonLayer;

/// Units of a grid layer's features: the chain comes from the fields `community_code`,
/// `town_code`, `district_code` (names from `name`, `community`, `town`, `district`) and, where a
/// field is missing, from the leading digits of a 15-digit grid code (6 + 3 + 3 + 3).
[[nodiscard]] std::vector<GridUnit> grid_units_from(const PolygonLayer& layer);

/// GridIndex over a layer read with read_polygon_layer().
[[nodiscard]] GridIndex build_grid_index(const PolygonLayer& layer, const GridIndex::BuildOptions& options = {});

}  // namespace onegrid::spatial
