#pragma once
/// @file
/// Mapbox Vector Tiles 2.1: Web Mercator tile math and a layer encoder (protozero). Geometries come
/// in longitude/latitude (EPSG:4490 ≈ WGS 84, within centimetres); they are projected, clipped to
/// the tile plus a buffer, quantised to the tile's integer grid and written with the winding the
/// specification asks for (exterior rings of positive area in tile coordinates, holes negative).

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial {

struct TileId {
    int z = 0;
    std::uint32_t x = 0;
    std::uint32_t y = 0;  ///< XYZ scheme: row 0 at the north
    friend bool operator==(const TileId&, const TileId&) = default;
};

/// Valid for 0 ≤ z ≤ 24 and x, y < 2^z.
[[nodiscard]] bool valid(TileId t) noexcept;
/// Longitude/latitude bounds of a tile.
[[nodiscard]] Box tile_bounds(TileId t) noexcept;
/// The tile at zoom z containing (lon, lat).
[[nodiscard]] TileId tile_of(Point lonlat, int z) noexcept;

/// A property value as MVT stores it.
using MvtValue = std::variant<std::string, double, std::int64_t, bool>;
using MvtProperties = std::vector<std::pair<std::string, MvtValue>>;

class MvtLayer {
public:
    /// `buffer` is in tile units (of `extent`).
    MvtLayer(std::string name, TileId tile, std::uint32_t extent = 4096, std::uint32_t buffer = 80);

    /// Adds a point; returns false when it lies outside the tile (points are not buffered).
    bool add_point(std::uint64_t id, Point lonlat, const MvtProperties& properties);
    /// Adds a polygon or multipolygon; returns false when nothing of it is left after clipping.
    bool add_polygon(std::uint64_t id, const MultiPolygon& lonlat, const MvtProperties& properties);

    [[nodiscard]] std::size_t size() const noexcept { return m_features; }
    [[nodiscard]] const std::string& name() const noexcept { return m_name; }
    /// The encoded Layer message (without the Tile wrapper).
    [[nodiscard]] std::string finish() const;

private:
    struct Pixel {
        double x;
        double y;
    };
    [[nodiscard]] Pixel project(Point lonlat) const noexcept;
    void add_feature(std::uint64_t id, int type, const std::vector<std::uint32_t>& geometry, const MvtProperties& properties);
    std::uint32_t key_index(const std::string& key);
    std::uint32_t value_index(const MvtValue& value);

    std::string m_name;
    TileId m_tile;
    std::uint32_t m_extent;
    double m_buffer;
    double m_world;  // extent × 2^z
    std::string m_features_pbf;
    std::size_t m_features = 0;
    std::vector<std::string> m_keys;
    std::unordered_map<std::string, std::uint32_t> m_key_index;
    std::vector<std::string> m_values;  // encoded Value messages
    std::unordered_map<std::string, std::uint32_t> m_value_index;
};

/// A Tile message from encoded layers (empty layers are left out, as the specification advises).
[[nodiscard]] std::string mvt_tile(const std::vector<MvtLayer>& layers);

}  // namespace onegrid::spatial
