#include "onegrid/spatial/predicates.hpp"

#include <array>
#include <cmath>

namespace onegrid::spatial {
namespace {

// Error-free transformations (Knuth TwoSum, fma-based TwoProduct): x + y == s + e exactly.
inline void two_sum(double x, double y, double& s, double& e) noexcept {
    s = x + y;
    const double bv = s - x;
    const double av = s - bv;
    e = (x - av) + (y - bv);
}

inline void two_diff(double x, double y, double& d, double& e) noexcept { two_sum(x, -y, d, e); }

inline void two_product(double x, double y, double& p, double& e) noexcept {
    p = x * y;
    e = std::fma(x, y, -p);
}

// An exact sum held as non-overlapping components of increasing magnitude (Shewchuk's
// Grow-Expansion). The sign of the sum is the sign of its largest non-zero component.
class Expansion {
public:
    void add(double b) noexcept {
        double q = b;
        std::size_t out = 0;
        for (std::size_t i = 0; i < m_size; ++i) {
            double s = 0.0;
            double e = 0.0;
            two_sum(q, m_terms[i], s, e);
            q = s;
            if (e != 0.0) m_terms[out++] = e;
        }
        if (q != 0.0) m_terms[out++] = q;
        m_size = out;
    }
    [[nodiscard]] int sign() const noexcept {
        if (m_size == 0) return 0;
        return m_terms[m_size - 1] > 0.0 ? 1 : -1;
    }

private:
    std::array<double, 40> m_terms{};
    std::size_t m_size = 0;
};

}  // namespace

int orient2d_exact(Point a, Point b, Point c) noexcept {
    // det = (ax - cx) * (by - cy) - (ay - cy) * (bx - cx), every difference split exactly in two.
    std::array<double, 2> acx{};
    std::array<double, 2> bcy{};
    std::array<double, 2> acy{};
    std::array<double, 2> bcx{};
    two_diff(a.x, c.x, acx[0], acx[1]);
    two_diff(b.y, c.y, bcy[0], bcy[1]);
    two_diff(a.y, c.y, acy[0], acy[1]);
    two_diff(b.x, c.x, bcx[0], bcx[1]);
    Expansion sum;
    for (double u : acx) {
        for (double v : bcy) {
            double p = 0.0;
            double e = 0.0;
            two_product(u, v, p, e);
            sum.add(p);
            sum.add(e);
        }
    }
    for (double u : acy) {
        for (double v : bcx) {
            double p = 0.0;
            double e = 0.0;
            two_product(u, v, p, e);
            sum.add(-p);
            sum.add(-e);
        }
    }
    return sum.sign();
}

}  // namespace onegrid::spatial
