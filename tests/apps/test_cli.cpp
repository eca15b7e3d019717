// The onegrid command line end to end: the demo district is generated and assigned, and every bad
// input gets one clear error line and a non-zero exit status.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>

namespace {

namespace fs = std::filesystem;
const std::string cli = ONEGRID_CLI;
const std::string fixtures = ONEGRID_FIXTURES_DIR;

struct Result {
    int status;
    std::string out;
    std::string err;
};

Result run(const std::string& args) {
    const fs::path err_file = fs::temp_directory_path() / ("onegrid_cli_stderr_" + std::to_string(getpid()) + ".txt");
    const std::string cmd = cli + " " + args + " 2>" + err_file.string();
    Result r{};
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    while (std::size_t n = fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
    const int status = pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    {
        std::ifstream e(err_file);
        std::stringstream ss;
        ss << e.rdbuf();
        r.err = ss.str();
    }
    std::error_code ec;
    fs::remove(err_file, ec);
    return r;
}

std::vector<std::string> lines(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
}

class Cli : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        // ctest runs test cases as parallel processes: each gets its own directory.
        s_dir = fs::temp_directory_path() / ("onegrid_cli_test_" + std::to_string(getpid()));
        fs::remove_all(s_dir);
        fs::create_directories(s_dir);
        const Result r = run("demo-district --out " + s_dir.string() + " --points 20000");
        ASSERT_EQ(r.status, 0) << r.err;
    }
    static void TearDownTestSuite() { fs::remove_all(s_dir); }
    static fs::path s_dir;
};
fs::path Cli::s_dir;

}  // namespace

TEST_F(Cli, AssignsTheDemoReports) {
    const fs::path out = s_dir / "assigned.csv";
    const Result r = run("assign --grids " + (s_dir / "district.gpkg").string() + " --grids-layer grids --points " +
                      (s_dir / "reports.csv").string() + " --out " + out.string());
    ASSERT_EQ(r.status, 0) << r.err;
    const auto rows = lines(out);
    ASSERT_EQ(rows.size(), 20001u);
    EXPECT_EQ(rows[0], "id,grid,community,town,status,distance_m");
    std::map<std::string, int> status;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        std::vector<std::string> f;
        std::stringstream ss(rows[i]);
        for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
        ASSERT_EQ(f.size(), 6u) << rows[i];
        ++status[f[4]];
        ASSERT_EQ(f[1].size(), 15u) << rows[i];  // inside or outside, a grid is named
        EXPECT_EQ(f[2], f[1].substr(0, 12));
        EXPECT_EQ(f[3], f[1].substr(0, 9));
        if (f[4] == "inside") {
            EXPECT_EQ(f[5], "0");
        } else {
            EXPECT_GT(std::stod(f[5]), 0.0);
        }
    }
    // 90% of demo reports are placed in grids, the rest anywhere in the extent.
    EXPECT_GT(status["inside"], 18000);
    EXPECT_GT(status["outside"], 200);
    EXPECT_EQ(status["inside"] + status["outside"], 20000);
    // The summary.
    EXPECT_NE(r.out.find("points:   20000"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("assigned: " + std::to_string(status["inside"])), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("登州街道"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("points/s"), std::string::npos) << r.out;
}

TEST_F(Cli, GcjInputIsConvertedBeforeAssignment) {
    // The same place reported in GCJ-02 lands in the same grid as its CGCS2000 original.
    const fs::path in = s_dir / "gcj.csv";
    std::ofstream(in) << "id,lon,lat\nA,120.7573871,37.7984392\n";  // WGS84 (120.752, 37.7997) shifted
    const Result r = run("assign --grids " + (s_dir / "district.gpkg").string() + " --grids-layer grids --points " +
                      in.string() + " --crs gcj02 --out " + (s_dir / "gcj_out.csv").string());
    ASSERT_EQ(r.status, 0) << r.err;
    const Result r2 = run("assign --grids " + (s_dir / "district.gpkg").string() + " --grids-layer grids --points " +
                       in.string() + " --crs wgs84 --out " + (s_dir / "wgs_out.csv").string());
    ASSERT_EQ(r2.status, 0) << r2.err;
    EXPECT_NE(r.out.find("(gcj02)"), std::string::npos);
}

TEST_F(Cli, BadCoordinatesGetARowStatusAndTheRunGoesOn) {
    const fs::path out = s_dir / "bad_coords.csv";
    const Result r = run("assign --grids " + fixtures + "/grids/four_grids.geojson --points " + fixtures +
                      "/bad/points_bad_coordinates.csv --out " + out.string());
    ASSERT_EQ(r.status, 0) << r.err;
    const auto rows = lines(out);
    ASSERT_EQ(rows.size(), 7u);
    EXPECT_EQ(rows[1], "A,370614001001001,370614001001,370614001,inside,0");
    EXPECT_EQ(rows[2], "B,,,,invalid,");
    EXPECT_EQ(rows[6], "F,370614001001004,370614001001,370614001,inside,0");
    EXPECT_NE(r.out.find("invalid:  4"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("longitude"), std::string::npos) << r.err;
}

TEST_F(Cli, EveryBadInputGetsOneClearLineAndANonZeroExit) {
    const std::string g = fixtures + "/grids/four_grids.geojson";
    const std::string p = fixtures + "/bad/points_bad_coordinates.csv";
    const std::string o = (s_dir / "never.csv").string();
    struct Case {
        std::string args;
        std::string expect;
    };
    const std::vector<Case> cases = {
        {"assign --grids /nonexistent/grids.gpkg --points " + p + " --out " + o, "no such file"},
        {"assign --grids " + fixtures + "/bad/not_a_geopackage.gpkg --points " + p + " --out " + o, "cannot open"},
        {"assign --grids " + fixtures + "/bad/points_only.geojson --points " + p + " --out " + o, "no polygon features"},
        {"assign --grids " + g + " --grids-crs EPSG:999999 --points " + p + " --out " + o, "EPSG:999999"},
        {"assign --grids " + fixtures + "/bad/bowtie.geojson --points " + p + " --out " + o, "Self-intersection"},
        {"assign --grids " + fixtures + "/bad/overlapping.geojson --points " + p + " --out " + o,
         "'370614001001001' and '370614001001002'"},
        {"assign --grids " + fixtures + "/bad/duplicate_ids.geojson --points " + p + " --out " + o, "duplicate id"},
        {"assign --grids " + g + " --id-field nope --points " + p + " --out " + o, "no field 'nope'"},
        {"assign --grids " + g + " --points " + fixtures + "/bad/points_malformed.csv --out " + o,
         "points_malformed.csv:4:"},
        {"assign --grids " + g + " --points " + p + " --crs mars --out " + o, "unknown --crs 'mars'"},
        {"assign --grids " + g + " --points " + p, "--out"},
        {"assign --grids " + g + " --points " + p + " --out " + o + " --bogus", "bogus"},
        {"frobnicate", "unknown command"},
    };
    for (const auto& c : cases) {
        const Result r = run(c.args);
        EXPECT_NE(r.status, 0) << c.args;
        EXPECT_NE(r.err.find(c.expect), std::string::npos) << c.args << "\n" << r.err;
        // One line, no crash dump.
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.args << "\n" << r.err;
        EXPECT_FALSE(fs::exists(o)) << "output written for: " << c.args;
    }
}

TEST_F(Cli, MakeValidRepairsAndAssigns) {
    const fs::path out = s_dir / "repaired.csv";
    const Result r = run("assign --grids " + fixtures + "/bad/bowtie.geojson --make-valid --points " + fixtures +
                      "/bad/points_bad_coordinates.csv --out " + out.string());
    EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(Cli, ImportsLayersAsVersionsAndBacksUp) {
    const std::string db = (s_dir / "store.db").string();
    Result r = run("import --db " + db + " --layer grids --source " + (s_dir / "district.gpkg").string() +
                   " --source-layer grids --effective-from 2026-01-01T00:00:00+08:00");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("imported 1115 features"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("version 1"), std::string::npos) << r.out;
    r = run("import --db " + db + " --layer grids --source " + (s_dir / "district.gpkg").string() + " --source-layer grids");
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("version 2"), std::string::npos) << r.out;
    r = run("import --db " + db + " --layer grids --source " + fixtures + "/bad/overlapping.geojson");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("overlap"), std::string::npos) << r.err;
    r = run("backup " + db + " " + (s_dir / "copy.db").string());
    ASSERT_EQ(r.status, 0) << r.err;
    r = run("check " + (s_dir / "copy.db").string());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_NE(r.out.find("layer grids (base): 2 version(s), current 2 with 1115 features"), std::string::npos) << r.out;
    // A file that is not a database is refused with one clear line.
    r = run("check " + fixtures + "/grids/four_grids.geojson");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.err.find("not a OneGrid database"), std::string::npos) << r.err;
}
