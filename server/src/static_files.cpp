// The web pages and the front-end packages they use, served from configured directories. Paths
// are resolved under their root and refused when they leave it (by "..", symbolic links or
// anything else); only regular files are served.

#include <fstream>
#include <mutex>
#include <sstream>
#include <system_error>

#include "app_internal.hpp"

namespace onegrid::server {

namespace {

std::string_view content_type(const std::filesystem::path& p) {
    const std::string ext = p.extension().string();
    if (ext == ".html") return "text/html; charset=utf-8";
    if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
    if (ext == ".css") return "text/css; charset=utf-8";
    if (ext == ".json") return "application/json";
    if (ext == ".svg") return "image/svg+xml";
    if (ext == ".png") return "image/png";
    if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
    if (ext == ".woff2") return "font/woff2";
    if (ext == ".pbf") return "application/x-protobuf";
    if (ext == ".map") return "application/json";
    return "application/octet-stream";
}

struct CachedFile {
    std::filesystem::file_time_type mtime;
    std::shared_ptr<const std::string> bytes;
    std::string etag;
};

std::mutex g_files_mutex;
std::map<std::string, CachedFile> g_files;

/// The file under `root` named by `rel` (segments), or nullopt when it is outside or not a file.
std::optional<std::filesystem::path> resolve(const std::filesystem::path& root, const std::vector<std::string>& rel) {
    if (root.empty()) return std::nullopt;
    std::error_code ec;
    const auto base = std::filesystem::canonical(root, ec);
    if (ec) return std::nullopt;
    std::filesystem::path p = base;
    for (const auto& s : rel) {
        if (s.empty() || s == "." || s == ".." || s.find('/') != std::string::npos || s.find('\\') != std::string::npos ||
            s.find('\0') != std::string::npos)
            return std::nullopt;
        p /= s;
    }
    if (std::filesystem::is_directory(p, ec)) p /= "index.html";
    const auto real = std::filesystem::canonical(p, ec);
    if (ec) return std::nullopt;
    // The resolved file must still lie under the root (symbolic links could point elsewhere).
    const auto r = real.lexically_relative(base);
    if (r.empty() || *r.begin() == "..") return std::nullopt;
    if (!std::filesystem::is_regular_file(real, ec)) return std::nullopt;
    return real;
}

std::optional<Reply> serve_file(const Call& call, const std::filesystem::path& file) {
    std::error_code ec;
    const auto mtime = std::filesystem::last_write_time(file, ec);
    if (ec) return std::nullopt;
    CachedFile f;
    {
        std::lock_guard lock(g_files_mutex);
        auto it = g_files.find(file.string());
        if (it != g_files.end() && it->second.mtime == mtime) f = it->second;
    }
    if (!f.bytes) {
        std::ifstream in(file, std::ios::binary);
        if (!in) return std::nullopt;
        std::ostringstream ss;
        ss << in.rdbuf();
        f.mtime = mtime;
        f.bytes = std::make_shared<const std::string>(ss.str());
        f.etag = etag_of(*f.bytes);
        std::lock_guard lock(g_files_mutex);
        g_files[file.string()] = f;
    }
    if (const auto inm = call.req.find(http::field::if_none_match); inm != call.req.end()) {
        if (etag_matches(std::string_view(inm->value().data(), inm->value().size()), f.etag)) {
            Reply r;
            r.status = http::status::not_modified;
            r.header("ETag", f.etag);
            return r;
        }
    }
    Reply r;
    r.status = http::status::ok;
    r.header("Content-Type", std::string(content_type(file)));
    r.header("ETag", f.etag);
    r.header("Cache-Control", "no-cache");
    r.header("X-Content-Type-Options", "nosniff");
    r.body = f.bytes;
    return r;
}

}  // namespace

std::optional<Reply> static_service(App::Context& ctx, Call& call) {
    if (call.parts.empty()) return std::nullopt;
    const std::string& first = call.parts[0];
    std::filesystem::path root;
    std::vector<std::string> rel;
    if (first == "planner" || first == "dashboard") {
        root = ctx.config.web_root;
        rel = call.parts;
        // "/planner" → "/planner/" so relative links in the page resolve.
        if (call.parts.size() == 1 && !call.target.path.ends_with("/")) {
            Reply r(http::status::moved_permanently, "text/plain", "");
            r.header("Location", "/" + first + "/");
            return r;
        }
    } else if (first == "web") {
        root = ctx.config.web_root;
        rel.assign(call.parts.begin() + 1, call.parts.end());
    } else if (first == "vendor") {
        root = ctx.config.vendor_root;
        rel.assign(call.parts.begin() + 1, call.parts.end());
    } else {
        return std::nullopt;
    }
    if (call.req.method() != http::verb::get && call.req.method() != http::verb::head)
        return error_reply(http::status::method_not_allowed, "method_not_allowed", "static files are read with GET");
    const auto file = resolve(root, rel);
    if (!file) return error_reply(http::status::not_found, "not_found", "no file at " + call.target.path);
    if (auto r = serve_file(call, *file)) return r;
    return error_reply(http::status::not_found, "not_found", "no file at " + call.target.path);
}

}  // namespace onegrid::server
