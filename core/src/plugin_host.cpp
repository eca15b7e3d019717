#include "onegrid/core/plugin_host.hpp"

#include <dlfcn.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstring>
#include <iostream>
#include <mutex>

#include "onegrid/core/crypto.hpp"
#include "onegrid/spatial/features.hpp"
#include "onegrid/spatial/geos.hpp"
#include "onegrid_plugin.h"

namespace onegrid::core {

namespace fs = std::filesystem;

struct LoadedPlugin {
    std::string name;
    fs::path file;
    std::string dir;
    void* handle = nullptr;
    onegrid_host_api api{};
    bool info_set = false;
    std::string id;
    std::string department;
    std::string department_name;
    std::string version;
    std::vector<PluginLayer> layers;
    std::vector<Category> categories;
    onegrid_route_fn route = nullptr;
    void* route_user = nullptr;
    onegrid_lifecycle_hooks hooks{};
    std::string last_error;
    std::map<std::string, std::map<std::string, std::string>> names;  // layer → code → name
    const PluginHost::Logger* log = nullptr;
    std::atomic<std::uint64_t>* failures = nullptr;

    void say(const std::string& msg) const {
        if (log != nullptr && *log) (*log)(msg);
    }
    ~LoadedPlugin() {
        if (handle != nullptr) dlclose(handle);
    }
};

namespace {

std::atomic<std::uint64_t> g_failures{0};

LoadedPlugin* self(void* host) { return static_cast<LoadedPlugin*>(host); }

std::string text(const char* s) { return s != nullptr ? s : ""; }

// Every struct a plugin hands over starts with struct_size; fields of ABI 1.0 must be there.
template <class T>
bool complete(const T* p) {
    return p != nullptr && p->struct_size >= sizeof(T);
}

int refuse(LoadedPlugin* p, const std::string& why) {
    p->last_error = why;
    return ONEGRID_INVALID;
}

int cb_set_info(void* host, const onegrid_plugin_info* info) {
    LoadedPlugin* p = self(host);
    if (!complete(info)) return refuse(p, "set_info: the info struct is missing or too small");
    if (text(info->id).empty()) return refuse(p, "set_info: the plugin id is empty");
    if (text(info->department_code).empty()) return refuse(p, "set_info: the department code is empty");
    p->id = info->id;
    p->department = info->department_code;
    p->department_name = text(info->department_name);
    p->version = text(info->version);
    p->info_set = true;
    return ONEGRID_OK;
}

int cb_add_layer(void* host, const onegrid_layer_decl* decl) {
    LoadedPlugin* p = self(host);
    if (!complete(decl)) return refuse(p, "add_layer: the layer struct is missing or too small");
    const std::string id = text(decl->id);
    if (id.empty()) return refuse(p, "add_layer: the layer id is empty");
    for (const auto& l : p->layers)
        if (l.info.id == id) return refuse(p, "add_layer: layer '" + id + "' is declared twice");
    PluginLayer layer;
    layer.info = {id, LayerKind::business, text(decl->title), p->department, p->id};
    for (std::uint32_t i = 0; i < decl->attribute_count && decl->attributes != nullptr; ++i)
        layer.attributes.push_back(text(decl->attributes[i]));
    if (decl->source != nullptr) {
        const fs::path source = fs::path(p->dir) / decl->source;
        try {
            spatial::ReadOptions ro;
            ro.id_field = decl->id_field != nullptr ? decl->id_field : "code";
            ro.layer = text(decl->source_layer);
            const auto read = spatial::read_polygon_layer(source.string(), ro);
            const std::string name_field = decl->name_field != nullptr ? decl->name_field : "name";
            for (const auto& f : read.features) {
                LayerFeature lf;
                lf.code = f.id;
                lf.name = std::string(read.value(f, name_field));
                for (std::size_t k = 0; k < read.fields.size(); ++k) {
                    if (read.fields[k] != ro.id_field && read.fields[k] != name_field && !f.values[k].empty())
                        lf.properties[read.fields[k]] = f.values[k];
                }
                lf.geometry = f.geometry;
                p->names[id][lf.code] = lf.name;
                layer.features.push_back(std::move(lf));
            }
        } catch (const std::exception& e) {
            return refuse(p, "add_layer '" + id + "': " + e.what());
        }
    }
    p->layers.push_back(std::move(layer));
    return ONEGRID_OK;
}

int cb_add_feature(void* host, const char* layer_id, const onegrid_feature* f) {
    LoadedPlugin* p = self(host);
    if (!complete(f)) return refuse(p, "add_feature: the feature struct is missing or too small");
    auto it = std::find_if(p->layers.begin(), p->layers.end(), [&](const PluginLayer& l) { return l.info.id == text(layer_id); });
    if (it == p->layers.end()) return refuse(p, "add_feature: no layer '" + text(layer_id) + "' (declare it first)");
    if (text(f->code).empty()) return refuse(p, "add_feature: a feature of '" + text(layer_id) + "' has no code");
    spatial::GeosContext ctx;
    GEOSWKTReader* reader = GEOSWKTReader_create_r(ctx.handle());
    GEOSGeometry* g = GEOSWKTReader_read_r(ctx.handle(), reader, text(f->wkt).c_str());
    GEOSWKTReader_destroy_r(ctx.handle(), reader);
    if (g == nullptr) return refuse(p, "add_feature '" + text(f->code) + "': not a WKT geometry: " + ctx.last_error());
    spatial::GeosGeometryPtr owned(g, spatial::GeosGeometryDeleter{ctx.handle()});
    LayerFeature lf;
    lf.code = f->code;
    lf.name = text(f->name);
    lf.geometry = spatial::from_geos(ctx, g);
    if (lf.geometry.empty()) return refuse(p, "add_feature '" + lf.code + "': the geometry has no polygon");
    const std::string reason = spatial::invalid_reason(ctx, g);
    if (!reason.empty()) return refuse(p, "add_feature '" + lf.code + "': invalid polygon: " + reason);
    for (std::uint32_t k = 0; k < f->attribute_count && f->keys != nullptr && f->values != nullptr; ++k)
        lf.properties[text(f->keys[k])] = text(f->values[k]);
    p->names[it->info.id][lf.code] = lf.name;
    it->features.push_back(std::move(lf));
    return ONEGRID_OK;
}

int cb_add_category(void* host, const onegrid_category_decl* c) {
    LoadedPlugin* p = self(host);
    if (!complete(c)) return refuse(p, "add_category: the category struct is missing or too small");
    const std::string code = text(c->code);
    if (code.size() != 4 || code.find_first_not_of("0123456789") != std::string::npos) {
        return refuse(p, "add_category: code '" + code + "' is not 4 digits");
    }
    if (!(c->time_limit > 0)) return refuse(p, "add_category '" + code + "': the time limit must be positive");
    Category cat;
    cat.code = code;
    cat.name = text(c->name);
    cat.major_class = text(c->major_class);
    cat.kind = "social";
    cat.limit = c->time_limit;
    cat.limit_unit = c->limit_in_workdays != 0 ? LimitUnit::workdays : LimitUnit::hours;
    cat.plugin = p->id;
    p->categories.push_back(std::move(cat));
    return ONEGRID_OK;
}

int cb_set_routing(void* host, onegrid_route_fn fn, void* user) {
    LoadedPlugin* p = self(host);
    if (fn == nullptr) return refuse(p, "set_routing: no function");
    p->route = fn;
    p->route_user = user;
    return ONEGRID_OK;
}

int cb_set_hooks(void* host, const onegrid_lifecycle_hooks* hooks) {
    LoadedPlugin* p = self(host);
    if (!complete(hooks)) return refuse(p, "set_hooks: the hooks struct is missing or too small");
    p->hooks = *hooks;
    return ONEGRID_OK;
}

const char* cb_unit_name(void* host, const char* layer_id, const char* code) {
    LoadedPlugin* p = self(host);
    auto l = p->names.find(text(layer_id));
    if (l == p->names.end()) return nullptr;
    auto c = l->second.find(text(code));
    return c == l->second.end() ? nullptr : c->second.c_str();
}

const char* cb_plugin_dir(void* host) { return self(host)->dir.c_str(); }

void cb_log(void* host, int level, const char* message) {
    static const char* names[] = {"debug", "info", "warning", "error"};
    const char* lv = level >= 0 && level <= 3 ? names[level] : "info";
    self(host)->say("plugin " + self(host)->name + " [" + lv + "]: " + text(message));
}

void cb_set_error(void* host, const char* message) { self(host)->last_error = text(message); }

// The incident as a routing callback sees it; the strings live in `incident` during the call.
struct View {
    onegrid_incident_view view{};
    std::array<onegrid_business_grid, 32> business{};
    explicit View(const Incident& i) {
        view.struct_size = sizeof(onegrid_incident_view);
        view.id = i.id;
        view.category = i.category.c_str();
        view.description = i.description.c_str();
        view.lon = i.location.x;
        view.lat = i.location.y;
        view.grid = i.grid.c_str();
        view.community = i.community.c_str();
        view.town = i.town.c_str();
        view.department = i.department.c_str();
        view.sub_unit = i.sub_unit.c_str();
        view.status = to_string(i.status).data();  // the names are static and NUL-terminated
        std::size_t n = 0;
        for (const auto& b : i.business) {
            if (n == business.size()) break;
            business[n++] = {b.layer.c_str(), b.code.c_str()};
        }
        view.business = business.data();
        view.business_count = static_cast<std::uint32_t>(n);
    }
};

class PluginRouting final : public RoutingHook {
public:
    explicit PluginRouting(std::shared_ptr<LoadedPlugin> p) : m_p(std::move(p)) {}
    [[nodiscard]] std::string name() const override { return m_p->id; }

    std::optional<RouteDecision> route(const Incident& incident, std::string& error) override {
        const View v(incident);
        onegrid_route_result out{};
        out.struct_size = sizeof out;
        onegrid_error err{};
        err.struct_size = sizeof err;
        int rc = ONEGRID_ERROR;
        try {
            rc = m_p->route(m_p->route_user, &v.view, &out, &err);
        } catch (const std::exception& e) {
            // Plugins must not throw across the C boundary; if one does anyway, it is contained.
            std::snprintf(err.message, sizeof err.message, "threw: %s", e.what());
            rc = ONEGRID_ERROR;
        } catch (...) {
            std::snprintf(err.message, sizeof err.message, "threw an unknown exception");
            rc = ONEGRID_ERROR;
        }
        if (rc < 0) {
            err.message[sizeof err.message - 1] = '\0';
            error = "plugin " + m_p->id + ": routing failed: " + err.message;
            g_failures.fetch_add(1);
            m_p->say(error + " (the rules table decides)");
            return std::nullopt;
        }
        if (rc != ONEGRID_ROUTE_ACCEPT) return std::nullopt;
        out.department[sizeof out.department - 1] = '\0';
        out.sub_unit[sizeof out.sub_unit - 1] = '\0';
        if (out.department[0] == '\0') {
            error = "plugin " + m_p->id + ": accepted without naming a department";
            g_failures.fetch_add(1);
            m_p->say(error);
            return std::nullopt;
        }
        return RouteDecision{out.department, out.sub_unit, "plugin:" + m_p->id};
    }

private:
    std::shared_ptr<LoadedPlugin> m_p;
};

std::string content_hash(const PluginLayer& l) {
    std::string text;
    for (const auto& f : l.features) {
        text += f.code + '\x1f' + f.name + '\x1f' + spatial::to_wkt(f.geometry) + '\x1e';
        for (const auto& [k, v] : f.properties) text += k + '=' + v + '\x1f';
    }
    return sha256_hex(text);
}

}  // namespace

PluginAbi host_plugin_abi() noexcept { return {ONEGRID_PLUGIN_ABI_MAJOR, ONEGRID_PLUGIN_ABI_MINOR}; }

PluginHost::PluginHost(Logger log) : m_log(std::move(log)) {
    if (!m_log) m_log = [](const std::string& m) { std::cerr << m << "\n"; };
}

PluginHost::~PluginHost() = default;

std::vector<PluginReport> PluginHost::load(const fs::path& dir, const std::vector<std::string>& allow) {
    std::vector<PluginReport> reports;
    for (const std::string& name : allow) {
        PluginReport r;
        r.name = name;
        r.file = dir / (name + ".so");
        auto fail = [&](const std::string& why) {
            r.error = why;
            m_log("plugin " + name + " not loaded: " + why);
            reports.push_back(r);
        };
        if (name.empty() || name.find('/') != std::string::npos || name.find("..") != std::string::npos) {
            fail("not a plugin name (a file name without directories)");
            continue;
        }
        if (!fs::exists(r.file)) {
            fail("no file " + r.file.string());
            continue;
        }
        auto p = std::make_shared<LoadedPlugin>();
        p->name = name;
        p->file = r.file;
        p->dir = fs::absolute(dir).string();
        p->log = &m_log;
        dlerror();
        p->handle = dlopen(r.file.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (p->handle == nullptr) {
            const char* e = dlerror();
            fail(std::string("cannot load: ") + (e != nullptr ? e : "dlopen failed"));
            continue;
        }
        // Magic and ABI first: nothing else in the library runs before this check passes.
        auto abi_fn = reinterpret_cast<onegrid_plugin_magic_fn>(dlsym(p->handle, "onegrid_plugin_abi"));
        if (abi_fn == nullptr) {
            fail("not a OneGrid plugin: it exports no onegrid_plugin_abi()");
            continue;
        }
        const onegrid_plugin_magic* magic = abi_fn();
        if (magic == nullptr || magic->struct_size < sizeof(onegrid_plugin_magic) || magic->magic != ONEGRID_PLUGIN_MAGIC_VALUE) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "0x%08X", magic != nullptr ? magic->magic : 0u);
            fail(std::string("wrong magic ") + buf + " (expected 0x4F4E4547): not a OneGrid plugin");
            continue;
        }
        if (magic->abi_major != ONEGRID_PLUGIN_ABI_MAJOR) {
            fail("built for plugin ABI " + std::to_string(magic->abi_major) + "." + std::to_string(magic->abi_minor) +
                 "; this OneGrid speaks ABI " + std::to_string(ONEGRID_PLUGIN_ABI_MAJOR) + "." +
                 std::to_string(ONEGRID_PLUGIN_ABI_MINOR) + " (rebuild the plugin with this SDK)");
            continue;
        }
        if (magic->abi_minor > ONEGRID_PLUGIN_ABI_MINOR) {
            fail("built for a newer plugin ABI " + std::to_string(magic->abi_major) + "." + std::to_string(magic->abi_minor) +
                 " than this OneGrid speaks (" + std::to_string(ONEGRID_PLUGIN_ABI_MAJOR) + "." +
                 std::to_string(ONEGRID_PLUGIN_ABI_MINOR) + "); upgrade OneGrid or build with an older SDK");
            continue;
        }
        auto init = reinterpret_cast<onegrid_plugin_init_fn>(dlsym(p->handle, "onegrid_plugin_init"));
        if (init == nullptr) {
            fail("it exports no onegrid_plugin_init()");
            continue;
        }
        p->api = onegrid_host_api{sizeof(onegrid_host_api), ONEGRID_PLUGIN_ABI_MAJOR, ONEGRID_PLUGIN_ABI_MINOR, p.get(),
                                  cb_set_info, cb_add_layer, cb_add_feature, cb_add_category, cb_set_routing, cb_set_hooks,
                                  cb_unit_name, cb_plugin_dir, cb_log, cb_set_error};
        int rc = ONEGRID_ERROR;
        try {
            rc = init(&p->api);
        } catch (const std::exception& e) {
            p->last_error = std::string("init threw: ") + e.what();
        } catch (...) {
            p->last_error = "init threw an unknown exception";
        }
        r.id = p->id;
        if (rc != ONEGRID_OK) {
            fail("init failed (code " + std::to_string(rc) + ")" + (p->last_error.empty() ? "" : ": " + p->last_error));
            continue;
        }
        if (!p->info_set) {
            fail("init did not register the plugin's info (set_info)");
            continue;
        }
        bool duplicate = false;
        for (const auto& other : m_plugins) duplicate = duplicate || other->id == p->id;
        if (duplicate) {
            fail("another plugin already has the id '" + p->id + "'");
            continue;
        }
        r.loaded = true;
        m_log("plugin " + name + " loaded: " + p->id + " " + p->version + " for " + p->department + " (" +
              std::to_string(p->layers.size()) + " layer(s), " + std::to_string(p->categories.size()) + " categories)");
        m_plugins.push_back(std::move(p));
        reports.push_back(r);
    }
    return reports;
}

std::vector<PluginHost::Info> PluginHost::plugins() const {
    std::vector<Info> out;
    for (const auto& p : m_plugins) {
        out.push_back({p->id, p->department, p->department_name, p->version, p->file, p->layers, p->categories,
                       p->route != nullptr});
    }
    return out;
}

std::vector<std::shared_ptr<RoutingHook>> PluginHost::routing_hooks() {
    std::vector<std::shared_ptr<RoutingHook>> out;
    for (const auto& p : m_plugins)
        if (p->route != nullptr) out.push_back(std::make_shared<PluginRouting>(p));
    return out;
}

void PluginHost::notify(const Incident& incident, std::string_view event) {
    for (const auto& p : m_plugins) {
        const onegrid_incident_hook_fn fn = event == "dispatched" ? p->hooks.on_dispatched
                                            : event == "closed"   ? p->hooks.on_closed
                                                                  : nullptr;
        if (fn == nullptr) continue;
        const View v(incident);
        onegrid_error err{};
        err.struct_size = sizeof err;
        int rc = ONEGRID_ERROR;
        try {
            rc = fn(p->hooks.user, &v.view, &err);
        } catch (...) {
            std::snprintf(err.message, sizeof err.message, "threw an exception");
        }
        if (rc < 0) {
            err.message[sizeof err.message - 1] = '\0';
            g_failures.fetch_add(1);
            m_log("plugin " + p->id + ": " + std::string(event) + " hook failed: " + err.message);
        }
    }
}

void PluginHost::sync_to_store(Store& store, Timestamp now) {
    for (const auto& p : m_plugins) {
        store.put_department({p->department, p->department_name.empty() ? p->department : p->department_name, p->id});
        for (const auto& c : p->categories) store.put_category(c);
        for (const auto& l : p->layers) {
            store.put_layer(l.info);
            const std::string note = "plugin " + p->id + " " + p->version + " content:" + content_hash(l);
            const auto versions = store.versions(l.info.id);
            if (!versions.empty() && versions.back().note == note) continue;
            if (l.features.empty()) continue;
            store.publish_version(l.info.id, l.features, now, note);
            m_log("plugin " + p->id + ": published layer " + l.info.id + " (" + std::to_string(l.features.size()) + " units)");
        }
    }
}

std::uint64_t PluginHost::callback_failures() const noexcept { return g_failures.load(); }

}  // namespace onegrid::core
