#pragma once
/// @file
/// Mapbox Vector Tiles 2.1: Web Mercator tile math and a layer encoder (protozero). Geometries come
/// in longitude/latitude (EPSG:4490 ≈ WGS 84, within centimetres); they are projected, clipped to
/// the tile plus a buffer, quantised to the tile's integer grid and written with the winding the
/// specification asks for (exterior rings of positive area in tile coordinates, holes negative).

#include <cstdint>
#include <span>
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

/// One layer of a tile. Keys and values are kept in the layer's tables, deduplicated.
///
/// Two ways to give properties: as MvtProperties (convenient, for layers of a few hundred features),
/// or resolved to tags once with key() and value() and passed as (key, value) index pairs, the path
/// for layers of thousands of points (no per-feature allocation, most values looked up once).
class MvtLayer {
public:
    /// `buffer` is in tile units (of `extent`).
    MvtLayer(std::string name, TileId tile, std::uint32_t extent = 4096, std::uint32_t buffer = 80);

    /// Adds a point; returns false when it lies outside the tile (points are not buffered).
    bool add_point(std::uint64_t id, Point lonlat, const MvtProperties& properties);
    /// The same with resolved tags: key index, value index, key index, value index, …
    bool add_point(std::uint64_t id, Point lonlat, std::span<const std::uint32_t> tags);
    /// Adds a polygon or multipolygon; returns false when nothing of it is left after clipping.
    bool add_polygon(std::uint64_t id, const MultiPolygon& lonlat, const MvtProperties& properties);

    /// The index of a key in the layer's key table (added when new).
    std::uint32_t key(std::string_view key);
    /// The index of a value in the layer's value table (added when new). Integers are stored as
    /// uint_value when not negative, as sint_value otherwise.
    std::uint32_t value(std::string_view v);
    std::uint32_t value(std::int64_t v);
    std::uint32_t value(double v);
    std::uint32_t value(bool v);
    std::uint32_t value(const MvtValue& v);

    [[nodiscard]] std::size_t size() const noexcept { return m_features; }
    [[nodiscard]] const std::string& name() const noexcept { return m_name; }
    /// The encoded Layer message (without the Tile wrapper).
    [[nodiscard]] std::string finish() const;

private:
    struct Pixel {
        double x;
        double y;
    };
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    /// Values by a 64-bit pattern: open addressing, for the integers (feature ids among them) and
    /// doubles a layer may hold by the thousand.
    class BitsTable {
    public:
        /// The index stored for `bits`, or the result of `make()` stored for it when absent.
        template <class Make>
        std::uint32_t find_or_add(std::uint64_t bits, Make&& make);

    private:
        void grow();
        std::vector<std::uint64_t> m_keys;
        std::vector<std::uint32_t> m_indexes;  // none: empty slot
        std::size_t m_used = 0;
    };
    [[nodiscard]] Pixel project(Point lonlat) const noexcept;
    void add_feature(std::uint64_t id, int type, std::span<const std::uint32_t> geometry, std::span<const std::uint32_t> tags);
    std::uint32_t tags_of(const MvtProperties& properties, std::vector<std::uint32_t>& tags);
    std::uint32_t append_value(int field, std::uint64_t raw);

    std::string m_name;
    TileId m_tile;
    std::uint32_t m_extent;
    double m_buffer;
    double m_world;  // extent × 2^z
    std::string m_features_pbf;
    std::size_t m_features = 0;
    std::vector<std::string> m_keys;
    std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> m_key_index;
    std::string m_values_pbf;  // the Value messages, each already framed as field 4 of the Layer
    std::uint32_t m_value_count = 0;
    std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> m_string_values;
    BitsTable m_int_values;
    BitsTable m_double_values;
    std::uint32_t m_bool_values[2] = {none, none};
    static constexpr std::uint32_t none = 0xffffffffu;
};

/// A Tile message from encoded layers (empty layers are left out, as the specification advises).
[[nodiscard]] std::string mvt_tile(const std::vector<MvtLayer>& layers);

}  // namespace onegrid::spatial
