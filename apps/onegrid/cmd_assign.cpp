// onegrid assign: assigns points to grids (batch), writing id,grid,community,town,status,distance_m.

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <thread>

#include "cli.hpp"
#include "onegrid/spatial/coverage.hpp"
#include "onegrid/spatial/crs.hpp"
#include "onegrid/spatial/errors.hpp"
#include "onegrid/spatial/features.hpp"
#include "onegrid/spatial/grid_index.hpp"

namespace onegrid::cli {
namespace {

using spatial::GridIndex;

std::string csv_field(std::string_view v) {
    if (v.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(v);
    std::string out = "\"";
    for (char c : v) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

// Terminal columns of a UTF-8 string: CJK characters take two.
int display_width(std::string_view s) {
    int w = 0;
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        w += len >= 3 ? 2 : 1;
        i += len;
    }
    return w;
}

void append_distance(std::string& line, double d) {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed, 2);
    line.append(buf, r.ptr);
}

int run_assign(const std::vector<std::string>& args) {
    po::options_description opts("options");
    std::string grids_src, id_field, grids_layer, grids_crs, points_src, crs_name, out_path;
    unsigned threads = 0;
    double overlap_m2 = 1.0;
    opts.add_options()("grids", po::value(&grids_src)->required(), "grid layer: any GDAL vector source")(
        "id-field", po::value(&id_field)->default_value("code"), "field holding each grid's id")(
        "grids-layer", po::value(&grids_layer), "layer of the grid source (default: first polygon layer)")(
        "grids-crs", po::value(&grids_crs), "system of the grid source when it names none (e.g. EPSG:4490)")(
        "make-valid", "repair invalid grid polygons instead of refusing them")(
        "overlap-tolerance", po::value(&overlap_m2)->default_value(1.0), "overlap between grids tolerated (m²)")(
        "points", po::value(&points_src)->required(), "points: CSV with id,lon,lat or any GDAL point layer")(
        "crs", po::value(&crs_name)->default_value("cgcs2000"), "system of CSV points: wgs84|cgcs2000|gcj02|bd09")(
        "out", po::value(&out_path)->required(), "output CSV: id,grid,community,town,status,distance_m")(
        "threads", po::value(&threads)->default_value(0), "worker threads (0: all cores)")(
        "no-nearest", "leave grid and distance empty for points outside every grid (faster)")(
        "progress", "draw the progress bar even when stderr is not a terminal");
    po::variables_map vm;
    if (!parse(args, opts, vm, "assign", "--grids SRC [--id-field NAME] --points SRC [--crs SYS] --out FILE")) return 0;
    const auto crs = spatial::parse_input_crs(crs_name);
    if (!crs) throw usage_error("unknown --crs '" + crs_name + "' (use wgs84, cgcs2000, gcj02 or bd09)");

    const auto t0 = std::chrono::steady_clock::now();
    spatial::ReadOptions ro;
    ro.id_field = id_field;
    ro.layer = grids_layer;
    ro.source_crs = grids_crs;
    ro.make_valid = vm.count("make-valid") != 0U;
    const spatial::PolygonLayer layer = spatial::read_polygon_layer(grids_src, ro);
    {
        std::vector<spatial::MultiPolygon> geoms;
        for (const auto& f : layer.features) geoms.push_back(f.geometry);
        const auto overlaps = spatial::find_overlaps(geoms, overlap_m2);
        if (!overlaps.empty()) {
            std::string msg = std::to_string(overlaps.size()) + " pair(s) of grids overlap:";
            for (std::size_t i = 0; i < overlaps.size() && i < 10; ++i) {
                char area[32];
                std::snprintf(area, sizeof area, "%.1f", overlaps[i].area_m2);
                msg += " '" + layer.features[overlaps[i].a].id + "' and '" + layer.features[overlaps[i].b].id + "' (" +
                       area + " m²)" + (i + 1 < overlaps.size() && i < 9 ? "," : "");
            }
            if (overlaps.size() > 10) msg += " ...";
            throw spatial::data_error(msg);
        }
    }
    const GridIndex index = spatial::build_grid_index(layer);
    const auto t1 = std::chrono::steady_clock::now();

    std::vector<spatial::PointRecord> points;
    spatial::read_points(points_src, {}, [&](std::vector<spatial::PointRecord>& batch) {
        for (auto& p : batch) points.push_back(std::move(p));
    });
    const bool is_csv = std::filesystem::path(points_src).extension() == ".csv";
    if (is_csv) {
        for (auto& p : points) {
            if (!p.valid) continue;
            p.position = spatial::to_cgcs2000(p.position, *crs);
        }
    }
    const auto t2 = std::chrono::steady_clock::now();

    // Assign in parallel: locate every point, then the nearest grid of those outside.
    const std::size_t n = points.size();
    std::vector<GridIndex::Assignment> result(n);
    const unsigned nthreads =
        std::max(1u, threads != 0 ? threads : std::thread::hardware_concurrency());
    const bool show = (n > 100000 && isatty(STDERR_FILENO) != 0) || vm.count("progress") != 0U;
    Progress progress("assigning", n, show);
    const bool with_nearest = vm.count("no-nearest") == 0U;
    std::atomic<std::size_t> next{0};
    std::atomic<std::size_t> done{0};
    std::exception_ptr failure;
    std::mutex failure_mutex;
    auto worker = [&](unsigned t) {
        try {
            constexpr std::size_t chunk = 8192;
            std::vector<spatial::Point> pts;
            std::vector<std::uint32_t> ids;
            for (std::size_t start; (start = next.fetch_add(chunk)) < n;) {
                const std::size_t end = std::min(n, start + chunk);
                pts.clear();
                for (std::size_t i = start; i < end; ++i) pts.push_back(points[i].position);
                ids.resize(pts.size());
                index.locate(pts, ids);
                for (std::size_t i = start; i < end; ++i) {
                    if (!points[i].valid) continue;
                    const std::uint32_t g = ids[i - start];
                    if (g != GridIndex::outside) {
                        result[i] = {GridIndex::Status::inside, g, 0.0};
                    } else if (!with_nearest) {
                        result[i] = {GridIndex::Status::outside, GridIndex::outside, 0.0};
                    } else {
                        const auto near = index.nearest(points[i].position);
                        result[i] = {GridIndex::Status::outside, near.grid, near.distance_m};
                    }
                }
                const std::size_t d = done.fetch_add(end - start) + (end - start);
                if (t == 0) progress.update(d);
            }
        } catch (...) {
            std::lock_guard lock(failure_mutex);
            failure = std::current_exception();
        }
    };
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < nthreads; ++t) pool.emplace_back(worker, t);
    for (auto& th : pool) th.join();
    if (failure) std::rethrow_exception(failure);
    progress.finish();
    const auto t3 = std::chrono::steady_clock::now();

    // Write to a temporary file and rename: an interrupted run leaves no partial output.
    const std::string tmp = out_path + ".tmp";
    std::size_t inside = 0, outside = 0, invalid = 0;
    std::map<std::string, std::pair<std::string, std::size_t>> per_town;  // code → (name, count)
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) throw std::runtime_error("cannot write '" + out_path + "'");
        out << "id,grid,community,town,status,distance_m\n";
        std::string line;
        for (std::size_t i = 0; i < n; ++i) {
            line.clear();
            line += csv_field(points[i].id);
            if (!points[i].valid) {
                ++invalid;
                line += ",,,,invalid,\n";
                out << line;
                continue;
            }
            const auto& a = result[i];
            if (a.grid == GridIndex::outside) {
                ++outside;
                line += ",,,,outside,\n";
                out << line;
                continue;
            }
            const auto& u = index.unit(a.grid);
            line += ',';
            line += csv_field(u.code);
            line += ',';
            line += csv_field(u.community);
            line += ',';
            line += csv_field(u.town);
            if (a.status == GridIndex::Status::inside) {
                ++inside;
                auto& entry = per_town[u.town];
                entry.first = u.town_name;
                ++entry.second;
                line += ",inside,0\n";
            } else {
                ++outside;
                line += ",outside,";
                append_distance(line, a.distance_m);
                line += '\n';
            }
            out << line;
        }
        out.flush();
        if (!out) {
            std::filesystem::remove(tmp);
            throw std::runtime_error("cannot write '" + out_path + "' (disk full?)");
        }
    }
    std::filesystem::rename(tmp, out_path);
    for (const auto& p : points) {
        if (!p.valid && invalid <= 10) std::cerr << "warning: " << p.error << "\n";
    }

    const double load_s = std::chrono::duration<double>(t1 - t0).count();
    const double read_s = std::chrono::duration<double>(t2 - t1).count();
    const double assign_s = std::chrono::duration<double>(t3 - t2).count();
    std::printf("grids:    %zu from %s (index built in %.2f s)\n", index.size(), grids_src.c_str(), load_s);
    std::printf("points:   %zu read in %.2f s (%s)\n", n, read_s, is_csv ? std::string(spatial::to_string(*crs)).c_str() : "GDAL");
    std::printf("assigned: %zu inside a grid\n", inside);
    std::printf("outside:  %zu (nearest grid and distance in the output)\n", outside);
    if (invalid > 0) std::printf("invalid:  %zu (unusable coordinates; status 'invalid')\n", invalid);
    std::printf("per town:\n");
    for (const auto& [code, entry] : per_town) {
        std::printf("  %-10s %s%*s %9zu\n", code.c_str(), entry.first.c_str(), 14 - display_width(entry.first), "",
                    entry.second);
    }
    std::printf("speed:    %.0f points/s on %u thread(s), %.3f s (assignment%s)\n",
                assign_s > 0 ? static_cast<double>(n) / assign_s : 0.0, nthreads, assign_s,
                with_nearest ? " incl. nearest grid for outside points" : "");
    std::printf("output:   %s\n", out_path.c_str());
    return 0;
}

}  // namespace

Command assign_command() {
    return {"assign", "assign points to their grids (batch): id,grid,community,town,status,distance_m", run_assign};
}

}  // namespace onegrid::cli
