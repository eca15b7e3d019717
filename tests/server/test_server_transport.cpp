// The transport: keep-alive, header limits, slow clients, static files without path traversal,
// operations endpoints, and a graceful stop that loses no acknowledged write.

#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "server_fixture.hpp"

namespace onegrid::test {
namespace {

using core::Role;

/// Sends raw bytes and reads until the server closes or `timeout` passes.
std::string raw_exchange(unsigned short port, const std::string& bytes, std::chrono::milliseconds timeout,
                         std::chrono::milliseconds pause_before_read = std::chrono::milliseconds(0)) {
    net::io_context io;
    tcp::socket s(io);
    s.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    boost::system::error_code ec;  // the server may stop reading early (431, 413): still read its answer
    net::write(s, net::buffer(bytes), ec);
    std::this_thread::sleep_for(pause_before_read);
    timeval tv{static_cast<time_t>(timeout.count() / 1000), static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string out;
    char buf[4096];
    for (;;) {
        const auto n = ::recv(s.native_handle(), buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

TEST(Transport, KeepAliveServesManyRequestsOnOneConnection) {
    ServerWorld w("transport_keepalive");
    std::string pipeline;
    for (int i = 0; i < 20; ++i) pipeline += "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    pipeline += "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    const std::string out = raw_exchange(w.port(), pipeline, std::chrono::milliseconds(3000));
    std::size_t answers = 0;
    for (auto p = out.find("HTTP/1.1 200 OK"); p != std::string::npos; p = out.find("HTTP/1.1 200 OK", p + 1)) ++answers;
    EXPECT_EQ(answers, 21u);
}

TEST(Transport, OversizedHeadersGet431) {
    ServerWorld w("transport_headers");
    const std::string req = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
    const std::string out = raw_exchange(w.port(), req, std::chrono::milliseconds(3000));
    EXPECT_EQ(out.rfind("HTTP/1.1 431", 0), 0u) << out.substr(0, 200);
    EXPECT_NE(out.find("headers_too_large"), std::string::npos);
}

TEST(Transport, GarbageGets400AndAClosedConnection) {
    ServerWorld w("transport_garbage");
    const std::string out = raw_exchange(w.port(), "HELLO WORLD\r\n\r\n", std::chrono::milliseconds(3000));
    EXPECT_EQ(out.rfind("HTTP/1.1 400", 0), 0u) << out;
}

TEST(Transport, SlowClientsAreCutOff) {
    ServerWorld::Options o;
    o.http.read_timeout = std::chrono::seconds(1);
    ServerWorld w("transport_slow", o);
    const auto t0 = std::chrono::steady_clock::now();
    // Half a request line, then nothing: the server closes the connection after the read timeout.
    const std::string out = raw_exchange(w.port(), "GET /heal", std::chrono::milliseconds(20000));
    const auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_TRUE(out.empty()) << out;
    EXPECT_LT(waited, std::chrono::seconds(15));  // closed by the server, not by our own timeout
    Client c = w.client();
    EXPECT_EQ(c.get("/healthz").status, 200u);
}

TEST(Transport, OperationsEndpoints) {
    ServerWorld w("transport_ops");
    Client c = w.client();
    EXPECT_EQ(c.get("/healthz").as_json()["status"], "ok");
    EXPECT_EQ(c.get("/readyz").as_json()["status"], "ready");
    w.report("0102");
    c.get("/tiles/grids/10/855/395.mvt");
    c.get("/tiles/grids/10/855/395.mvt");
    auto m = c.get("/metrics");
    ASSERT_EQ(m.status, 200u);
    EXPECT_NE(m.header("content-type").find("text/plain"), std::string::npos);
    for (const char* needle : {"onegrid_http_requests_total{route=\"v1_incidents\",status=\"201\"} 1",
                               "onegrid_http_request_duration_seconds_bucket", "onegrid_intake_total 1",
                               "onegrid_tile_cache_hits_total 1", "onegrid_tile_cache_misses_total 1",
                               "onegrid_queue_open{department=\"cgj\"} 1", "onegrid_incidents{status=\"reported\"} 1"})
        EXPECT_NE(m.body.find(needle), std::string::npos) << needle;
}

TEST(Transport, StaticFilesNeverLeaveTheirRoot) {
    ServerWorld w("transport_static");
    // A web root of our own with a page and a link pointing outside it.
    TempDir web("transport_web");
    std::filesystem::create_directories(web / "planner");
    std::ofstream(web / "planner" / "index.html") << "<!doctype html><title>planner</title>";
    std::ofstream(web.path().parent_path() / ("secret_" + std::to_string(::getpid()))) << "secret";
    std::filesystem::create_symlink(web.path().parent_path() / ("secret_" + std::to_string(::getpid())), web / "planner" / "leak.txt");
    server::AppConfig cfg;
    cfg.web_root = web.path();
    server::App app(*w.store, w.clock, cfg, nullptr);
    app.start();
    auto get = [&](const std::string& target) {
        server::Request r{bhttp::verb::get, target, 11};
        return app.handle(r);
    };
    EXPECT_EQ(get("/planner/").status, bhttp::status::ok);
    EXPECT_EQ(*get("/planner/").body, "<!doctype html><title>planner</title>");
    EXPECT_EQ(get("/planner").status, bhttp::status::moved_permanently);
    for (const char* bad : {"/planner/../../etc/passwd", "/planner/%2e%2e/%2e%2e/etc/passwd", "/web/..%2f..%2fetc/passwd",
                            "/planner/leak.txt", "/planner/%00index.html", "/vendor/../../etc/passwd"}) {
        const auto r = get(bad);
        EXPECT_TRUE(r.status == bhttp::status::not_found || r.status == bhttp::status::bad_request) << bad << " " << r.status;
        EXPECT_EQ(r.body->find("secret"), std::string::npos) << bad;
    }
    std::filesystem::remove(web.path().parent_path() / ("secret_" + std::to_string(::getpid())));
}

TEST(Transport, GracefulStopLosesNoAcknowledgedWrite) {
    TempDir keep("transport_graceful_keep");
    std::vector<long long> acknowledged;
    std::mutex m;
    {
        auto w = std::make_unique<ServerWorld>("transport_graceful");
        const std::string token = w->token(Role::hotline_operator);
        const unsigned short port = w->port();
        std::atomic<bool> go{true};
        std::vector<std::thread> clients;
        for (int t = 0; t < 8; ++t) {
            clients.emplace_back([&, t] {
                Client c(port);
                for (int i = 0; go; ++i) {
                    try {
                        auto r = c.post_json("/v1/incidents",
                                             {{"category", "0301"}, {"lon", demo_lon + t * 0.001}, {"lat", demo_lat + i * 1e-5}},
                                             token);
                        if (r.status != 201) break;
                        std::lock_guard lock(m);
                        acknowledged.push_back(r.as_json()["id"].get<long long>());
                    } catch (const std::exception&) {
                        break;  // the server stopped: connection refused or closed
                    }
                }
            });
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(800));
        w->http->stop();  // as on SIGTERM
        go = false;
        for (auto& t : clients) t.join();
        // Keep the database: close everything, then reopen and look.
        w->http.reset();
        w->app.reset();
        w->store.reset();
        std::filesystem::copy_file(w->dir / "onegrid.db", keep / "onegrid.db");
        if (std::filesystem::exists(w->dir / "onegrid.db-wal")) std::filesystem::copy_file(w->dir / "onegrid.db-wal", keep / "onegrid.db-wal");
    }
    ASSERT_GT(acknowledged.size(), 10u);
    core::SpatialiteOptions so;
    so.path = keep / "onegrid.db";
    so.create = false;
    auto store = core::open_spatialite_store(so);
    for (const auto id : acknowledged) EXPECT_TRUE(store->incident(id).has_value()) << "acknowledged incident " << id << " lost";
}

}  // namespace
}  // namespace onegrid::test
