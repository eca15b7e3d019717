#pragma once
/// @file
/// Reading polygon and point layers from any GDAL vector source into EPSG:4490.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial {

/// One polygon feature with its attributes as text (UTF-8).
struct PolygonFeature {
    std::string id;
    MultiPolygon geometry;  ///< EPSG:4490
    std::vector<std::string> values;  ///< parallel to PolygonLayer::fields
    std::int64_t source_fid = -1;
};

enum class FieldType : std::uint8_t { string, integer, real };

/// A polygon layer in EPSG:4490.
struct PolygonLayer {
    std::string name;
    std::string source_crs;  ///< identifier of the system the source was in (`EPSG:4549`, ...)
    std::vector<std::string> fields;
    std::vector<FieldType> field_types;  ///< parallel to fields; missing entries are strings
    std::vector<PolygonFeature> features;

    /// Index of a field by name (case-insensitive), or nullopt.
    [[nodiscard]] std::optional<std::size_t> field_index(std::string_view name) const;
    /// The value of a field of a feature, or empty when the layer has no such field.
    [[nodiscard]] std::string_view value(const PolygonFeature& f, std::string_view field) const;
};

struct ReadOptions {
    std::string id_field = "code";  ///< field holding each feature's unique id
    std::string layer;              ///< layer name; empty picks the first layer with polygons
    std::string source_crs;         ///< assigns the source system (for sources without one, e.g. CSV)
    bool make_valid = false;        ///< repair invalid polygons with GEOS MakeValid instead of failing
};

/// Reads a polygon layer from a GDAL vector source (GeoPackage, GeoJSON, Shapefile with its .cpg
/// encoding, KML, FlatGeobuf, CSV with a WKT column, ...) and transforms it to EPSG:4490.
/// @throws source_error when the source or layer cannot be opened or read.
/// @throws data_error for a layer without polygons, a missing or empty id, duplicate ids, an
///         invalid polygon (naming the feature and GEOS's reason) or a source without a CRS.
[[nodiscard]] PolygonLayer read_polygon_layer(const std::string& source, const ReadOptions& options = {});

/// One point read from a point source. `valid` is false with `error` set for rows whose
/// coordinates are unusable (NaN, infinite, out of range); such rows do not stop a run.
struct PointRecord {
    std::string id;
    Point position;  ///< as read, in the source's system
    bool valid = true;
    std::string error;
};

struct PointReadOptions {
    std::string id_field = "id";  ///< for GDAL point layers; CSV uses its `id` column
    std::string layer;
};

/// Streams the points of a CSV file with the header `id,lon,lat` (a fast dedicated reader) or of any
/// GDAL point layer (coordinates as stored; GDAL sources are transformed to EPSG:4490).
/// `sink` receives batches. Returns the number of rows read.
/// @throws source_error for a missing file, a wrong CSV header or a malformed CSV line (with its
///         line number).
std::size_t read_points(const std::string& source, const PointReadOptions& options,
                        const std::function<void(std::vector<PointRecord>&)>& sink,
                        std::size_t batch_size = 65536);

/// Writes polygon layers (EPSG:4490) through GDAL; the driver follows the file extension
/// (.gpkg, .shp with a UTF-8 .cpg, .geojson, .kml, .fgb). Formats other than GeoPackage hold one
/// layer. Files are written under a temporary name and renamed into place, so a failure leaves
/// nothing half-written and an existing file is replaced only by a complete one.
/// @throws source_error when the file cannot be written.
void write_polygon_layers(const std::string& path, const std::vector<const PolygonLayer*>& layers);
void write_polygon_layer(const PolygonLayer& layer, const std::string& path);

}  // namespace onegrid::spatial
