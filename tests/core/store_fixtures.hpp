#pragma once
// Shared helpers of the store tests: deterministic incidents and temporary directories.

#include <unistd.h>

#include <filesystem>
#include <string>

#include "onegrid/core/store.hpp"

namespace onegrid::test {

/// A fresh directory under /tmp, removed when the object goes away.
class TempDir {
public:
    explicit TempDir(const std::string& name) {
        m_path = std::filesystem::temp_directory_path() / ("onegrid_" + name + "_" + std::to_string(::getpid()) + "_" +
                                                           std::to_string(counter()++));
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const { return m_path / name; }

private:
    static int& counter() {
        static int c = 0;
        return c;
    }
    std::filesystem::path m_path;
};

/// Incident number `n`: every field derived from n, so that a reader can check it is complete.
inline core::NewIncident numbered_incident(std::int64_t n, const std::string& request_prefix = "req-") {
    core::NewIncident ni;
    core::Incident& i = ni.incident;
    i.request_id = request_prefix + std::to_string(n);
    i.source = static_cast<core::Source>(n % 5);
    i.category = n % 2 ? "0101" : "0203";
    i.description = "report " + std::to_string(n) + " 路灯不亮";
    i.address = "登州街道 " + std::to_string(n) + " 号";
    i.location = {120.70 + static_cast<double>(n % 1000) * 1e-4, 37.70 + static_cast<double>(n / 1000 % 1000) * 1e-4};
    i.original = i.location;
    i.original_crs = "cgcs2000";
    i.grid = "370614001001" + std::to_string(100 + n % 900).substr(0, 3);
    i.grid_version = 1;
    i.community = "370614001001";
    i.town = "370614001";
    i.business = {{"policing.beats", "PB" + std::to_string(n % 7), 1}};
    i.status = core::Status::reported;
    i.reporter = {"张三", "1380000" + std::to_string(1000 + n % 9000), "u" + std::to_string(n % 50)};
    i.reported_at = 1'770'000'000'000 + n * 1000;
    i.updated_at = i.reported_at;
    ni.first_event.at = i.reported_at;
    ni.first_event.actor = i.reporter.id;
    ni.first_event.role = core::Role::grid_worker;
    ni.first_event.action = "report";
    ni.first_event.to = core::Status::reported;
    ni.first_event.note = "reported " + std::to_string(n);
    core::OutboxMessage m;
    m.topic = "incident.reported";
    m.payload = "{\"n\":" + std::to_string(n) + "}";
    m.created_at = i.reported_at;
    ni.outbox.push_back(m);
    return ni;
}

}  // namespace onegrid::test
