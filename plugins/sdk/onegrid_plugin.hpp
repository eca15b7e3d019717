// onegrid_plugin.hpp - an optional header-only C++ helper over onegrid_plugin.h.
//
// It turns exceptions into error codes at the boundary (nothing may be thrown into the host),
// copies strings into the fixed buffers of the C structs, and lets a C++ callable be the routing
// callback. The ABI itself stays the C header: plugins built with this helper are ordinary C-ABI
// libraries.
#ifndef ONEGRID_PLUGIN_HPP
#define ONEGRID_PLUGIN_HPP

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "onegrid_plugin.h"

namespace onegrid::plugin {

/// Copies `s` into a fixed C buffer, truncating at a UTF-8 character boundary.
inline void copy_text(char* dst, std::size_t size, std::string_view s) {
    std::size_t n = std::min(s.size(), size - 1);
    while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    std::memcpy(dst, s.data(), n);
    dst[n] = '\0';
}

/// Runs `fn`; any exception becomes ONEGRID_ERROR with its message in `error`.
template <class Fn>
int guarded(onegrid_error* error, Fn&& fn) noexcept {
    try {
        return fn();
    } catch (const std::exception& e) {
        if (error != nullptr) copy_text(error->message, sizeof error->message, e.what());
    } catch (...) {
        if (error != nullptr) copy_text(error->message, sizeof error->message, "unknown exception");
    }
    return ONEGRID_ERROR;
}

/// A view of the incident the host passed to a callback.
struct Incident {
    const onegrid_incident_view* view;
    [[nodiscard]] std::string_view category() const { return view->category; }
    /// The incident's unit in a business layer, or empty.
    [[nodiscard]] std::string_view business(std::string_view layer) const {
        for (std::uint32_t i = 0; i < view->business_count; ++i)
            if (layer == view->business[i].layer) return view->business[i].code;
        return {};
    }
};

struct Route {
    std::string department;
    std::string sub_unit;
};

/// Registration from onegrid_plugin_init, with C++ types.
class Host {
public:
    explicit Host(const onegrid_host_api* api) : m_api(api) {}

    void info(const char* id, const char* department_code, const char* department_name, const char* version) const {
        onegrid_plugin_info i{sizeof(onegrid_plugin_info), id, department_code, department_name, version};
        check(m_api->set_info(m_api->host, &i), "set_info");
    }
    void layer_from_file(const char* id, const char* title, const char* source, const char* source_layer = nullptr,
                         const char* id_field = "code", const char* name_field = "name") const {
        onegrid_layer_decl l{sizeof(onegrid_layer_decl), id, title, source, source_layer, id_field, name_field, nullptr, 0};
        check(m_api->add_layer(m_api->host, &l), "add_layer");
    }
    void category(const char* code, const char* name, const char* major_class, double limit, bool workdays) const {
        onegrid_category_decl c{sizeof(onegrid_category_decl), code, name, major_class, limit, workdays ? 1 : 0};
        check(m_api->add_category(m_api->host, &c), "add_category");
    }
    [[nodiscard]] std::string unit_name(const char* layer, std::string_view code) const {
        const std::string c(code);
        const char* n = m_api->unit_name(m_api->host, layer, c.c_str());
        return n != nullptr ? n : c;
    }
    void log(int level, const std::string& message) const { m_api->log(m_api->host, level, message.c_str()); }
    [[nodiscard]] const onegrid_host_api* api() const { return m_api; }

private:
    void check(int rc, const char* what) const {
        if (rc != ONEGRID_OK) throw std::runtime_error(std::string("the host refused ") + what);
    }
    const onegrid_host_api* m_api;
};

/// Adapts a C++ routing function `std::optional<Route>(const Incident&)` to the C callback.
/// The function object must outlive the plugin (a static).
template <class Fn>
int route_trampoline(void* user, const onegrid_incident_view* incident, onegrid_route_result* out, onegrid_error* error) {
    return guarded(error, [&] {
        const std::optional<Route> r = (*static_cast<Fn*>(user))(Incident{incident});
        if (!r) return ONEGRID_ROUTE_DECLINE;
        copy_text(out->department, sizeof out->department, r->department);
        copy_text(out->sub_unit, sizeof out->sub_unit, r->sub_unit);
        return ONEGRID_ROUTE_ACCEPT;
    });
}

template <class Fn>
void set_routing(const onegrid_host_api* api, Fn& fn) {
    if (api->set_routing(api->host, &route_trampoline<Fn>, &fn) != ONEGRID_OK) {
        throw std::runtime_error("the host refused the routing callback");
    }
}

/// Runs a plugin's init body; an exception becomes an error reported to the host.
template <class Fn>
int init(const onegrid_host_api* api, Fn&& body) noexcept {
    try {
        body(Host(api));
        return ONEGRID_OK;
    } catch (const std::exception& e) {
        api->set_error(api->host, e.what());
    } catch (...) {
        api->set_error(api->host, "unknown exception in plugin init");
    }
    return ONEGRID_ERROR;
}

}  // namespace onegrid::plugin

/// Defines onegrid_plugin_abi(); use once per plugin.
#define ONEGRID_PLUGIN_DEFINE_ABI()                                                  \
    extern "C" ONEGRID_PLUGIN_EXPORT const onegrid_plugin_magic* onegrid_plugin_abi(void) { \
        static const onegrid_plugin_magic magic = ONEGRID_PLUGIN_MAGIC_INIT;          \
        return &magic;                                                              \
    }

#endif  // ONEGRID_PLUGIN_HPP
