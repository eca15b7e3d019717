#pragma once
// Pieces of the OGC API service shared by its parts: coordinate reference systems (Part 2),
// parameter parsing, GeoJSON writing, ETag handling.

#include <optional>
#include <string>
#include <vector>

#include "app_internal.hpp"
#include "json_writer.hpp"
#include "onegrid/spatial/crs.hpp"

namespace onegrid::server::ogc {

inline constexpr const char* crs84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// A supported output/input system: its URI, the PROJ name, and whether its authority axis order
/// is (latitude, longitude) or (northing, easting), which OGC API responses must follow.
struct Crs {
    std::string uri;
    std::string proj;    ///< empty for CRS84 and the geographic systems stored as is
    bool swap = false;   ///< authority order is lat/lon or north/east
    bool projected = false;
};

[[nodiscard]] const std::vector<Crs>& supported_crs();
/// Resolves a CRS URI (also accepts "EPSG:4490" shorthand); nullopt when unsupported.
[[nodiscard]] std::optional<Crs> find_crs(const std::string& uri);

/// Converts between storage (EPSG:4490 lon/lat) and a supported system, in that system's
/// authority axis order. One instance per request (PROJ objects are not shared between threads).
class CrsConverter {
public:
    explicit CrsConverter(const Crs& crs);
    /// Storage lon/lat → output axis order (x = first axis).
    [[nodiscard]] spatial::Point out(spatial::Point lonlat) const;
    /// Input in the system's axis order → storage lon/lat.
    [[nodiscard]] spatial::Point in(double first, double second) const;
    [[nodiscard]] bool projected() const noexcept { return m_crs.projected; }
    [[nodiscard]] const Crs& crs() const noexcept { return m_crs; }

private:
    Crs m_crs;
    std::optional<spatial::CrsTransform> m_to;
    std::optional<spatial::CrsTransform> m_from;
};

/// A parameter was present but not valid (→ 400 with the message).
struct bad_parameter : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// `limit`: positive integer, clamped to `max`; `offset`: non-negative integer.
[[nodiscard]] std::size_t parse_limit(const Target& t, std::size_t dflt, std::size_t max);
[[nodiscard]] std::size_t parse_offset(const Target& t);

/// `bbox` (4 or 6 numbers) in `bbox-crs` (default CRS84), as a storage lon/lat box.
[[nodiscard]] std::optional<spatial::Box> parse_bbox(const Target& t);

/// `datetime`: an instant or an interval with open ends ("..", or empty). Returns [from, to]
/// (inclusive) in ms; open ends are nullopt.
struct Interval {
    std::optional<core::Timestamp> from;
    std::optional<core::Timestamp> to;
};
[[nodiscard]] std::optional<Interval> parse_datetime(const Target& t);

/// The output system chosen with `crs` (default CRS84).
[[nodiscard]] Crs output_crs(const Target& t);

/// Refuses parameters not in `allowed` (OGC API Part 1 requires 400 for unknown parameters).
void check_parameters(const Target& t, const std::vector<std::string>& allowed);

/// Writes a geometry in the output system.
void write_point(detail::JsonWriter& w, spatial::Point p, const CrsConverter& c);
void write_polygon(detail::JsonWriter& w, const spatial::MultiPolygon& mp, const CrsConverter& c);

/// 304 when If-None-Match matches the body's ETag; otherwise the reply with its ETag header.
[[nodiscard]] Reply with_etag(const Request& req, Reply reply);

/// "application/geo+json", "application/json" or "text/html" chosen by `f` or Accept.
[[nodiscard]] std::optional<std::string> format(const Call& call, bool features);

/// Query string of a link with `limit`/`offset` replaced.
[[nodiscard]] std::string page_href(const Call& call, std::size_t offset, std::size_t limit);

}  // namespace onegrid::server::ogc
