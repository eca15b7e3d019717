#include <gtest/gtest.h>

#include <cmath>

#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/errors.hpp"

using namespace onegrid::spatial;

namespace {
// Ground distance in metres between two lon/lat points (spherical; fine at the metre scale).
double metres(Point a, Point b) {
    const double r = 6371008.8;
    const double rad = 3.14159265358979323846 / 180.0;
    const double dlat = (b.y - a.y) * rad;
    const double dlon = (b.x - a.x) * rad * std::cos((a.y + b.y) / 2 * rad);
    return r * std::hypot(dlat, dlon);
}

struct Reference {
    Point wgs84;
    Point gcj02;
};

// Published reference pairs computed by independent implementations (the eviltransform test
// suite and the coordtransform README), not by this code.
const Reference gcj_references[] = {
    {{121.5272106, 31.1774276}, {121.531541859215, 31.17530398364597}},    // Shanghai
    {{113.912316, 22.543847}, {113.9171764808363, 22.540796131694766}},    // Shenzhen
    {{116.377817, 39.911954}, {116.38404722455657, 39.91334545536069}},    // Beijing
    {{116.404, 39.915}, {116.41024449916938, 39.91640428150164}},          // coordtransform example
};
}  // namespace

TEST(Gcj02, ForwardMatchesPublishedReferences) {
    for (const auto& r : gcj_references) {
        const Point g = wgs84_to_gcj02(r.wgs84);
        EXPECT_NEAR(g.x, r.gcj02.x, 1e-9);
        EXPECT_NEAR(g.y, r.gcj02.y, 1e-9);
    }
}

TEST(Gcj02, InverseIsWithinHalfAMetreOfTheReference) {
    for (const auto& r : gcj_references) {
        const Point w = gcj02_to_wgs84(r.gcj02);
        EXPECT_LT(metres(w, r.wgs84), 0.5) << r.wgs84.x << "," << r.wgs84.y;
        // In fact the iteration converges to far below a millimetre.
        EXPECT_LT(metres(w, r.wgs84), 0.001);
    }
}

TEST(Gcj02, InverseRoundTripsAcrossPenglai) {
    for (double lon = 120.4; lon <= 121.1; lon += 0.05) {
        for (double lat = 37.3; lat <= 38.45; lat += 0.05) {
            const Point w{lon, lat};
            const Point back = gcj02_to_wgs84(wgs84_to_gcj02(w));
            EXPECT_LT(metres(back, w), 0.001) << lon << "," << lat;
            // The obfuscation itself is hundreds of metres there.
            EXPECT_GT(metres(wgs84_to_gcj02(w), w), 100.0);
        }
    }
}

TEST(Gcj02, NoOffsetOutsideChina) {
    const Point paris{2.35, 48.85};
    EXPECT_EQ(wgs84_to_gcj02(paris), paris);
    EXPECT_EQ(gcj02_to_wgs84(paris), paris);
}

TEST(Bd09, MatchesPublishedReferences) {
    // coordtransform: gcj02tobd09(116.404, 39.915) and bd09togcj02(116.404, 39.915).
    const Point bd = gcj02_to_bd09({116.404, 39.915});
    EXPECT_NEAR(bd.x, 116.41036949371029, 1e-9);
    EXPECT_NEAR(bd.y, 39.92133699351021, 1e-9);
    // The reference uses Baidu's approximate inverse; ours iterates to the exact one, so they
    // agree to within the approximation's error (a few decimetres).
    const Point gcj = bd09_to_gcj02({116.404, 39.915});
    EXPECT_LT(metres(gcj, {116.39762729119315, 39.90865673957631}), 0.5);
    EXPECT_LT(metres(gcj02_to_bd09(gcj), {116.404, 39.915}), 0.001);
    // BD-09 → WGS 84 inverts both layers: the round trip through the forward formulas is exact.
    const Point wgs = to_cgcs2000({120.7612, 37.8055}, InputCrs::bd09);
    EXPECT_LT(metres(gcj02_to_bd09(wgs84_to_gcj02(wgs)), {120.7612, 37.8055}), 0.001);
    EXPECT_GT(metres(wgs, {120.7612, 37.8055}), 500.0);  // Baidu adds ~1 km in Penglai
}

TEST(InputCrs, ParsesNamesAndAliases) {
    EXPECT_EQ(parse_input_crs("wgs84"), InputCrs::wgs84);
    EXPECT_EQ(parse_input_crs("WGS-84"), InputCrs::wgs84);
    EXPECT_EQ(parse_input_crs("EPSG:4326"), InputCrs::wgs84);
    EXPECT_EQ(parse_input_crs("epsg:4490"), InputCrs::cgcs2000);
    EXPECT_EQ(parse_input_crs("GCJ02"), InputCrs::gcj02);
    EXPECT_EQ(parse_input_crs("bd-09"), InputCrs::bd09);
    EXPECT_FALSE(parse_input_crs("mars"));
}

TEST(InputCrs, BadCoordinatesAreRefusedWithTheReason) {
    EXPECT_THROW((void)to_cgcs2000({std::nan(""), 37.0}, InputCrs::wgs84), coordinate_error);
    EXPECT_THROW((void)to_cgcs2000({INFINITY, 37.0}, InputCrs::gcj02), coordinate_error);
    try {
        (void)to_cgcs2000({200.0, 37.0}, InputCrs::wgs84);
        FAIL() << "accepted longitude 200";
    } catch (const coordinate_error& e) {
        EXPECT_NE(std::string(e.what()).find("longitude"), std::string::npos);
    }
    EXPECT_THROW((void)to_cgcs2000({120.0, -91.0}, InputCrs::bd09), coordinate_error);
}

TEST(Metric, Epsg4549MatchesGroundDistances) {
    // Penglai lies 0.4–1.0° east of the zone's central meridian: scale error is ~2e-5.
    const Point a{120.75, 37.80};
    const Point b{120.95, 37.65};
    EXPECT_NEAR(distance_m(a, b), metres(a, b), metres(a, b) * 2e-3);
    const Point m = to_metric(a);
    EXPECT_GT(m.x, 500000.0);  // east of 120°E: false easting 500 km
    const Point back = from_metric(m);
    EXPECT_NEAR(back.x, a.x, 1e-9);
    EXPECT_NEAR(back.y, a.y, 1e-9);
}

TEST(Metric, AreaOfAKnownSquare) {
    // A 0.01° × 0.01° cell at 37.8°N is about 1113 m × 880 m.
    const MultiPolygon mp{{{{120.7, 37.8}, {120.71, 37.8}, {120.71, 37.81}, {120.7, 37.81}}, {}}};
    const double expect = metres({120.7, 37.8}, {120.71, 37.8}) * metres({120.7, 37.8}, {120.7, 37.81});
    EXPECT_NEAR(area_m2(mp), expect, expect * 5e-3);
}

TEST(CrsTransform, UnknownSystemIsAClearError) {
    try {
        CrsTransform t("EPSG:999999", "EPSG:4490");
        FAIL() << "accepted an unknown system";
    } catch (const crs_error& e) {
        EXPECT_NE(std::string(e.what()).find("EPSG:999999"), std::string::npos);
    }
}

TEST(CrsTransform, WebMercatorRoundTrip) {
    const CrsTransform fwd("EPSG:4490", "EPSG:3857");
    const CrsTransform inv("EPSG:3857", "EPSG:4490");
    const Point p{120.75, 37.80};
    const Point m = fwd.apply(p);
    EXPECT_NEAR(m.x, 120.75 * 20037508.342789244 / 180.0, 1e-3);
    const Point back = inv.apply(m);
    EXPECT_NEAR(back.x, p.x, 1e-9);
    EXPECT_NEAR(back.y, p.y, 1e-9);
    EXPECT_EQ(crs_identifier("EPSG:4549"), "EPSG:4549");
}
