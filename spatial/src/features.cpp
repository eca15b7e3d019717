#include "onegrid/spatial/features.hpp"

#include <gdal_priv.h>
#include <ogr_spatialref.h>
#include <ogrsf_frmts.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/errors.hpp"
#include "onegrid/spatial/geos.hpp"

namespace onegrid::spatial {
namespace {

void ensure_gdal() {
    static std::once_flag once;
    std::call_once(once, [] {
        GDALAllRegister();
        // GDAL's messages reach users through our exceptions (CPLGetLastErrorMsg), not stderr.
        CPLSetErrorHandler(CPLQuietErrorHandler);
        // Shapefiles are recoded to UTF-8 from the encoding their .cpg names (GBK included).
        CPLSetConfigOption("SHAPE_ENCODING", nullptr);
    });
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

std::string extension(const std::string& path) { return lower(std::filesystem::path(path).extension().string()); }

std::string gdal_error(const char* fallback) {
    const char* msg = CPLGetLastErrorMsg();
    return (msg != nullptr && *msg != '\0') ? msg : fallback;
}

struct DatasetCloser {
    void operator()(GDALDataset* ds) const noexcept { GDALClose(ds); }
};
using DatasetPtr = std::unique_ptr<GDALDataset, DatasetCloser>;

DatasetPtr open_vector(const std::string& source) {
    ensure_gdal();
    CPLErrorReset();
    std::vector<const char*> open_options;
    if (extension(source) == ".csv") {
        // CSV: geometry comes from a WKT column.
        open_options = {"GEOM_POSSIBLE_NAMES=WKT,wkt,geometry,geom,the_geom", "KEEP_GEOM_COLUMNS=NO"};
    }
    open_options.push_back(nullptr);
    auto* ds = static_cast<GDALDataset*>(
        GDALOpenEx(source.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr, open_options.data(), nullptr));
    if (ds == nullptr) {
        std::error_code ec;
        if (!std::filesystem::exists(source, ec)) throw source_error("cannot open '" + source + "': no such file");
        throw source_error("cannot open '" + source + "' as a vector data source: " + gdal_error("unknown format"));
    }
    return DatasetPtr(ds);
}

bool is_polygonal(OGRwkbGeometryType t) {
    const auto flat = wkbFlatten(t);
    return flat == wkbPolygon || flat == wkbMultiPolygon || flat == wkbCurvePolygon || flat == wkbMultiSurface ||
           flat == wkbPolyhedralSurface || flat == wkbTIN || flat == wkbTriangle;
}

OGRLayer* pick_layer(GDALDataset& ds, const std::string& source, const std::string& name) {
    if (!name.empty()) {
        OGRLayer* l = ds.GetLayerByName(name.c_str());
        if (l == nullptr) throw source_error("'" + source + "' has no layer named '" + name + "'");
        return l;
    }
    if (ds.GetLayerCount() == 0) throw data_error("'" + source + "' has no layers");
    for (int i = 0; i < ds.GetLayerCount(); ++i) {
        OGRLayer* l = ds.GetLayer(i);
        if (is_polygonal(l->GetGeomType())) return l;
    }
    return ds.GetLayer(0);  // geometry type unknown (GeoJSON, CSV, KML): inspect features
}

Ring ring_from(const OGRLinearRing* r) {
    Ring out;
    const int n = r->getNumPoints();
    out.reserve(static_cast<std::size_t>(std::max(0, n)));
    for (int i = 0; i < n; ++i) out.push_back({r->getX(i), r->getY(i)});
    if (out.size() > 1 && out.front() == out.back()) out.pop_back();
    return out;
}

void append_polygons(const OGRGeometry* g, MultiPolygon& out) {
    const auto flat = wkbFlatten(g->getGeometryType());
    if (flat == wkbPolygon || flat == wkbTriangle) {
        const auto* poly = g->toPolygon();
        if (poly->IsEmpty()) return;
        Polygon p;
        p.shell = ring_from(poly->getExteriorRing());
        for (int i = 0; i < poly->getNumInteriorRings(); ++i) p.holes.push_back(ring_from(poly->getInteriorRing(i)));
        out.push_back(std::move(p));
    } else if (flat == wkbMultiPolygon || flat == wkbGeometryCollection || flat == wkbPolyhedralSurface ||
               flat == wkbTIN) {
        const auto* coll = dynamic_cast<const OGRGeometryCollection*>(g);
        if (coll == nullptr) return;
        for (int i = 0; i < coll->getNumGeometries(); ++i) append_polygons(coll->getGeometryRef(i), out);
    } else if (flat == wkbCurvePolygon || flat == wkbMultiSurface) {
        std::unique_ptr<OGRGeometry> linear(g->getLinearGeometry());
        if (linear) append_polygons(linear.get(), out);
    }
}

std::string feature_label(const std::string& id, std::int64_t fid) {
    if (!id.empty()) return "feature '" + id + "' (FID " + std::to_string(fid) + ")";
    return "feature FID " + std::to_string(fid);
}

void write_layer(GDALDataset& ds, const PolygonLayer& layer, OGRSpatialReference& srs, const char* driver_name,
                 const std::string& path) {
    std::vector<const char*> lco;
    if (std::string(driver_name) == "ESRI Shapefile") lco.push_back("ENCODING=UTF-8");
    lco.push_back(nullptr);
    OGRLayer* l = ds.CreateLayer(layer.name.c_str(), &srs, wkbMultiPolygon, const_cast<char**>(lco.data()));
    if (l == nullptr) throw source_error("cannot create layer '" + layer.name + "' in '" + path + "': " + gdal_error("GDAL refused"));
    for (std::size_t i = 0; i < layer.fields.size(); ++i) {
        const FieldType t = i < layer.field_types.size() ? layer.field_types[i] : FieldType::string;
        OGRFieldDefn fd(layer.fields[i].c_str(), t == FieldType::integer ? OFTInteger64
                                                 : t == FieldType::real  ? OFTReal
                                                                         : OFTString);
        if (l->CreateField(&fd) != OGRERR_NONE) {
            throw source_error("cannot create field '" + layer.fields[i] + "' in '" + path + "'");
        }
    }
    // Drivers may map fields to special elements (KML's <name>), so fields are found by name.
    std::vector<int> target(layer.fields.size(), -1);
    for (std::size_t i = 0; i < layer.fields.size(); ++i)
        target[i] = l->GetLayerDefn()->GetFieldIndex(layer.fields[i].c_str());
    const bool transaction = ds.StartTransaction() == OGRERR_NONE;
    for (const PolygonFeature& f : layer.features) {
        OGRFeature feat(l->GetLayerDefn());
        for (std::size_t i = 0; i < f.values.size() && i < layer.fields.size(); ++i) {
            if (!f.values[i].empty() && target[i] >= 0) feat.SetField(target[i], f.values[i].c_str());
        }
        OGRMultiPolygon mp;
        for (const Polygon& p : f.geometry) {
            OGRPolygon poly;
            auto add_ring = [&](const Ring& r) {
                OGRLinearRing ring;
                ring.setNumPoints(static_cast<int>(r.size() + 1), FALSE);
                for (std::size_t k = 0; k <= r.size(); ++k) {
                    const Point& pt = r[k % r.size()];
                    ring.setPoint(static_cast<int>(k), pt.x, pt.y);
                }
                poly.addRing(&ring);
            };
            add_ring(p.shell);
            for (const Ring& h : p.holes) add_ring(h);
            mp.addGeometry(&poly);
        }
        feat.SetGeometry(&mp);
        if (l->CreateFeature(&feat) != OGRERR_NONE) {
            throw source_error("cannot write feature '" + f.id + "' to '" + path + "': " + gdal_error("GDAL refused"));
        }
    }
    if (transaction && ds.CommitTransaction() != OGRERR_NONE) {
        throw source_error("cannot write layer '" + layer.name + "' to '" + path + "': " + gdal_error("commit failed"));
    }
}

}  // namespace

std::optional<std::size_t> PolygonLayer::field_index(std::string_view field) const {
    const std::string want = lower(field);
    for (std::size_t i = 0; i < fields.size(); ++i)
        if (lower(fields[i]) == want) return i;
    return std::nullopt;
}

std::string_view PolygonLayer::value(const PolygonFeature& f, std::string_view field) const {
    const auto i = field_index(field);
    if (!i || *i >= f.values.size()) return {};
    return f.values[*i];
}

PolygonLayer read_polygon_layer(const std::string& source, const ReadOptions& options) {
    DatasetPtr ds = open_vector(source);
    OGRLayer* layer = pick_layer(*ds, source, options.layer);
    PolygonLayer out;
    out.name = layer->GetName();

    // Source system → EPSG:4490, longitude first on both sides.
    OGRSpatialReference src_srs;
    if (!options.source_crs.empty()) {
        if (src_srs.SetFromUserInput(options.source_crs.c_str()) != OGRERR_NONE) {
            throw crs_error("unknown coordinate reference system '" + options.source_crs + "'");
        }
    } else if (const OGRSpatialReference* s = layer->GetSpatialRef()) {
        src_srs = *s;
    } else {
        throw data_error("layer '" + out.name + "' of '" + source +
                         "' has no coordinate reference system; name it with --source-crs (e.g. EPSG:4490)");
    }
    src_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    OGRSpatialReference dst_srs;
    dst_srs.importFromEPSG(4490);
    dst_srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
    {
        const char* auth = src_srs.GetAuthorityName(nullptr);
        const char* code = src_srs.GetAuthorityCode(nullptr);
        out.source_crs = (auth != nullptr && code != nullptr) ? std::string(auth) + ":" + code : "custom";
    }
    std::unique_ptr<OGRCoordinateTransformation> ct;
    if (!src_srs.IsSame(&dst_srs)) {
        ct.reset(OGRCreateCoordinateTransformation(&src_srs, &dst_srs));
        if (!ct) {
            throw crs_error("no transformation from the system of '" + source + "' to EPSG:4490: " +
                            gdal_error("PROJ found none"));
        }
    }

    OGRFeatureDefn* defn = layer->GetLayerDefn();
    for (int i = 0; i < defn->GetFieldCount(); ++i) {
        const OGRFieldDefn* fd = defn->GetFieldDefn(i);
        out.fields.emplace_back(fd->GetNameRef());
        const OGRFieldType t = fd->GetType();
        out.field_types.push_back(t == OFTInteger || t == OFTInteger64 ? FieldType::integer
                                  : t == OFTReal                      ? FieldType::real
                                                                      : FieldType::string);
    }
    const auto id_index = out.field_index(options.id_field);
    if (!id_index) {
        std::string names;
        for (const auto& f : out.fields) names += (names.empty() ? "" : ", ") + f;
        throw data_error("layer '" + out.name + "' of '" + source + "' has no field '" + options.id_field +
                         "' (fields: " + (names.empty() ? "none" : names) + "); choose one with --id-field");
    }

    GeosContext geos;
    std::unordered_map<std::string, std::int64_t> seen;
    layer->ResetReading();
    std::int64_t non_polygon = 0;
    for (auto& feature : *layer) {
        PolygonFeature f;
        f.source_fid = feature->GetFID();
        f.values.reserve(out.fields.size());
        for (std::size_t i = 0; i < out.fields.size(); ++i) {
            const int fi = static_cast<int>(i);
            f.values.emplace_back(feature->IsFieldSetAndNotNull(fi) ? feature->GetFieldAsString(fi) : "");
        }
        f.id = f.values[*id_index];
        OGRGeometry* geom = feature->GetGeometryRef();
        if (geom == nullptr || geom->IsEmpty()) {
            throw data_error(feature_label(f.id, f.source_fid) + " of '" + source + "' has no geometry");
        }
        if (!is_polygonal(geom->getGeometryType()) && wkbFlatten(geom->getGeometryType()) != wkbGeometryCollection) {
            ++non_polygon;
            continue;
        }
        if (f.id.empty()) {
            throw data_error(feature_label(f.id, f.source_fid) + " of '" + source + "' has an empty '" +
                             options.id_field + "'");
        }
        if (auto [it, inserted] = seen.emplace(f.id, f.source_fid); !inserted) {
            throw data_error("duplicate id '" + f.id + "' in '" + source + "': features FID " +
                             std::to_string(it->second) + " and FID " + std::to_string(f.source_fid));
        }
        std::unique_ptr<OGRGeometry> g(geom->clone());
        g->flattenTo2D();
        if (ct && g->transform(ct.get()) != OGRERR_NONE) {
            throw crs_error(feature_label(f.id, f.source_fid) + " of '" + source +
                            "' cannot be transformed to EPSG:4490");
        }
        append_polygons(g.get(), f.geometry);
        if (f.geometry.empty()) {
            ++non_polygon;
            continue;
        }
        if (!all_finite(f.geometry)) {
            throw data_error(feature_label(f.id, f.source_fid) + " of '" + source +
                             "' has a coordinate that is not a finite number");
        }
        for (const Polygon& p : f.geometry) {
            if (p.shell.size() < 3) {
                throw data_error(feature_label(f.id, f.source_fid) + " of '" + source +
                                 "' is invalid: a ring has fewer than 3 distinct vertices");
            }
        }
        auto gg = to_geos(geos, f.geometry);
        const std::string reason = invalid_reason(geos, gg.get());
        if (!reason.empty()) {
            if (!options.make_valid) {
                throw data_error(feature_label(f.id, f.source_fid) + " of '" + source + "' is invalid: " + reason +
                                 "; repair with --make-valid");
            }
            auto fixed = geos_owned(geos, GEOSMakeValid_r(geos.handle(), gg.get()), "MakeValid");
            f.geometry = from_geos(geos, fixed.get());
            if (f.geometry.empty()) {
                throw data_error(feature_label(f.id, f.source_fid) + " of '" + source +
                                 "' is invalid (" + reason + ") and has no area left after repair");
            }
        }
        out.features.push_back(std::move(f));
    }
    if (out.features.empty()) {
        throw data_error("layer '" + out.name + "' of '" + source + "' has no polygon features" +
                         (non_polygon > 0 ? " (" + std::to_string(non_polygon) + " features of other types)" : ""));
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Points

namespace {

std::vector<std::string_view> split_csv_simple(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= line.size(); ++i) {
        if (i == line.size() || line[i] == ',') {
            std::string_view f = line.substr(start, i - start);
            while (!f.empty() && (f.front() == ' ' || f.front() == '\t')) f.remove_prefix(1);
            while (!f.empty() && (f.back() == ' ' || f.back() == '\t' || f.back() == '\r')) f.remove_suffix(1);
            if (f.size() >= 2 && f.front() == '"' && f.back() == '"') f = f.substr(1, f.size() - 2);
            out.push_back(f);
            start = i + 1;
        }
    }
    return out;
}

bool parse_double(std::string_view s, double& v) {
    if (s.empty()) return false;
    // from_chars does not accept a leading '+'; accept "nan"/"inf" so such rows get a row status.
    if (s.front() == '+') s.remove_prefix(1);
    const auto res = std::from_chars(s.data(), s.data() + s.size(), v);
    return res.ec == std::errc() && res.ptr == s.data() + s.size();
}

std::size_t read_points_csv(const std::string& path, const std::function<void(std::vector<PointRecord>&)>& sink,
                            std::size_t batch_size) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw source_error("cannot open '" + path + "': no such file or not readable");
    std::string line;
    std::size_t lineno = 0;
    if (!std::getline(in, line)) throw source_error(path + ": empty file, expected the header 'id,lon,lat'");
    ++lineno;
    if (line.size() >= 3 && static_cast<unsigned char>(line[0]) == 0xEF) line.erase(0, 3);  // UTF-8 BOM
    const auto header = split_csv_simple(line);
    std::vector<std::string> names;
    for (auto h : header) names.push_back(lower(h));
    auto col = [&](std::initializer_list<const char*> options) -> int {
        for (const char* o : options)
            for (std::size_t i = 0; i < names.size(); ++i)
                if (names[i] == o) return static_cast<int>(i);
        return -1;
    };
    const int ci = col({"id"});
    const int cx = col({"lon", "lng", "long", "longitude", "x"});
    const int cy = col({"lat", "latitude", "y"});
    if (ci < 0 || cx < 0 || cy < 0) {
        throw source_error(path + ":1: expected a header with the columns id,lon,lat, got '" + line + "'");
    }
    const std::size_t ncols = header.size();
    std::vector<PointRecord> batch;
    batch.reserve(batch_size);
    std::size_t rows = 0;
    while (std::getline(in, line)) {
        ++lineno;
        if (line.empty() || line == "\r") continue;
        const auto fields = split_csv_simple(line);
        if (fields.size() != ncols) {
            throw source_error(path + ":" + std::to_string(lineno) + ": expected " + std::to_string(ncols) +
                               " fields, got " + std::to_string(fields.size()));
        }
        PointRecord r;
        r.id = std::string(fields[static_cast<std::size_t>(ci)]);
        if (!parse_double(fields[static_cast<std::size_t>(cx)], r.position.x) ||
            !parse_double(fields[static_cast<std::size_t>(cy)], r.position.y)) {
            throw source_error(path + ":" + std::to_string(lineno) + ": lon/lat '" +
                               std::string(fields[static_cast<std::size_t>(cx)]) + "', '" +
                               std::string(fields[static_cast<std::size_t>(cy)]) + "' is not a number");
        }
        try {
            check_lonlat(r.position, "line " + std::to_string(lineno));
        } catch (const coordinate_error& e) {
            r.valid = false;
            r.error = e.what();
        }
        batch.push_back(std::move(r));
        ++rows;
        if (batch.size() >= batch_size) {
            sink(batch);
            batch.clear();
        }
    }
    if (!batch.empty()) sink(batch);
    return rows;
}

}  // namespace

std::size_t read_points(const std::string& source, const PointReadOptions& options,
                        const std::function<void(std::vector<PointRecord>&)>& sink, std::size_t batch_size) {
    if (extension(source) == ".csv") {
        // A CSV with a WKT column is a GDAL layer; one with id,lon,lat is read directly.
        std::ifstream probe(source);
        std::string header;
        if (probe && std::getline(probe, header) && lower(header).find("wkt") == std::string::npos) {
            return read_points_csv(source, sink, batch_size);
        }
    }
    DatasetPtr ds = open_vector(source);
    OGRLayer* layer = options.layer.empty() ? ds->GetLayer(0) : ds->GetLayerByName(options.layer.c_str());
    if (layer == nullptr) throw source_error("'" + source + "' has no point layer");
    std::unique_ptr<OGRCoordinateTransformation> ct;
    if (const OGRSpatialReference* s = layer->GetSpatialRef()) {
        OGRSpatialReference src = *s;
        src.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        OGRSpatialReference dst;
        dst.importFromEPSG(4490);
        dst.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        if (!src.IsSame(&dst)) ct.reset(OGRCreateCoordinateTransformation(&src, &dst));
    }
    const int id_field = layer->GetLayerDefn()->GetFieldIndex(options.id_field.c_str());
    std::vector<PointRecord> batch;
    std::size_t rows = 0;
    for (auto& feature : *layer) {
        PointRecord r;
        r.id = id_field >= 0 ? feature->GetFieldAsString(id_field) : std::to_string(feature->GetFID());
        OGRGeometry* g = feature->GetGeometryRef();
        if (g == nullptr || wkbFlatten(g->getGeometryType()) != wkbPoint || g->IsEmpty()) {
            r.valid = false;
            r.error = "feature " + r.id + " is not a point";
        } else {
            auto* p = g->toPoint();
            double x = p->getX();
            double y = p->getY();
            if (ct && !ct->Transform(1, &x, &y)) {
                r.valid = false;
                r.error = "feature " + r.id + " cannot be transformed to EPSG:4490";
            }
            r.position = {x, y};
            if (r.valid) {
                try {
                    check_lonlat(r.position, "feature " + r.id);
                } catch (const coordinate_error& e) {
                    r.valid = false;
                    r.error = e.what();
                }
            }
        }
        batch.push_back(std::move(r));
        ++rows;
        if (batch.size() >= batch_size) {
            sink(batch);
            batch.clear();
        }
    }
    if (!batch.empty()) sink(batch);
    return rows;
}

// ---------------------------------------------------------------------------------------------
// Writing

void write_polygon_layer(const PolygonLayer& layer, const std::string& path) {
    write_polygon_layers(path, {&layer});
}

void write_polygon_layers(const std::string& path, const std::vector<const PolygonLayer*>& layers) {
    ensure_gdal();
    const std::string ext = extension(path);
    const char* driver_name = ext == ".gpkg"                          ? "GPKG"
                              : ext == ".shp"                         ? "ESRI Shapefile"
                              : (ext == ".geojson" || ext == ".json") ? "GeoJSON"
                              : ext == ".kml"                         ? "KML"
                              : ext == ".fgb"                         ? "FlatGeobuf"
                                                                      : nullptr;
    if (driver_name == nullptr) {
        throw source_error("cannot write '" + path + "': unknown extension (use .gpkg, .shp, .geojson, .kml or .fgb)");
    }
    if (layers.size() != 1 && ext != ".gpkg") {
        throw source_error("cannot write '" + path + "': only a GeoPackage holds several layers");
    }
    GDALDriver* driver = GetGDALDriverManager()->GetDriverByName(driver_name);
    if (driver == nullptr) throw source_error(std::string("GDAL driver ") + driver_name + " is not available");

    namespace fs = std::filesystem;
    const fs::path target = fs::absolute(path);
    const fs::path tmp_dir = target.parent_path() / (".tmp-" + target.filename().string());
    std::error_code ec;
    fs::remove_all(tmp_dir, ec);
    fs::create_directories(tmp_dir, ec);
    if (ec) throw source_error("cannot write '" + path + "': " + ec.message());
    const fs::path tmp = tmp_dir / target.filename();
    auto cleanup = [&] { fs::remove_all(tmp_dir, ec); };
    try {
        CPLErrorReset();
        DatasetPtr ds(driver->Create(tmp.string().c_str(), 0, 0, 0, GDT_Unknown, nullptr));
        if (!ds) throw source_error("cannot create '" + path + "': " + gdal_error("GDAL refused"));
        OGRSpatialReference srs;
        srs.importFromEPSG(4490);
        srs.SetAxisMappingStrategy(OAMS_TRADITIONAL_GIS_ORDER);
        for (const PolygonLayer* layer : layers) write_layer(*ds, *layer, srs, driver_name, path);
        ds->FlushCache();
        // Closing writes everything out; GDALClose reports write errors since GDAL 3.7 only, so
        // check the error state it leaves.
        CPLErrorReset();
        ds.reset();
        if (CPLGetLastErrorType() >= CE_Failure) throw source_error("cannot write '" + path + "': " + gdal_error("close failed"));
        // Move every file the driver produced (.shp, .shx, .dbf, .prj, .cpg, ...) into place.
        for (const auto& entry : fs::directory_iterator(tmp_dir)) {
            fs::rename(entry.path(), target.parent_path() / entry.path().filename());
        }
        cleanup();
    } catch (...) {
        cleanup();
        throw;
    }
}

}  // namespace onegrid::spatial
