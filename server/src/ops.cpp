// Operations endpoints: liveness, readiness and Prometheus metrics.

#include <cstdio>
#include <map>

#include "app_internal.hpp"

namespace onegrid::server {

namespace {

std::string gauges(App::Context& ctx) {
    std::map<std::string, std::uint64_t> by_status;
    std::map<std::string, std::uint64_t> open_by_department;
    std::uint64_t overdue = 0;
    const core::Timestamp now = ctx.clock.now();
    ctx.incidents.for_each([&](const detail::IncidentRow& r) {
        ++by_status[std::string(core::to_string(r.status))];
        if (core::is_open(r.status)) {
            ++open_by_department[r.department.empty() ? "(none)" : r.department];
            if (r.due_at && *r.due_at < now) ++overdue;
        }
    });
    std::string out;
    char buf[512];
    out += "# HELP onegrid_incidents Incidents by workflow status.\n# TYPE onegrid_incidents gauge\n";
    for (const auto& [s, n] : by_status) {
        std::snprintf(buf, sizeof buf, "onegrid_incidents{status=\"%s\"} %llu\n", s.c_str(),
                      static_cast<unsigned long long>(n));
        out += buf;
    }
    out += "# HELP onegrid_queue_open Open incidents per department queue.\n# TYPE onegrid_queue_open gauge\n";
    for (const auto& [d, n] : open_by_department) {
        std::snprintf(buf, sizeof buf, "onegrid_queue_open{department=\"%s\"} %llu\n", d.c_str(),
                      static_cast<unsigned long long>(n));
        out += buf;
    }
    std::snprintf(buf, sizeof buf,
                  "# HELP onegrid_incidents_overdue Open incidents past their deadline.\n"
                  "# TYPE onegrid_incidents_overdue gauge\nonegrid_incidents_overdue %llu\n"
                  "# HELP onegrid_tile_cache_bytes Bytes held by the tile cache.\n"
                  "# TYPE onegrid_tile_cache_bytes gauge\nonegrid_tile_cache_bytes %zu\n",
                  static_cast<unsigned long long>(overdue), ctx.tiles.bytes());
    out += buf;
    if (ctx.plugins != nullptr) {
        std::snprintf(buf, sizeof buf,
                      "# HELP onegrid_plugin_callback_failures_total Plugin callbacks that failed or timed out.\n"
                      "# TYPE onegrid_plugin_callback_failures_total counter\n"
                      "onegrid_plugin_callback_failures_total %llu\n",
                      static_cast<unsigned long long>(ctx.plugins->callback_failures()));
        out += buf;
    }
    return out;
}

}  // namespace

std::optional<Reply> ops_service(App::Context& ctx, Call& call) {
    if (call.parts.size() != 1) return std::nullopt;
    const std::string& p = call.parts[0];
    if (p != "healthz" && p != "readyz" && p != "metrics") return std::nullopt;
    if (call.req.method() != http::verb::get && call.req.method() != http::verb::head)
        return error_reply(http::status::method_not_allowed, "method_not_allowed", "use GET");
    if (p == "healthz") return json_reply(R"({"status":"ok"})");
    if (p == "readyz") {
        const auto geo = ctx.geography.get();
        std::string problems;
        if (!geo || !geo->base) problems += "no base grid layer is loaded; ";
        if (!ctx.workflow) problems += "the workflow is not started; ";
        try {
            (void)ctx.store.data_version();
        } catch (const std::exception& e) {
            problems += std::string("the store does not answer: ") + e.what();
        }
        if (!problems.empty())
            return error_reply(http::status::service_unavailable, "not_ready", problems);
        return json_reply(R"({"status":"ready"})");
    }
    Reply r(http::status::ok, "text/plain; version=0.0.4; charset=utf-8", ctx.metrics.prometheus(gauges(ctx)));
    r.header("Cache-Control", "no-store");
    return r;
}

}  // namespace onegrid::server
