#pragma once
/// @file
/// Exact geometric predicates on double coordinates.

#include <cmath>

#include "onegrid/spatial/geometry.hpp"

namespace onegrid::spatial {

/// The rare exact path of orient2d (expansion arithmetic); exposed for tests.
[[nodiscard]] int orient2d_exact(Point a, Point b, Point c) noexcept;

/// Orientation of c relative to the directed line a→b: +1 left (counter-clockwise), -1 right,
/// 0 collinear. Exact for every finite double input: a floating-point filter with a proven error
/// bound decides almost every case, the rest is decided with exact expansion arithmetic.
[[nodiscard]] inline int orient2d(Point a, Point b, Point c) noexcept {
    const double detleft = (a.x - c.x) * (b.y - c.y);
    const double detright = (a.y - c.y) * (b.x - c.x);
    const double det = detleft - detright;
    // Error bound of the double evaluation (Shewchuk 1997, ccwerrboundA).
    constexpr double eps = 0x1p-53;
    constexpr double bound = (3.0 + 16.0 * eps) * eps;
    const double detsum = std::fabs(detleft) + std::fabs(detright);
    if (det > bound * detsum) return 1;
    if (-det > bound * detsum) return -1;
    return orient2d_exact(a, b, c);
}

}  // namespace onegrid::spatial
