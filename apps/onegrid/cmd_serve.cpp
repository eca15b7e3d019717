// onegrid serve: the HTTP server; onegrid token: access tokens.

#include <condition_variable>
#include <csignal>
#include <mutex>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli.hpp"
#include "onegrid/core/assessment.hpp"
#include "onegrid/core/crosswalk.hpp"
#include "onegrid/core/crypto.hpp"
#include "onegrid/core/geography.hpp"
#include "onegrid/core/plugin_host.hpp"
#include "onegrid/core/spatialite_store.hpp"
#include "onegrid/server/app.hpp"
#include "onegrid/server/server.hpp"

namespace onegrid::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty()) out.push_back(item);
    return out;
}

std::pair<std::string, unsigned short> parse_listen(const std::string& listen) {
    const auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw usage_error("--listen must be ADDRESS:PORT, got '" + listen + "'");
    const std::string port = listen.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(port) > 65535)
        throw usage_error("--listen: '" + port + "' is not a port number");
    std::string address = listen.substr(0, colon);
    if (address.size() > 2 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
    return {address, static_cast<unsigned short>(std::stoul(port))};
}

int run_serve(const std::vector<std::string>& args) {
    po::options_description opts("options");
    std::string db, plugins_dir, allow, listen, base_url, web_root, vendor_root, access_log, weights;
    unsigned io_threads = 0, workers = 64;
    std::size_t max_body_mb = 32;
    std::size_t tile_cache_mb = 256;
    int scheduler_seconds = 60;
    opts.add_options()("db", po::value(&db)->required(), "the OneGrid database")(
        "plugins", po::value(&plugins_dir), "directory of department plugins (<name>.so)")(
        "allow", po::value(&allow)->default_value("policing,health,markets"), "plugins to load (comma-separated allow-list)")(
        "listen", po::value(&listen)->default_value("127.0.0.1:8080"), "ADDRESS:PORT to listen on (port 0: any free port)")(
        "base-url", po::value(&base_url), "public base URL for links (default: from the Host header)")(
        "web-root", po::value(&web_root), "directory of the web pages (planner/, dashboard/)")(
        "vendor-root", po::value(&vendor_root), "directory of the front-end packages served under /vendor/")(
        "private-reads", "require a token for every read (default: public layers, tiles and Open311 are open)")(
        "io-threads", po::value(&io_threads), "network threads (default: the number of cores)")(
        "workers", po::value(&workers)->default_value(64), "threads for requests that wait on durable writes")(
        "max-body-mb", po::value(&max_body_mb)->default_value(32), "largest request body accepted (MiB)")(
        "tile-cache-mb", po::value(&tile_cache_mb)->default_value(256), "memory for rendered tiles (MiB; 0: no tile cache)")(
        "scheduler-seconds", po::value(&scheduler_seconds)->default_value(60), "how often deadlines are checked")(
        "access-log", po::value(&access_log)->default_value("-"), "access log file ('-': standard error, 'off': none)")(
        "assessment-weights", po::value(&weights), "weights of the assessment (JSON like data/assessment/weights.json; default: that file, built in)");
    po::variables_map vm;
    if (!parse(args, opts, vm, "serve", "--db FILE [--plugins DIR] [--listen ADDRESS:PORT] [options]")) return 0;

    // Block the stop signals before any thread starts so that only the waiting thread sees them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    core::SpatialiteOptions so;
    so.path = db;
    so.create = false;
    so.wal_reserve_bytes = core::busy_wal_reserve;  // a server takes bursts of intakes
    auto store = core::open_spatialite_store(so);
    core::SystemClock clock;

    std::unique_ptr<core::PluginHost> host;
    if (!plugins_dir.empty()) {
        host = std::make_unique<core::PluginHost>([](const std::string& m) { std::cerr << "plugins: " << m << "\n"; });
        for (const auto& r : host->load(plugins_dir, split_list(allow))) {
            if (r.loaded)
                std::cerr << "plugin " << r.name << ": loaded (" << r.id << ")\n";
            else
                std::cerr << "plugin " << r.name << ": NOT loaded: " << r.error << "\n";
        }
    }

    server::AppConfig config;
    config.base_url = base_url;
    config.public_reads = vm.count("private-reads") == 0;
    config.web_root = web_root;
    config.vendor_root = vendor_root;
    if (!weights.empty()) {
        (void)core::AssessmentConfig::load(weights);  // a bad file stops the start with its reason
        config.assessment_weights = weights;
    }
    config.tile_cache_bytes = tile_cache_mb << 20;
    server::App app(*store, clock, config, host.get());
    app.start();

    server::ServerOptions options;
    std::tie(options.address, options.port) = parse_listen(listen);
    options.io_threads = io_threads > 0 ? io_threads : std::max(1u, std::thread::hardware_concurrency());
    options.worker_threads = workers;
    options.max_body_bytes = max_body_mb << 20;
    std::FILE* log = stderr;
    if (access_log == "off") {
        log = nullptr;
    } else if (access_log != "-") {
        log = std::fopen(access_log.c_str(), "a");
        if (log == nullptr) throw std::runtime_error("cannot open the access log " + access_log);
    }
    options.access_log = log;
    server::HttpServer http(options, [&app](const server::Request& r, const std::string& remote, const server::Responder& later) {
                                return app.handle(r, remote, later);
                            },
                            [&app](const server::Request& r) { return app.blocking(r); });
    http.start();
    std::cout << "onegrid serving " << db << " on http://" << (options.address.find(':') != std::string::npos ? "[" + options.address + "]" : options.address)
              << ":" << http.port() << "/" << std::endl;

    // Deadlines: warnings and escalations, checked periodically until the server stops.
    std::mutex m;
    std::condition_variable cv;
    bool stopping = false;
    std::thread scheduler([&] {
        std::unique_lock lock(m);
        while (!stopping) {
            lock.unlock();
            try {
                if (const auto n = app.run_scheduler(); n > 0) std::cerr << "scheduler: " << n << " warnings/escalations\n";
            } catch (const std::exception& e) {
                std::cerr << "scheduler: " << e.what() << "\n";
            }
            lock.lock();
            cv.wait_for(lock, std::chrono::seconds(scheduler_seconds), [&] { return stopping; });
        }
    });

    int sig = 0;
    sigwait(&set, &sig);
    std::cerr << "onegrid: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ", finishing requests in flight\n";
    {
        std::lock_guard lock(m);
        stopping = true;
    }
    cv.notify_all();
    http.stop();
    scheduler.join();
    store.reset();  // closes the store: every acknowledged write is on disk
    if (log != nullptr && log != stderr) std::fclose(log);
    std::cerr << "onegrid: stopped\n";
    return 0;
}

int run_token(const std::vector<std::string>& args) {
    if (args.empty() || (args[0] != "create" && args[0] != "list" && args[0] != "revoke")) {
        if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) {
            std::cout << "usage: onegrid token create|list|revoke --db FILE [options]\n";
            return 0;
        }
        throw usage_error("expected 'token create', 'token list' or 'token revoke'");
    }
    const std::string verb = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    po::options_description opts("options");
    std::string db, role_name, department, town, grid, user, label, prefix;
    int days = 0;
    opts.add_options()("db", po::value(&db)->required(), "the OneGrid database")(
        "role", po::value(&role_name), "citizen, grid_worker, hotline_operator, department_handler, town_officer, "
                                       "planner, command_centre or admin")(
        "department", po::value(&department), "department code (department handlers)")(
        "town", po::value(&town), "town/street code (town officers)")(
        "grid", po::value(&grid), "grid code (grid workers)")(
        "user", po::value(&user), "user id the token acts as (default: a new id)")(
        "label", po::value(&label), "what the token is for")(
        "expires-days", po::value(&days)->default_value(0), "days until it expires (0: never)")(
        "prefix", po::value(&prefix), "revoke: the first characters (at least 8) of the token's hash");
    po::variables_map vm;
    if (!parse(rest, opts, vm, ("token " + verb).c_str(), "--db FILE [options]")) return 0;
    core::SpatialiteOptions so;
    so.path = db;
    so.create = false;
    auto store = core::open_spatialite_store(so);
    core::SystemClock clock;
    const auto now = clock.now();
    if (verb == "list") {
        for (const auto& t : store->tokens()) {
            std::cout << t.hash.substr(0, 12) << "  " << core::to_string(t.role) << "  user=" << t.user
                      << (t.department.empty() ? "" : "  department=" + t.department)
                      << (t.town.empty() ? "" : "  town=" + t.town) << "  " << t.label
                      << (t.revoked_at ? "  (revoked)" : "") << "\n";
        }
        return 0;
    }
    if (verb == "revoke") {
        if (prefix.size() < 8) throw usage_error("--prefix needs at least 8 characters of the token hash (see token list)");
        std::vector<core::ApiToken> hits;
        for (auto& t : store->tokens())
            if (t.hash.starts_with(prefix)) hits.push_back(t);
        if (hits.size() != 1)
            throw usage_error(hits.empty() ? "no token hash starts with " + prefix : "the prefix names several tokens");
        store->revoke_token(hits[0].hash, now);
        std::cout << "revoked " << hits[0].hash.substr(0, 12) << "\n";
        return 0;
    }
    const auto role = core::parse_role(role_name);
    if (!role) throw usage_error("--role: unknown role '" + role_name + "'");
    if (*role == core::Role::department_handler && department.empty())
        throw usage_error("a department_handler token needs --department");
    if (*role == core::Role::department_handler) {
        bool known = false;
        for (const auto& d : store->departments()) known = known || d.code == department;
        if (!known) throw usage_error("--department: no department '" + department + "' in the database");
    }
    if (*role == core::Role::town_officer && town.empty()) throw usage_error("a town_officer token needs --town");
    if (*role == core::Role::grid_worker && grid.empty()) throw usage_error("a grid_worker token needs --grid");
    const std::string secret = core::new_token_secret();
    core::ApiToken t;
    t.hash = core::sha256_hex(secret);
    t.user = user.empty() ? std::string(core::to_string(*role)) + "-" + t.hash.substr(0, 8) : user;
    t.role = *role;
    t.department = department;
    t.town = town;
    t.label = label;
    t.created_at = now;
    if (days > 0) t.expires_at = now + static_cast<core::Timestamp>(days) * 24 * core::ms_per_hour;
    core::User u;
    if (auto existing = store->user(t.user)) u = *existing;
    u.id = t.user;
    if (u.name.empty()) u.name = label.empty() ? t.user : label;
    u.role = *role;
    u.department = department;
    u.town = town;
    u.grid = grid;
    store->put_user(u);
    store->put_token(t);
    std::cout << secret << "\n";
    return 0;
}

int run_plugins(const std::vector<std::string>& args) {
    po::options_description opts("options");
    std::string db, plugins_dir, allow, effective;
    opts.add_options()("db", po::value(&db)->required(), "the OneGrid database")(
        "plugins", po::value(&plugins_dir)->required(), "directory of department plugins (<name>.so)")(
        "allow", po::value(&allow)->default_value("policing,health,markets"), "plugins to load (comma-separated allow-list)")(
        "effective-from", po::value(&effective), "when new layer versions take effect (RFC 3339; default now)");
    po::variables_map vm;
    if (!parse(args, opts, vm, "plugins", "--db FILE --plugins DIR [--allow LIST]")) return 0;
    core::SystemClock system_clock;
    core::Timestamp now = system_clock.now();
    if (!effective.empty()) {
        const auto t = core::parse_iso8601(effective);
        if (!t) throw usage_error("--effective-from '" + effective + "' is not an RFC 3339 date-time");
        now = *t;
    }
    core::SpatialiteOptions so;
    so.path = db;
    so.create = false;
    auto store = core::open_spatialite_store(so);
    core::PluginHost host([](const std::string& m) { std::cerr << m << "\n"; });
    int failed = 0;
    for (const auto& r : host.load(plugins_dir, split_list(allow))) {
        if (!r.loaded) {
            std::cout << r.name << ": NOT loaded: " << r.error << "\n";
            ++failed;
        }
    }
    for (const auto& p : host.plugins()) {
        std::cout << p.id << " " << p.version << " for " << p.department << " (" << p.department_name << "): ";
        for (const auto& l : p.layers) std::cout << l.info.id << " (" << l.features.size() << " units) ";
        std::cout << p.categories.size() << " categories" << (p.routes ? ", routing" : "") << "\n";
    }
    // Register what the plugins bring and bring the crosswalks up to date, as the server does at start.
    host.sync_to_store(*store, now);
    core::GeographyHolder geography;
    geography.load_current(*store, now);
    for (const auto& [layer, cw] : core::current_crosswalks(*store, *geography.get(), now))
        std::cout << "crosswalk " << layer << ": " << cw->rows.size() << " rows\n";
    return failed == 0 ? 0 : 1;
}

}  // namespace

Command plugins_command() {
    return {"plugins", "load department plugins, register their layers and categories, update the crosswalks", run_plugins};
}

Command serve_command() {
    return {"serve", "run the HTTP server (OGC API Features, tiles, Open311, workflow API)", run_serve};
}
Command token_command() {
    return {"token", "create, list or revoke access tokens", run_token};
}

}  // namespace onegrid::cli
