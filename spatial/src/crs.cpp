#include "onegrid/spatial/crs.hpp"

#include <proj.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numbers>

#include "onegrid/spatial/errors.hpp"

namespace onegrid::spatial {

std::string_view to_string(InputCrs crs) noexcept {
    switch (crs) {
        case InputCrs::wgs84: return "wgs84";
        case InputCrs::cgcs2000: return "cgcs2000";
        case InputCrs::gcj02: return "gcj02";
        case InputCrs::bd09: return "bd09";
    }
    return "unknown";
}

std::optional<InputCrs> parse_input_crs(std::string_view name) noexcept {
    std::string s(name);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
    if (s == "wgs84" || s == "epsg:4326" || s == "crs84") return InputCrs::wgs84;
    if (s == "cgcs2000" || s == "epsg:4490") return InputCrs::cgcs2000;
    if (s == "gcj02") return InputCrs::gcj02;
    if (s == "bd09") return InputCrs::bd09;
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// GCJ-02 and BD-09: the published algorithms (Krasovsky 1940 ellipsoid parameters).
namespace {

constexpr double pi = std::numbers::pi;
constexpr double krasovsky_a = 6378245.0;
constexpr double krasovsky_ee = 0.00669342162296594323;
constexpr double baidu_x_pi = pi * 3000.0 / 180.0;

double gcj_dlat(double x, double y) {
    double r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * std::sqrt(std::fabs(x));
    r += (20.0 * std::sin(6.0 * x * pi) + 20.0 * std::sin(2.0 * x * pi)) * 2.0 / 3.0;
    r += (20.0 * std::sin(y * pi) + 40.0 * std::sin(y / 3.0 * pi)) * 2.0 / 3.0;
    r += (160.0 * std::sin(y / 12.0 * pi) + 320.0 * std::sin(y * pi / 30.0)) * 2.0 / 3.0;
    return r;
}

double gcj_dlon(double x, double y) {
    double r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * std::sqrt(std::fabs(x));
    r += (20.0 * std::sin(6.0 * x * pi) + 20.0 * std::sin(2.0 * x * pi)) * 2.0 / 3.0;
    r += (20.0 * std::sin(x * pi) + 40.0 * std::sin(x / 3.0 * pi)) * 2.0 / 3.0;
    r += (150.0 * std::sin(x / 12.0 * pi) + 300.0 * std::sin(x / 30.0 * pi)) * 2.0 / 3.0;
    return r;
}

// Solves forward(x) == target for x by fixed-point iteration; the forward maps are close to the
// identity (offsets of a few hundred metres varying slowly), so each step gains ~3 digits.
template <class Forward>
Point invert(Forward forward, Point target) {
    Point x = target;
    for (int i = 0; i < 30; ++i) {
        const Point f = forward(x);
        const double dx = f.x - target.x;
        const double dy = f.y - target.y;
        x.x -= dx;
        x.y -= dy;
        if (std::fabs(dx) < 1e-11 && std::fabs(dy) < 1e-11) break;  // ~1 µm
    }
    return x;
}

}  // namespace

bool gcj02_offset_applies(Point p) noexcept {
    return p.x >= 72.004 && p.x <= 137.8347 && p.y >= 0.8293 && p.y <= 55.8271;
}

Point wgs84_to_gcj02(Point p) noexcept {
    if (!gcj02_offset_applies(p)) return p;
    double dlat = gcj_dlat(p.x - 105.0, p.y - 35.0);
    double dlon = gcj_dlon(p.x - 105.0, p.y - 35.0);
    const double radlat = p.y / 180.0 * pi;
    double magic = std::sin(radlat);
    magic = 1.0 - krasovsky_ee * magic * magic;
    const double sqrt_magic = std::sqrt(magic);
    dlat = (dlat * 180.0) / ((krasovsky_a * (1.0 - krasovsky_ee)) / (magic * sqrt_magic) * pi);
    dlon = (dlon * 180.0) / (krasovsky_a / sqrt_magic * std::cos(radlat) * pi);
    return {p.x + dlon, p.y + dlat};
}

Point gcj02_to_wgs84(Point p) noexcept {
    if (!gcj02_offset_applies(p)) return p;
    return invert(wgs84_to_gcj02, p);
}

Point gcj02_to_bd09(Point p) noexcept {
    const double z = std::sqrt(p.x * p.x + p.y * p.y) + 0.00002 * std::sin(p.y * baidu_x_pi);
    const double theta = std::atan2(p.y, p.x) + 0.000003 * std::cos(p.x * baidu_x_pi);
    return {z * std::cos(theta) + 0.0065, z * std::sin(theta) + 0.006};
}

Point bd09_to_gcj02(Point p) noexcept { return invert(gcj02_to_bd09, p); }

void check_lonlat(Point p, std::string_view what) {
    if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
        throw coordinate_error(std::string(what) + ": coordinate is not a finite number");
    }
    if (p.x < -180.0 || p.x > 180.0) {
        throw coordinate_error(std::string(what) + ": longitude " + std::to_string(p.x) +
                               " is outside [-180, 180]");
    }
    if (p.y < -90.0 || p.y > 90.0) {
        throw coordinate_error(std::string(what) + ": latitude " + std::to_string(p.y) +
                               " is outside [-90, 90]");
    }
}

Point to_cgcs2000(Point p, InputCrs from) {
    check_lonlat(p);
    switch (from) {
        case InputCrs::wgs84:
        case InputCrs::cgcs2000: return p;
        case InputCrs::gcj02: return gcj02_to_wgs84(p);
        case InputCrs::bd09: return gcj02_to_wgs84(bd09_to_gcj02(p));
    }
    return p;
}

// ---------------------------------------------------------------------------------------------
// PROJ transformations.

struct CrsTransform::Impl {
    PJ_CONTEXT* ctx = nullptr;
    PJ* pj = nullptr;
    bool noop = false;
    ~Impl() {
        if (pj != nullptr) proj_destroy(pj);
        if (ctx != nullptr) proj_context_destroy(ctx);
    }
};

namespace {
std::unique_ptr<CrsTransform::Impl> make_impl(const std::string& from, const std::string& to) {
    auto impl = std::make_unique<CrsTransform::Impl>();
    impl->ctx = proj_context_create();
    proj_log_level(impl->ctx, PJ_LOG_NONE);
    auto fail = [&](const std::string& what) -> crs_error {
        const int err = proj_context_errno(impl->ctx);
        std::string msg = what;
        if (err != 0) msg += std::string(": ") + proj_context_errno_string(impl->ctx, err);
        return crs_error(msg);
    };
    PJ* src = proj_create(impl->ctx, from.c_str());
    if (src == nullptr) throw fail("unknown coordinate reference system '" + from + "'");
    PJ* dst = proj_create(impl->ctx, to.c_str());
    if (dst == nullptr) {
        proj_destroy(src);
        throw fail("unknown coordinate reference system '" + to + "'");
    }
    PJ* op = proj_create_crs_to_crs_from_pj(impl->ctx, src, dst, nullptr, nullptr);
    proj_destroy(src);
    proj_destroy(dst);
    if (op == nullptr) throw fail("no transformation from '" + from + "' to '" + to + "'");
    PJ* norm = proj_normalize_for_visualization(impl->ctx, op);
    proj_destroy(op);
    if (norm == nullptr) throw fail("cannot normalise axis order of '" + from + "' → '" + to + "'");
    impl->pj = norm;
    impl->noop = from == to;
    return impl;
}
}  // namespace

CrsTransform::CrsTransform(std::string from, std::string to)
    : m_from(std::move(from)), m_to(std::move(to)), m_impl(make_impl(m_from, m_to)) {}

CrsTransform::~CrsTransform() = default;
CrsTransform::CrsTransform(CrsTransform&&) noexcept = default;
CrsTransform& CrsTransform::operator=(CrsTransform&&) noexcept = default;

CrsTransform::CrsTransform(const CrsTransform& other)
    : m_from(other.m_from), m_to(other.m_to), m_impl(make_impl(m_from, m_to)) {}

CrsTransform& CrsTransform::operator=(const CrsTransform& other) {
    if (this != &other) *this = CrsTransform(other);
    return *this;
}

bool CrsTransform::is_noop() const noexcept { return m_impl->noop; }

Point CrsTransform::apply(Point p) const {
    if (m_impl->noop) return p;
    PJ_COORD c = proj_coord(p.x, p.y, 0, 0);
    PJ_COORD r = proj_trans(m_impl->pj, PJ_FWD, c);
    if (!std::isfinite(r.xy.x) || !std::isfinite(r.xy.y) || r.xy.x == HUGE_VAL) {
        throw crs_error("cannot transform (" + std::to_string(p.x) + ", " + std::to_string(p.y) + ") from " +
                        m_from + " to " + m_to);
    }
    return {r.xy.x, r.xy.y};
}

void CrsTransform::apply(std::span<Point> points) const {
    if (m_impl->noop || points.empty()) return;
    static_assert(sizeof(Point) == 2 * sizeof(double));
    double* xs = &points[0].x;
    double* ys = &points[0].y;
    proj_trans_generic(m_impl->pj, PJ_FWD, xs, sizeof(Point), points.size(), ys, sizeof(Point), points.size(),
                       nullptr, 0, 0, nullptr, 0, 0);
    for (const Point& p : points) {
        if (!std::isfinite(p.x) || !std::isfinite(p.y)) {
            throw crs_error("cannot transform a coordinate from " + m_from + " to " + m_to +
                            " (outside the area of use?)");
        }
    }
}

Box CrsTransform::apply(const Box& box) const {
    if (m_impl->noop || box.empty()) return box;
    Box out;
    if (proj_trans_bounds(m_impl->ctx, m_impl->pj, PJ_FWD, box.minx, box.miny, box.maxx, box.maxy, &out.minx,
                          &out.miny, &out.maxx, &out.maxy, 21) == 0) {
        throw crs_error("cannot transform a bounding box from " + m_from + " to " + m_to);
    }
    return out;
}

Point to_metric(Point p) {
    thread_local const CrsTransform t(storage_crs, metric_crs);
    return t.apply(p);
}

Point from_metric(Point p) {
    thread_local const CrsTransform t(metric_crs, storage_crs);
    return t.apply(p);
}

double distance_m(Point a, Point b) {
    const Point ma = to_metric(a);
    const Point mb = to_metric(b);
    return std::hypot(ma.x - mb.x, ma.y - mb.y);
}

double area_m2(const MultiPolygon& mp) {
    double total = 0.0;
    for (const Polygon& poly : mp) {
        Ring shell = poly.shell;
        for (Point& p : shell) p = to_metric(p);
        total += std::fabs(signed_area(shell));
        for (const Ring& h : poly.holes) {
            Ring hole = h;
            for (Point& p : hole) p = to_metric(p);
            total -= std::fabs(signed_area(hole));
        }
    }
    return total;
}

std::string crs_identifier(const std::string& definition) {
    PJ_CONTEXT* ctx = proj_context_create();
    proj_log_level(ctx, PJ_LOG_NONE);
    std::string out;
    if (PJ* crs = proj_create(ctx, definition.c_str())) {
        const char* auth = proj_get_id_auth_name(crs, 0);
        const char* code = proj_get_id_code(crs, 0);
        if (auth == nullptr || code == nullptr) {
            // A WKT without an ID: ask PROJ to identify it against the EPSG database.
            int* confidence = nullptr;
            PJ_OBJ_LIST* list = proj_identify(ctx, crs, "EPSG", nullptr, &confidence);
            if (list != nullptr && proj_list_get_count(list) > 0 && confidence[0] >= 70) {
                PJ* best = proj_list_get(ctx, list, 0);
                const char* c = proj_get_id_code(best, 0);
                if (c != nullptr) out = std::string("EPSG:") + c;
                proj_destroy(best);
            }
            proj_int_list_destroy(confidence);
            proj_list_destroy(list);
        } else {
            out = std::string(auth) + ":" + code;
        }
        proj_destroy(crs);
    }
    proj_context_destroy(ctx);
    return out;
}

}  // namespace onegrid::spatial
