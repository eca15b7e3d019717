#pragma once
/// @file
/// Coordinate systems: the input systems phones and maps report in, conversion to CGCS2000
/// (EPSG:4490, OneGrid's storage system) and PROJ transformations for metric work (EPSG:4549).

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial {

/// Storage and query system of every OneGrid geometry.
inline constexpr const char* storage_crs = "EPSG:4490";
/// Metric system for areas, distances and tolerances: CGCS2000 / 3-degree Gauss-Kruger CM 120E.
inline constexpr const char* metric_crs = "EPSG:4549";

/// The systems a reported point may arrive in.
enum class InputCrs {
    wgs84,     ///< EPSG:4326, GPS receivers, Open311 lat/long
    cgcs2000,  ///< EPSG:4490, Chinese national surveys
    gcj02,     ///< GCJ-02 obfuscated lon/lat: Amap, Tencent maps, WeChat
    bd09,      ///< BD-09 lon/lat: Baidu maps
};

[[nodiscard]] std::string_view to_string(InputCrs crs) noexcept;
/// Accepts `wgs84`, `cgcs2000`, `gcj02`, `bd09` and the aliases `epsg:4326`, `epsg:4490` (any case).
[[nodiscard]] std::optional<InputCrs> parse_input_crs(std::string_view name) noexcept;

/// True where GCJ-02 applies its offset (a rectangle around mainland China, as the published algorithm).
[[nodiscard]] bool gcj02_offset_applies(Point wgs84) noexcept;

/// WGS 84 → GCJ-02 (the published forward algorithm).
[[nodiscard]] Point wgs84_to_gcj02(Point wgs84) noexcept;
/// GCJ-02 → WGS 84 by fixed-point iteration on the forward algorithm; residual below 1 mm.
[[nodiscard]] Point gcj02_to_wgs84(Point gcj02) noexcept;
/// GCJ-02 → BD-09 (Baidu's published forward formula).
[[nodiscard]] Point gcj02_to_bd09(Point gcj02) noexcept;
/// BD-09 → GCJ-02 by iteration on the forward formula; residual below 1 mm.
[[nodiscard]] Point bd09_to_gcj02(Point bd09) noexcept;

/// Throws coordinate_error unless lon ∈ [-180, 180], lat ∈ [-90, 90] and both are finite.
void check_lonlat(Point p, std::string_view what = "point");

/// Converts a reported point to CGCS2000 (EPSG:4490). WGS 84 and CGCS2000 agree within centimetres
/// (the EPSG transformation between them is a null transformation), so WGS 84 passes unchanged.
/// @throws coordinate_error for NaN, infinite or out-of-range input.
[[nodiscard]] Point to_cgcs2000(Point p, InputCrs from);

/// A PROJ transformation between two systems, in longitude/latitude (x/y) axis order.
/// One instance must not be used by two threads at once; copies are independent.
class CrsTransform {
public:
    /// `from` and `to` are anything PROJ accepts: "EPSG:4490", WKT, PROJJSON, a PROJ string.
    /// @throws crs_error when a system is unknown or no transformation exists.
    CrsTransform(std::string from, std::string to);
    ~CrsTransform();
    CrsTransform(const CrsTransform& other);
    CrsTransform& operator=(const CrsTransform& other);
    CrsTransform(CrsTransform&&) noexcept;
    CrsTransform& operator=(CrsTransform&&) noexcept;

    /// @throws crs_error when the point cannot be transformed.
    [[nodiscard]] Point apply(Point p) const;
    /// Transforms in place. @throws crs_error naming the first point that failed.
    void apply(std::span<Point> points) const;
    /// The bounding box of the transformed box (densified edges).
    [[nodiscard]] Box apply(const Box& box) const;
    [[nodiscard]] bool is_noop() const noexcept;
    [[nodiscard]] const std::string& from() const noexcept { return m_from; }
    [[nodiscard]] const std::string& to() const noexcept { return m_to; }

    struct Impl;

private:
    std::string m_from;
    std::string m_to;
    std::unique_ptr<Impl> m_impl;
};

/// EPSG:4490 → EPSG:4549 for the calling thread (a cached thread-local transformation).
[[nodiscard]] Point to_metric(Point cgcs2000);
/// EPSG:4549 → EPSG:4490 for the calling thread.
[[nodiscard]] Point from_metric(Point metric);
/// Distance in metres between two EPSG:4490 points, measured in EPSG:4549.
[[nodiscard]] double distance_m(Point a, Point b);
/// Area in square metres of an EPSG:4490 multipolygon, measured in EPSG:4549.
[[nodiscard]] double area_m2(const MultiPolygon& mp);

/// A short, stable identifier of a system as OGC APIs write it (`EPSG:4490`), or empty when unknown.
[[nodiscard]] std::string crs_identifier(const std::string& definition);

}  // namespace onegrid::spatial
