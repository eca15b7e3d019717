// onegrid setup, plugins, token and serve as a user runs them: the server process starts on an
// ephemeral port, answers with the tokens the CLI made, and stops cleanly on SIGTERM.

#include <gtest/gtest.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
namespace net = boost::asio;
const std::string cli = ONEGRID_CLI;

struct Result {
    int status;
    std::string out;
};

Result run(const std::string& args) {
    Result r{};
    FILE* p = popen((cli + " " + args + " 2>&1").c_str(), "r");
    char buf[4096];
    while (std::size_t n = fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
    const int status = pclose(p);
    r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

std::pair<unsigned, std::string> get(unsigned short port, const std::string& target, const std::string& token = "") {
    net::io_context io;
    net::ip::tcp::socket s(io);
    s.connect({net::ip::make_address("127.0.0.1"), port});
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    http::write(s, req);
    boost::beast::flat_buffer b;
    http::response<http::string_body> res;
    http::read(s, b, res);
    return {res.result_int(), res.body()};
}

class CliServe : public ::testing::Test {
protected:
    void SetUp() override {
        dir = fs::temp_directory_path() / ("onegrid_cli_serve_" + std::to_string(getpid()));
        fs::remove_all(dir);
        fs::create_directories(dir);
        db = (dir / "onegrid.db").string();
        const fs::path demo = fs::path(ONEGRID_BINARY_DIR) / "demo-data";
        auto r = run("import --db " + db + " --layer grids --source " + (demo / "district.gpkg").string() +
                     " --source-layer grids --effective-from 2026-01-01T00:00:00+08:00");
        ASSERT_EQ(r.status, 0) << r.out;
    }
    void TearDown() override { fs::remove_all(dir); }
    fs::path dir;
    std::string db;
};

TEST_F(CliServe, SetupRefusesABadReferenceFileAndWritesNothing) {
    const fs::path bad = dir / "bad.json";
    auto count = [&](const char* table) {
        FILE* p = popen(("sqlite3 " + db + " 'SELECT count(*) FROM " + table + "'").c_str(), "r");
        char buf[64] = {};
        const auto n = fread(buf, 1, sizeof buf - 1, p);
        pclose(p);
        return std::string(buf, n);
    };
    // The first category is good, the second is not: neither is written.
    std::ofstream(bad) << R"({"categories": [{"code": "0101", "name": "ok", "major": "y", "kind": "event", "limit": 1, "unit": "hours"},
                                            {"code": "12", "name": "x", "major": "y", "kind": "event", "limit": 1, "unit": "hours"}]})";
    auto r = run("setup --db " + db + " --reference " + bad.string());
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.out.find("must be 4 digits"), std::string::npos) << r.out;
    EXPECT_EQ(count("categories"), "0\n");
    std::ofstream(bad) << "{ not json";
    r = run("setup --db " + db + " --reference " + bad.string());
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.out.find("not valid JSON"), std::string::npos) << r.out;
    r = run("setup --db " + db + " --reference " + std::string(ONEGRID_SOURCE_DIR) + "/data/reference/penglai.json");
    EXPECT_EQ(r.status, 0) << r.out;
    EXPECT_NE(r.out.find("25 categories"), std::string::npos) << r.out;
    EXPECT_EQ(count("categories"), "25\n");
}

TEST_F(CliServe, TokensServeAndStopOnSigterm) {
    ASSERT_EQ(run("setup --db " + db + " --reference " + std::string(ONEGRID_SOURCE_DIR) + "/data/reference/penglai.json").status, 0);
    // Bad token requests are refused with one line.
    auto bad = run("token create --db " + db + " --role department_handler");
    EXPECT_EQ(bad.status, 2);
    EXPECT_NE(bad.out.find("--department"), std::string::npos);
    EXPECT_EQ(run("token create --db " + db + " --role wizard").status, 2);
    EXPECT_EQ(run("token create --db " + db + " --role department_handler --department nobody").status, 2);
    const auto made = run("token create --db " + db + " --role command_centre --label test");
    ASSERT_EQ(made.status, 0) << made.out;
    const std::string token = trim(made.out);
    EXPECT_EQ(token.rfind("og_", 0), 0u);

    // The server: a child process on a free port.
    const fs::path out = dir / "serve.out";
    const pid_t pid = fork();
    if (pid == 0) {
        const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        execl(cli.c_str(), cli.c_str(), "serve", "--db", db.c_str(), "--plugins", ONEGRID_PLUGIN_DIR, "--listen", "127.0.0.1:0",
              "--access-log", "off", static_cast<char*>(nullptr));
        _exit(127);
    }
    unsigned short port = 0;
    for (int i = 0; i < 200 && port == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::ifstream in(out);
        std::stringstream ss;
        ss << in.rdbuf();
        const std::string text = ss.str();
        const auto p = text.find("on http://127.0.0.1:");
        if (p != std::string::npos) port = static_cast<unsigned short>(std::stoi(text.substr(p + 20)));
    }
    ASSERT_NE(port, 0) << "the server did not start";
    EXPECT_EQ(get(port, "/healthz").first, 200u);
    EXPECT_EQ(get(port, "/readyz").first, 200u);
    const auto me = get(port, "/v1/me", token);
    EXPECT_EQ(me.first, 200u);
    EXPECT_NE(me.second.find("command_centre"), std::string::npos);
    EXPECT_EQ(get(port, "/v1/me", "og_forged").first, 401u);
    // The plugins' layers are served.
    EXPECT_NE(get(port, "/collections").second.find("policing.beats"), std::string::npos);

    ASSERT_EQ(kill(pid, SIGTERM), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    std::ifstream in(out);
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_NE(ss.str().find("stopped"), std::string::npos) << ss.str();
}

TEST_F(CliServe, ServeRefusesWhatItCannotDo) {
    auto r = run("serve --db " + (dir / "missing.db").string());
    EXPECT_NE(r.status, 0);
    r = run("serve --db " + db + " --listen 127.0.0.1:99999");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.out.find("port"), std::string::npos) << r.out;
    r = run("serve --db " + db + " --listen nowhere:80");
    EXPECT_NE(r.status, 0);
}

}  // namespace
