#pragma once
// The server under test: a copy of the demo district's database with the three demo plugins,
// served on 127.0.0.1 and an ephemeral port by the real HTTP transport; a small keep-alive client;
// a token for every role.

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "../core/store_fixtures.hpp"
#include "onegrid/core/crypto.hpp"
#include "onegrid/core/geography.hpp"
#include "onegrid/core/plugin_host.hpp"
#include "onegrid/core/spatialite_store.hpp"
#include "onegrid/server/app.hpp"
#include "onegrid/server/server.hpp"

namespace onegrid::test {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

struct Response {
    unsigned status = 0;
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;

    [[nodiscard]] json as_json() const {
        auto j = json::parse(body, nullptr, false);
        if (j.is_discarded()) ADD_FAILURE() << "not JSON: " << body.substr(0, 300);
        return j;
    }
    [[nodiscard]] std::string header(const std::string& name) const {
        auto it = headers.find(name);
        return it == headers.end() ? "" : it->second;
    }
};

/// A keep-alive HTTP/1.1 client on one connection (reconnects when the server closed it).
class Client {
public:
    explicit Client(unsigned short port) : m_port(port) {}

    Response request(bhttp::verb method, const std::string& target, const std::string& body = "",
                     const std::map<std::string, std::string>& headers = {}) {
        bhttp::request<bhttp::string_body> req{method, target, 11};
        req.set(bhttp::field::host, "127.0.0.1:" + std::to_string(m_port));
        req.keep_alive(true);
        for (const auto& [k, v] : headers) req.set(k, v);
        if (!body.empty() || method == bhttp::verb::post || method == bhttp::verb::put) {
            req.body() = body;
            req.prepare_payload();
        }
        for (int attempt = 0; attempt < 2; ++attempt) {
            try {
                connect();
                bhttp::write(*m_socket, req);
                bhttp::response_parser<bhttp::string_body> parser;
                parser.body_limit(1u << 30);
                if (method == bhttp::verb::head) parser.skip(true);
                bhttp::read(*m_socket, m_buffer, parser);
                auto res = parser.release();
                Response out;
                out.status = res.result_int();
                for (const auto& f : res) {
                    std::string name(f.name_string());
                    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                    out.headers[name] = std::string(f.value());
                }
                out.body = std::move(res.body());
                if (!res.keep_alive()) m_socket.reset();
                return out;
            } catch (const boost::system::system_error&) {
                // The server closed a kept-alive connection: retry once on a new one.
                m_socket.reset();
                m_buffer.clear();
                if (attempt == 1) throw;
            }
        }
        return {};
    }
    Response get(const std::string& target, const std::map<std::string, std::string>& headers = {}) {
        return request(bhttp::verb::get, target, "", headers);
    }
    Response post_json(const std::string& target, const json& body, const std::string& token = "") {
        std::map<std::string, std::string> h{{"Content-Type", "application/json"}};
        if (!token.empty()) h["Authorization"] = "Bearer " + token;
        return request(bhttp::verb::post, target, body.dump(), h);
    }
    Response get_as(const std::string& target, const std::string& token) {
        if (token.empty()) return get(target);
        return get(target, {{"Authorization", "Bearer " + token}});
    }

private:
    void connect() {
        if (m_socket) return;
        m_socket = std::make_unique<tcp::socket>(m_io);
        m_socket->connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), m_port));
        m_buffer.clear();
    }
    unsigned short m_port;
    net::io_context m_io;
    std::unique_ptr<tcp::socket> m_socket;
    beast::flat_buffer m_buffer;
};

/// Points inside the demo district (WGS 84 / CGCS2000 lon, lat).
inline constexpr double demo_lon = 120.75;
inline constexpr double demo_lat = 37.80;

class ServerWorld {
public:
    struct Options {
        bool public_reads = true;
        bool plugins = true;
        server::ServerOptions http;
    };

    explicit ServerWorld(const std::string& name) : ServerWorld(name, Options{}) {}
    ServerWorld(const std::string& name, Options options)
        : dir(name), clock(*core::parse_iso8601("2026-03-02T09:00:00+08:00")) {
        const std::filesystem::path demo = std::filesystem::path(ONEGRID_BINARY_DIR) / "demo-data";
        std::filesystem::copy_file(demo / "onegrid.db", dir / "onegrid.db");
        core::SpatialiteOptions so;
        so.path = dir / "onegrid.db";
        so.create = false;
        store = core::open_spatialite_store(so);
        if (options.plugins) {
            host = std::make_unique<core::PluginHost>();
            for (const auto& r : host->load(ONEGRID_PLUGIN_DIR, {"policing", "health", "markets"}))
                if (!r.loaded) ADD_FAILURE() << "plugin " << r.name << ": " << r.error;
        }
        server::AppConfig config;
        config.public_reads = options.public_reads;
        config.web_root = std::filesystem::path(ONEGRID_SOURCE_DIR) / "server" / "web";
        config.vendor_root = std::filesystem::path(ONEGRID_SOURCE_DIR) / "server" / "web" / "node_modules";
        app = std::make_unique<server::App>(*store, clock, config, host.get());
        app->start();
        make_tokens();
        options.http.address = "127.0.0.1";
        options.http.port = 0;
        options.http.access_log = nullptr;
        if (options.http.io_threads == 0) options.http.io_threads = 2;
        http = std::make_unique<server::HttpServer>(
            options.http, [this](const server::Request& r, const std::string& remote, const server::Responder& later) {
                return app->handle(r, remote, later);
            },
            [this](const server::Request& r) { return app->blocking(r); });
        http->start();
    }
    ~ServerWorld() {
        if (http) http->stop();
    }

    [[nodiscard]] unsigned short port() const { return http->port(); }
    [[nodiscard]] std::string base() const { return "http://127.0.0.1:" + std::to_string(port()); }
    [[nodiscard]] Client client() const { return Client(port()); }

    /// A token of `role` (one per role; the department handler is for "cgj", the town officer
    /// for 登州街道, the grid worker for the grid at demo_lon/demo_lat).
    std::string token(core::Role role) { return tokens.at(role); }
    std::string add_token(core::Role role, const std::string& user, const std::string& department = "",
                          const std::string& town = "", const std::string& grid = "") {
        const std::string secret = core::new_token_secret();
        core::ApiToken t;
        t.hash = core::sha256_hex(secret);
        t.user = user;
        t.role = role;
        t.department = department;
        t.town = town;
        t.created_at = clock.now();
        store->put_user({user, user, role, department, town, grid});
        store->put_token(t);
        return secret;
    }

    /// Reports an incident as the hotline and returns its JSON.
    json report(const std::string& category, double lon = demo_lon, double lat = demo_lat) {
        Client c = client();
        auto r = c.post_json("/v1/incidents",
                             {{"category", category}, {"description", "test"}, {"lon", lon}, {"lat", lat},
                              {"reporter", {{"name", "李四"}, {"phone", "13900000000"}}}},
                             token(core::Role::hotline_operator));
        EXPECT_EQ(r.status, 201u) << r.body;
        return r.as_json();
    }

    /// The grid that holds demo_lon/demo_lat (asked of the server).
    std::string demo_grid;

    TempDir dir;
    core::ManualClock clock;
    std::unique_ptr<core::Store> store;
    std::unique_ptr<core::PluginHost> host;
    std::unique_ptr<server::App> app;
    std::unique_ptr<server::HttpServer> http;
    std::map<core::Role, std::string> tokens;

private:
    void make_tokens() {
        core::GeographyHolder geography;
        geography.load_current(*store, clock.now());
        demo_grid = geography.get()->place({demo_lon, demo_lat}).grid;
        tokens[core::Role::citizen] = add_token(core::Role::citizen, "resident-1");
        tokens[core::Role::grid_worker] = add_token(core::Role::grid_worker, "gw-1", "", "", demo_grid);
        tokens[core::Role::hotline_operator] = add_token(core::Role::hotline_operator, "op-1");
        tokens[core::Role::department_handler] = add_token(core::Role::department_handler, "h-cgj", "cgj");
        tokens[core::Role::town_officer] = add_token(core::Role::town_officer, "t-dengzhou", "", "370614001");
        tokens[core::Role::planner] = add_token(core::Role::planner, "planner-1");
        tokens[core::Role::command_centre] = add_token(core::Role::command_centre, "cc-1");
        tokens[core::Role::admin] = add_token(core::Role::admin, "admin-1");
    }
};

}  // namespace onegrid::test
