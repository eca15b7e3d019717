#pragma once
// CQL2 text (OGC API – Features Part 3): the basic class (comparisons, AND/OR/NOT, IS NULL),
// advanced comparisons (LIKE, BETWEEN, IN) and S_INTERSECTS with WKT and BBOX literals. A filter
// is parsed once into a tree and evaluated against each feature.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::server::cql2 {

/// A malformed filter or one that names what is not a queryable (→ HTTP 400).
struct filter_error : public std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// A value: null, number, string, boolean, or a time (milliseconds since the epoch).
struct Time {
    std::int64_t ms;
};
using Value = std::variant<std::monostate, double, std::string, bool, Time>;

/// What a filter sees of a feature.
struct Feature {
    std::function<Value(const std::string& property)> property;
    /// Does the feature's geometry intersect the polygonal/linear/point literal (EPSG:4490)?
    std::function<bool(const struct SpatialLiteral& literal)> intersects;
};

/// A geometry literal of a spatial predicate, in EPSG:4490 longitude/latitude.
struct SpatialLiteral {
    std::string wkt;           ///< as GEOS reads it
    spatial::Box bbox;         ///< of the literal
    std::shared_ptr<void> prepared;  ///< a GEOS prepared geometry, owned (see cql2.cpp)
    [[nodiscard]] bool intersects_point(spatial::Point p) const;
    [[nodiscard]] bool intersects_polygon(const spatial::MultiPolygon& mp) const;
};

class Expression {
public:
    virtual ~Expression() = default;
    /// TRUE, FALSE or unknown (nullopt, e.g. a comparison with NULL): only TRUE selects.
    [[nodiscard]] virtual std::optional<bool> evaluate(const Feature& f) const = 0;
};

/// How literal coordinates are turned into EPSG:4490 lon/lat (filter-crs).
using CoordinateTransform = std::function<spatial::Point(double a, double b)>;

/// Parses CQL2 text. `queryables` lists the properties a filter may use (the spatial property is
/// `geometry`). @throws filter_error naming the position and the problem.
[[nodiscard]] std::unique_ptr<Expression> parse(const std::string& text, const std::set<std::string>& queryables,
                                                const CoordinateTransform& to_storage = {});

}  // namespace onegrid::server::cql2
