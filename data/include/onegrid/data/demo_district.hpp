#pragma once
/// @file
/// The demo district: a synthetic district modelled on Penglai (蓬莱区, Yantai). Real town/street
/// names and codes; every polygon, community name and population is generated, deterministically
/// from a seed, so that every run and every machine produces the same data.

#include <cstdint>
#include <string>
#include <vector>

#include "onegrid/spatial/features.hpp"

namespace onegrid::data {

struct DemoDistrictOptions {
    std::uint64_t seed = 20220601;
    double densify_m = 40.0;     ///< boundary vertex spacing, like grids digitised along streets
    double warp_m = 35.0;        ///< amplitude of the smooth warp that bends straight boundaries
};

/// The district's layers, all in EPSG:4490 and nested exactly (each parent is the union of its children).
struct DemoDistrict {
    spatial::PolygonLayer district;     ///< one feature: mainland and islands (a MultiPolygon)
    spatial::PolygonLayer towns;        ///< 20 towns/streets with their real codes
    spatial::PolygonLayer communities;  ///< communities/villages, 12-digit codes
    spatial::PolygonLayer grids;        ///< 1,115 grids, 15-digit codes, `population`, `households`
};

/// A town or street of the district: real name and code, the share of grids it gets.
struct TownSpec {
    const char* code;
    const char* name;
    int grids;
    double lon;  ///< approximate seat, used to lay out the synthetic boundaries
    double lat;
    int island;  ///< -1 mainland, else index of the island group
};

/// The 20 towns and streets of the district (12 mainland, 8 on the islands).
[[nodiscard]] const std::vector<TownSpec>& penglai_towns();

/// Generates the demo district. Deterministic for a given seed.
[[nodiscard]] DemoDistrict generate_demo_district(const DemoDistrictOptions& options = {});

/// Writes the four layers into one GeoPackage (layers district, towns, communities, grids).
void write_demo_district(const DemoDistrict& d, const std::string& gpkg_path);

/// Synthetic report locations: `n` points, most inside grids (weighted by population) and some
/// at sea or beyond the border, as CSV rows `id,lon,lat` (EPSG:4490).
[[nodiscard]] std::vector<spatial::PointRecord> demo_report_points(const DemoDistrict& d, std::size_t n,
                                                                  std::uint64_t seed);

/// `n` points drawn uniformly over the district's bounding box (most at sea), 7 decimals.
[[nodiscard]] std::vector<spatial::PointRecord> uniform_points(const DemoDistrict& d, std::size_t n, std::uint64_t seed);

/// Writes points as a CSV with the header `id,lon,lat`.
void write_points_csv(const std::vector<spatial::PointRecord>& points, const std::string& path);

/// A small deterministic random generator whose output is the same with every standard library.
class Random {
public:
    explicit Random(std::uint64_t seed) : m_state(seed ^ 0x9E3779B97F4A7C15ull) {}
    std::uint64_t next() {  // splitmix64
        std::uint64_t z = (m_state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
    /// Uniform in [0, 1).
    double uniform() { return static_cast<double>(next() >> 11) * 0x1p-53; }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    /// Standard normal (Box–Muller).
    double normal();

private:
    std::uint64_t m_state;
};

}  // namespace onegrid::data
