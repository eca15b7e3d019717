#include <gtest/gtest.h>

#include <cmath>

#include "onegrid/data/demo_district.hpp"
#include "onegrid/spatial/predicates.hpp"

using onegrid::spatial::orient2d;
using onegrid::spatial::orient2d_exact;
using onegrid::spatial::Point;

namespace {
// Exact reference for coordinates that are integers times 2^-40 near an offset: the determinant
// of the integer parts, computed in 128-bit integers.
int reference_orientation(long long ax, long long ay, long long bx, long long by, long long cx, long long cy) {
    __extension__ using int128 = __int128;
    const int128 det = static_cast<int128>(ax - cx) * (by - cy) - static_cast<int128>(ay - cy) * (bx - cx);
    return det > 0 ? 1 : det < 0 ? -1 : 0;
}
}  // namespace

TEST(Orient2d, SimpleCases) {
    EXPECT_EQ(orient2d({0, 0}, {1, 0}, {0, 1}), 1);
    EXPECT_EQ(orient2d({0, 0}, {1, 0}, {0, -1}), -1);
    EXPECT_EQ(orient2d({0, 0}, {1, 1}, {2, 2}), 0);
}

namespace {
// x, y with x*a + y*b == gcd(a, b).
long long ext_gcd(long long a, long long b, long long& x, long long& y) {
    if (b == 0) {
        x = a >= 0 ? 1 : -1;
        y = 0;
        return a >= 0 ? a : -a;
    }
    long long x1 = 0;
    long long y1 = 0;
    const long long g = ext_gcd(b, a % b, x1, y1);
    x = y1;
    y = x1 - (a / b) * y1;
    return g;
}
}  // namespace

TEST(Orient2d, NearlyCollinearPointsAreDecidedExactly) {
    // Lattice points (unit 2^-40 degrees) near Penglai at determinant 0 and ±1 from a long
    // line: the naive double formula gets many of these wrong; the predicate must match 128-bit
    // integer arithmetic every time.
    const double unit = std::ldexp(1.0, -40);
    onegrid::data::Random rng(7);
    int naive_wrong = 0;
    int tested = 0;
    while (tested < 20000) {
        const long long ax = (120LL << 40) + static_cast<long long>(rng.next() % (1LL << 36));
        const long long ay = (37LL << 40) + static_cast<long long>(rng.next() % (1LL << 36));
        const long long dx = static_cast<long long>(rng.next() % (1LL << 26)) - (1LL << 25);
        const long long dy = static_cast<long long>(rng.next() % (1LL << 26)) - (1LL << 25);
        long long s = 0;
        long long t = 0;
        if (ext_gcd(dx, dy, s, t) != 1) continue;  // need a lattice point at determinant 1
        // e0 with e0.y*dx - e0.x*dy == 1
        const long long e0x = -t;
        const long long e0y = s;
        const long long k = static_cast<long long>(rng.next() % 16);
        const long long side = static_cast<long long>(rng.next() % 3) - 1;  // -1, 0, +1
        const long long bx = ax + dx;
        const long long by = ay + dy;
        const long long cx = ax + k * dx + side * e0x;
        const long long cy = ay + k * dy + side * e0y;
        const Point a{static_cast<double>(ax) * unit, static_cast<double>(ay) * unit};
        const Point b{static_cast<double>(bx) * unit, static_cast<double>(by) * unit};
        const Point c{static_cast<double>(cx) * unit, static_cast<double>(cy) * unit};
        const int want = reference_orientation(ax, ay, bx, by, cx, cy);
        ASSERT_EQ(orient2d(a, b, c), want) << "case " << tested;
        ASSERT_EQ(orient2d_exact(a, b, c), want) << "case " << tested;
        const double naive = (b.x - c.x) * (a.y - c.y) - (b.y - c.y) * (a.x - c.x);
        const int naive_sign = naive > 0 ? 1 : naive < 0 ? -1 : 0;
        if (naive_sign != want) ++naive_wrong;
        ++tested;
    }
    // The set is hard enough to need exact arithmetic.
    EXPECT_GT(naive_wrong, 100);
}
