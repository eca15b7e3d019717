// onegrid demo-district: generates the synthetic demo district and sample report points.

#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "onegrid/data/business_layers.hpp"
#include "onegrid/data/demo_district.hpp"

namespace onegrid::cli {

Command demo_district_command() {
    return {"demo-district", "generate the synthetic demo district (GeoPackage) and report points",
            [](const std::vector<std::string>& args) {
                po::options_description opts("options");
                std::string out_dir;
                std::uint64_t seed = 0;
                std::size_t points = 0;
                std::size_t uniform = 0;
                std::string plugins_dir;
                opts.add_options()("out", po::value(&out_dir)->required(), "output directory")(
                    "seed", po::value(&seed)->default_value(20220601), "random seed (same seed, same district)")(
                    "points", po::value(&points)->default_value(200000), "number of sample report points")(
                    "plugins-data", po::value(&plugins_dir),
                    "also write the demo plugins' business grids (policing.gpkg, health.gpkg, markets.gpkg) here")(
                    "uniform", po::value(&uniform)->default_value(0),
                    "also write this many points drawn uniformly over the district's bounding box (benchmarks)");
                po::variables_map vm;
                if (!parse(args, opts, vm, "demo-district", "--out DIR [--seed N] [--points N] [--uniform N]")) return 0;
                std::filesystem::create_directories(out_dir);
                data::DemoDistrictOptions o;
                o.seed = seed;
                const auto district = data::generate_demo_district(o);
                const std::string gpkg = (std::filesystem::path(out_dir) / "district.gpkg").string();
                data::write_demo_district(district, gpkg);
                const std::string csv = (std::filesystem::path(out_dir) / "reports.csv").string();
                data::write_points_csv(data::demo_report_points(district, points, seed + 1), csv);
                std::cout << "demo district (synthetic, seed " << seed << "): " << district.towns.features.size()
                          << " towns/streets, " << district.communities.features.size() << " communities, "
                          << district.grids.features.size() << " grids\n"
                          << "  " << gpkg << " (layers district, towns, communities, grids; EPSG:4490)\n"
                          << "  " << csv << " (" << points << " report points, id,lon,lat)\n";
                if (!plugins_dir.empty()) {
                    std::filesystem::create_directories(plugins_dir);
                    const auto b = data::generate_business_layers(district);
                    data::write_business_layers(b, plugins_dir);
                    std::cout << "  " << plugins_dir << "/{policing,health,markets}.gpkg (" << b.stations.features.size()
                              << " police stations, " << b.beats.features.size() << " beats, " << b.health_areas.features.size()
                              << " health areas, " << b.market_offices.features.size() << " market offices)\n";
                }
                if (uniform > 0) {
                    const std::string ucsv = (std::filesystem::path(out_dir) / "uniform.csv").string();
                    data::write_points_csv(data::uniform_points(district, uniform, seed + 2), ucsv);
                    std::cout << "  " << ucsv << " (" << uniform << " points uniform over the bounding box)\n";
                }
                return 0;
            }};
}

}  // namespace onegrid::cli
