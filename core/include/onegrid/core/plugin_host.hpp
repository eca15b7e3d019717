#pragma once
/// @file
/// The plugin host: loads department plugins (shared libraries with the C ABI of
/// plugins/sdk/onegrid_plugin.h) named in an allow-list, checks their magic and ABI before
/// running any of their code, takes what they register (business layers, categories, routing
/// callback, lifecycle hooks), and contains their failures.

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "onegrid/core/model.hpp"
#include "onegrid/core/routing.hpp"
#include "onegrid/core/store.hpp"

namespace onegrid::core {

/// The ABI this host speaks.
struct PluginAbi {
    std::uint32_t major;
    std::uint32_t minor;
};
[[nodiscard]] PluginAbi host_plugin_abi() noexcept;

/// A business layer offered by a plugin, with its features (EPSG:4490).
struct PluginLayer {
    LayerInfo info;
    std::vector<std::string> attributes;
    std::vector<LayerFeature> features;
};

/// How loading one plugin went.
struct PluginReport {
    std::string name;  ///< as in the allow-list
    std::filesystem::path file;
    bool loaded = false;
    std::string id;     ///< the plugin's id, when it got that far
    std::string error;  ///< why it was refused or failed
};

struct LoadedPlugin;

class PluginHost {
public:
    using Logger = std::function<void(const std::string&)>;
    explicit PluginHost(Logger log = {});
    ~PluginHost();
    PluginHost(const PluginHost&) = delete;
    PluginHost& operator=(const PluginHost&) = delete;

    /// Loads `<dir>/<name>.so` for every name of the allow-list. A plugin that is missing, has
    /// the wrong magic or ABI, lacks an entry point, fails its init or ships unreadable data is
    /// unloaded and reported; the others load. Never throws for a plugin's fault.
    std::vector<PluginReport> load(const std::filesystem::path& dir, const std::vector<std::string>& allow);

    struct Info {
        std::string id;
        std::string department;
        std::string department_name;
        std::string version;
        std::filesystem::path file;
        std::vector<PluginLayer> layers;
        std::vector<Category> categories;
        bool routes = false;
    };
    [[nodiscard]] std::vector<Info> plugins() const;

    /// One routing hook per plugin that registered a routing callback. A callback that returns an
    /// error (or throws) is logged and declines, so the rules table decides.
    [[nodiscard]] std::vector<std::shared_ptr<RoutingHook>> routing_hooks();

    /// Tells plugins' lifecycle hooks that an incident was dispatched or closed. Failures are logged.
    void notify(const Incident& incident, std::string_view event);

    /// Registers the plugins' departments and categories, and publishes each plugin layer as a new
    /// version when its content differs from the stored current version.
    void sync_to_store(Store& store, Timestamp now);

    /// Failures of callbacks so far (for metrics and tests).
    [[nodiscard]] std::uint64_t callback_failures() const noexcept;

private:
    std::vector<std::shared_ptr<LoadedPlugin>> m_plugins;
    Logger m_log;
};

}  // namespace onegrid::core
