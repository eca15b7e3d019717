#pragma once
/// @file
/// Thin RAII layer over the GEOS C API (reentrant `_r` functions only).

#ifndef GEOS_USE_ONLY_R_API
#define GEOS_USE_ONLY_R_API
#endif
#include <geos_c.h>

#include <memory>
#include <string>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial {

/// A GEOS context handle. Not thread-safe: use one per thread.
class GeosContext {
public:
    GeosContext();
    ~GeosContext();
    GeosContext(const GeosContext&) = delete;
    GeosContext& operator=(const GeosContext&) = delete;

    [[nodiscard]] GEOSContextHandle_t handle() const noexcept { return m_handle; }
    /// The last error or notice GEOS reported on this context.
    [[nodiscard]] const std::string& last_error() const noexcept { return m_last_error; }

private:
    GEOSContextHandle_t m_handle;
    std::string m_last_error;
};

struct GeosGeometryDeleter {
    GEOSContextHandle_t handle = nullptr;
    void operator()(GEOSGeometry* g) const noexcept {
        if (g != nullptr) GEOSGeom_destroy_r(handle, g);
    }
};
using GeosGeometryPtr = std::unique_ptr<GEOSGeometry, GeosGeometryDeleter>;

/// Takes ownership of a geometry GEOS returned; throws data_error naming `what` when it is null.
[[nodiscard]] GeosGeometryPtr geos_owned(const GeosContext& ctx, GEOSGeometry* g, const char* what);

/// A GEOS MultiPolygon with the same coordinates.
[[nodiscard]] GeosGeometryPtr to_geos(const GeosContext& ctx, const MultiPolygon& mp);
/// A GEOS Polygon with the same coordinates.
[[nodiscard]] GeosGeometryPtr to_geos(const GeosContext& ctx, const Polygon& poly);

/// The polygonal parts of a GEOS geometry (points and lines in collections are dropped).
[[nodiscard]] MultiPolygon from_geos(const GeosContext& ctx, const GEOSGeometry* g);

/// GEOS's validity verdict: empty when valid, otherwise the reason with its location.
[[nodiscard]] std::string invalid_reason(const GeosContext& ctx, const GEOSGeometry* g);

}  // namespace onegrid::spatial
