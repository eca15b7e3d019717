#pragma once
/// @file
/// The OneGrid server application: OGC API – Features (Parts 1–4), vector tiles with TileJSON,
/// Open311 GeoReport v2, the workflow API, operations endpoints and the web pages, behind one
/// transport-free handler. It holds no business rules: it parses, checks access, calls core, and
/// serialises.

#include <filesystem>
#include <memory>
#include <string>

#include "onegrid/core/plugin_host.hpp"
#include "onegrid/core/store.hpp"
#include "onegrid/core/time.hpp"
#include "onegrid/core/workflow.hpp"
#include "onegrid/server/http.hpp"

namespace onegrid::server {

struct AppConfig {
    /// Absolute base URL used in links ("http://127.0.0.1:8080"). Empty: from the Host header.
    std::string base_url;
    /// Anonymous reads of the public layers, tiles, Open311 and the public incident view.
    bool public_reads = true;
    /// The web pages (planner, dashboard) and the front-end packages they use.
    std::filesystem::path web_root;
    std::filesystem::path vendor_root;
    core::WorkflowConfig workflow;
    std::size_t max_items = 10000;       ///< most features per page (OGC limit maximum)
    std::size_t default_items = 100;     ///< features per page by default
    int max_tile_zoom = 20;
    /// Below this zoom the incident layer shows counts per grid instead of single incidents.
    int incident_detail_zoom = 13;
    std::size_t tile_cache_bytes = 256u << 20;
    /// The assessment weights (docs/indicators.md). Empty: data/assessment/weights.json as built in.
    std::filesystem::path assessment_weights;
};

class App {
public:
    App(core::Store& store, const core::Clock& clock, AppConfig config, core::PluginHost* plugins = nullptr);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    /// Loads the current geography, the incident view, reference data and crosswalks.
    void start();

    /// Answers one request. Never throws.
    [[nodiscard]] Reply handle(const Request& request, const std::string& remote = "-");
    /// Answers one request, or returns a deferred reply and answers through `later` once its
    /// durable write is done (a report in JSON: no thread waits for its commit). Never throws.
    [[nodiscard]] Reply handle(const Request& request, const std::string& remote, const Responder& later);
    /// Requests that may wait on a durable write (to run off the network threads). A report in
    /// JSON does not: it is answered later (see handle).
    [[nodiscard]] bool blocking(const Request& request) const;

    /// Records due warnings and escalations (run periodically). Returns events written.
    std::size_t run_scheduler();

    [[nodiscard]] core::Workflow& workflow();

    struct Context;

private:
    std::unique_ptr<Context> m_ctx;
};

}  // namespace onegrid::server
