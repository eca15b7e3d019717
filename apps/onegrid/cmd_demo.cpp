// onegrid demo-district: generates the synthetic demo district and sample report points.

#include <filesystem>
#include <iostream>

#include "cli.hpp"
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
                opts.add_options()("out", po::value(&out_dir)->required(), "output directory")(
                    "seed", po::value(&seed)->default_value(20220601), "random seed (same seed, same district)")(
                    "points", po::value(&points)->default_value(200000), "number of sample report points")(
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
                if (uniform > 0) {
                    const std::string ucsv = (std::filesystem::path(out_dir) / "uniform.csv").string();
                    data::write_points_csv(data::uniform_points(district, uniform, seed + 2), ucsv);
                    std::cout << "  " << ucsv << " (" << uniform << " points uniform over the bounding box)\n";
                }
                return 0;
            }};
}

}  // namespace onegrid::cli
